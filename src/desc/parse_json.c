/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parser's first step: the JSON text. json-c parses it; a second, strict
 * pass over the text refuses what RFC 8259 refuses but json-c lets through
 * (single-quoted strings, NaN, leading zeros, raw control characters,
 * integers that saturate) and reports every duplicate key, which json-c
 * would silently replace.
 */
#include "parser.h"
#include "ward/desc/json_strict.h"

#include <stdlib.h>
#include <string.h>

static void text_pos(const char *text, size_t off, unsigned *line, unsigned *col)
{
        unsigned l = 1, c = 1;
        for (size_t i = 0; i < off; i++) {
                if (text[i] == '\n') {
                        l++;
                        c = 1;
                } else {
                        c++;
                }
        }
        *line = l;
        *col = c;
}

static void syntax_error(struct ward_sys_errors *errs, const char *text, size_t off,
                         const char *what, const char *tok, size_t toklen)
{
        unsigned line, col;
        text_pos(text, off, &line, &col);
        if (tok)
                ward_sys_error_add(errs, "/", "JSON syntax error at line %u, column %u: %s: %.*s%s",
                                   line, col, what, (int)(toklen > 32 ? 32 : toklen), tok,
                                   toklen > 32 ? "..." : "");
        else
                ward_sys_error_add(errs, "/", "JSON syntax error at line %u, column %u: %s", line,
                                   col, what);
}

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* RFC 8259's number grammar; *is_int when there is no fraction or exponent. */
static bool number_ok(const char *s, size_t n, bool *is_int)
{
        size_t i = 0;
        if (i < n && s[i] == '-')
                i++;
        if (i < n && s[i] == '0') {
                i++;
        } else if (i < n && s[i] >= '1' && s[i] <= '9') {
                while (i < n && is_digit(s[i]))
                        i++;
        } else {
                return false;
        }
        *is_int = true;
        if (i < n && s[i] == '.') {
                i++;
                if (i == n || !is_digit(s[i]))
                        return false;
                while (i < n && is_digit(s[i]))
                        i++;
                *is_int = false;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                if (i == n || !is_digit(s[i]))
                        return false;
                while (i < n && is_digit(s[i]))
                        i++;
                *is_int = false;
        }
        return i == n;
}

/* An integer that json-c would store saturated. */
static bool int_out_of_range(const char *s, size_t n)
{
        const char *lim = "18446744073709551615"; /* UINT64_MAX */
        if (*s == '-') {
                s++;
                n--;
                lim = "9223372036854775808"; /* -INT64_MIN */
        }
        size_t ln = strlen(lim);
        return n > ln || (n == ln && memcmp(s, lim, n) > 0);
}

struct frame {
        bool obj;
        bool expect_key;
        size_t idx;
        size_t base; /* path length at the container */
        struct json_object *keys;
};

#define MAX_DEPTH 64

/* The key at text[a..b) (quotes included), decoded; NULL when out of memory. */
static char *decode_key(const char *text, size_t a, size_t b)
{
        if (!memchr(text + a, '\\', b - a)) {
                char *k = malloc(b - a - 1);
                if (k) {
                        memcpy(k, text + a + 1, b - a - 2);
                        k[b - a - 2] = '\0';
                }
                return k;
        }
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return NULL;
        struct json_object *o = json_tokener_parse_ex(tok, text + a, (int)(b - a));
        json_tokener_free(tok);
        char *k = o && json_object_is_type(o, json_type_string) ? strdup(json_object_get_string(o))
                                                                : NULL;
        json_object_put(o);
        return k;
}

/* The strict pass's state: the open containers and the path of the last key. */
struct scan {
        const char *text;
        size_t len;
        struct ward_sys_errors *errs;
        struct frame st[MAX_DEPTH];
        int depth;
        char path[PATH_LEN];
        size_t plen;
        bool ok;
};

static struct frame *scan_top(struct scan *s)
{
        return s->depth ? &s->st[s->depth - 1] : NULL;
}

/* An object's key at text[a..b) (quotes included): reported when it is a duplicate. */
static void scan_key(struct scan *s, struct frame *top, size_t a, size_t b)
{
        char *key = decode_key(s->text, a, b);
        if (!key) {
                s->errs->oom = true;
                s->ok = false;
                return;
        }
        s->plen = ward_sys_path_key(s->path, sizeof(s->path), top->base, key);
        if (json_object_object_get_ex(top->keys, key, NULL))
                ward_sys_error_add(s->errs, s->path,
                                   "duplicate key (each name may appear once in an object)");
        else
                json_object_object_add(top->keys, key, NULL);
        free(key);
}

/* A string starting at i; returns where the scan goes on. */
static size_t scan_string(struct scan *s, size_t i)
{
        const char *text = s->text;
        struct frame *top = scan_top(s);
        size_t j = i + 1;
        while (j < s->len && text[j] != '"') {
                if ((unsigned char)text[j] < 0x20) {
                        syntax_error(s->errs, text, j,
                                     "control character in a string (write it as \\u00XX)", NULL,
                                     0);
                        s->ok = false;
                        return j;
                }
                j += text[j] == '\\' ? 2 : 1;
        }
        if (top && top->obj && top->expect_key) {
                top->expect_key = false;
                scan_key(s, top, i, j + 1);
        }
        return j + 1;
}

/* '{' or '[' at i. */
static void scan_open(struct scan *s, char c, size_t i)
{
        struct frame *top = scan_top(s);
        if (s->depth == MAX_DEPTH) {
                syntax_error(s->errs, s->text, i, "nested too deeply", NULL, 0);
                s->ok = false;
                return;
        }
        if (top && !top->obj) {
                s->plen = top->base;
                s->path[s->plen] = '\0';
                s->plen += (size_t)snprintf(s->path + s->plen, sizeof(s->path) - s->plen, "/%zu",
                                            top->idx);
                if (s->plen >= sizeof(s->path))
                        s->plen = sizeof(s->path) - 1;
        }
        struct frame *f = &s->st[s->depth++];
        *f = (struct frame){.obj = c == '{', .expect_key = c == '{', .base = s->plen};
        if (f->obj && !(f->keys = json_object_new_object())) {
                s->errs->oom = true;
                s->depth--;
                s->ok = false;
        }
}

/* '}' or ']'. */
static void scan_close(struct scan *s)
{
        struct frame *top = scan_top(s);
        if (top) {
                json_object_put(top->keys);
                s->plen = top->base;
                s->path[s->plen] = '\0';
                s->depth--;
        }
}

static void scan_comma(struct scan *s)
{
        struct frame *top = scan_top(s);
        if (top && top->obj)
                top->expect_key = true;
        else if (top)
                top->idx++;
}

/* A number, true, false or null at i; returns where it ends. */
static size_t scan_value(struct scan *s, size_t i)
{
        const char *text = s->text;
        char c = text[i];
        size_t j = i;
        while (j < s->len && !is_ws(text[j]) && !strchr(",:]}", text[j]))
                j++;
        size_t n = j - i;
        bool is_int = false;
        if (c == '-' || is_digit(c)) {
                if (!number_ok(text + i, n, &is_int)) {
                        syntax_error(s->errs, text, i, "not a JSON number", text + i, n);
                        s->ok = false;
                } else if (is_int && int_out_of_range(text + i, n)) {
                        syntax_error(s->errs, text, i, "integer out of range", text + i, n);
                        s->ok = false;
                }
        } else if (!((n == 4 && !memcmp(text + i, "true", 4)) ||
                     (n == 5 && !memcmp(text + i, "false", 5)) ||
                     (n == 4 && !memcmp(text + i, "null", 4)))) {
                syntax_error(s->errs, text, i, "not a JSON value", text + i, n);
                s->ok = false;
        }
        return j;
}

/*
 * Runs over text that json-c accepted. Returns false after reporting a
 * syntax error (RFC 8259 refuses what json-c let through); reports each
 * duplicate key and goes on.
 */
static bool strict_scan(const char *text, size_t len, struct ward_sys_errors *errs)
{
        struct scan s = {.text = text, .len = len, .errs = errs, .ok = true};
        size_t i = 0;
        while (i < len && s.ok) {
                char c = text[i];
                if (is_ws(c) || c == ':') {
                        i++;
                } else if (c == '"') {
                        i = scan_string(&s, i);
                } else if (c == '{' || c == '[') {
                        scan_open(&s, c, i);
                        i++;
                } else if (c == '}' || c == ']') {
                        scan_close(&s);
                        i++;
                } else if (c == ',') {
                        scan_comma(&s);
                        i++;
                } else if (c == '\'') {
                        syntax_error(errs, text, i, "single-quoted strings are not JSON", NULL, 0);
                        s.ok = false;
                } else {
                        i = scan_value(&s, i);
                }
        }
        while (s.depth > 0)
                json_object_put(s.st[--s.depth].keys);
        return s.ok;
}

struct json_object *ward_sysp_json_parse(const char *text, size_t len, struct ward_sys_errors *errs)
{
        if (len > WARD_SYS_MAX_FILE) {
                ward_sys_error_add(errs, "/", "%zu bytes, more than a description may have (%uK)",
                                   len, WARD_SYS_MAX_FILE >> 10);
                return NULL;
        }
        const char *nul = memchr(text, '\0', len);
        if (nul) {
                syntax_error(errs, text, (size_t)(nul - text), "NUL byte", NULL, 0);
                return NULL;
        }
        size_t first = 0;
        while (first < len && is_ws(text[first]))
                first++;
        if (first == len || text[first] != '{') {
                syntax_error(errs, text, first,
                             first == len ? "empty document"
                                          : "the document must be a JSON object ({...})",
                             NULL, 0);
                return NULL;
        }
        enum json_tokener_error jerr;
        size_t end;
        bool oom;
        struct json_object *root = ward_json_parse_strict(text, len, &jerr, &end, &oom);
        if (oom) {
                errs->oom = true;
                return NULL;
        }
        if (!root || jerr != json_tokener_success) {
                json_object_put(root);
                if (jerr == json_tokener_continue)
                        syntax_error(errs, text, len, "unexpected end of the document", NULL, 0);
                else
                        syntax_error(errs, text, end < len ? end : len,
                                     json_tokener_error_desc(jerr), NULL, 0);
                return NULL;
        }
        for (size_t i = end; i < len; i++) {
                if (!is_ws(text[i])) {
                        json_object_put(root);
                        syntax_error(errs, text, i, "text after the JSON object", NULL, 0);
                        return NULL;
                }
        }
        if (!strict_scan(text, end, errs)) {
                json_object_put(root);
                return NULL;
        }
        return root;
}

struct json_object *ward_json_parse_strict(const char *text, size_t len,
                                           enum json_tokener_error *jerr, size_t *end, bool *oom)
{
        *jerr = json_tokener_success;
        *end = 0;
        *oom = false;
        struct json_tokener *tok = json_tokener_new();
        if (!tok) {
                *oom = true;
                return NULL;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
        *jerr = json_tokener_get_error(tok);
        *end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        return root;
}
