/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description parser: JSON text to struct ward_sys_desc, with
 * Debian's json-c doing the parsing. json-c is lenient in places even in
 * strict mode (single-quoted strings, NaN, leading zeros, raw control
 * characters, duplicate keys that silently replace each other, integers
 * that saturate), so a second pass over the text (strict_scan) refuses what
 * RFC 8259 refuses and reports every duplicate key. Then the tree is walked
 * once: unknown fields, wrong types, malformed values and missing required
 * fields are reported with their path, and everything that parsed is filled
 * in, so that ward_sys_check() can look at the rest.
 */
#include "ward/desc/system_desc.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 512
#define KEY_SHOWN 64 /* longer keys are cut in paths */

/* ---- errors ---- */

static bool printable(unsigned char c)
{
        return c >= 0x20 && c < 0x7f;
}

/* A copy of s with every byte outside printable ASCII written as \xNN. */
static char *sanitize(const char *s)
{
        size_t n = 0;
        for (const unsigned char *q = (const unsigned char *)s; *q; q++)
                n += printable(*q) ? 1 : 4;
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        static const char hex[] = "0123456789abcdef";
        for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
                if (printable(*q)) {
                        *o++ = (char)*q;
                } else {
                        *o++ = '\\';
                        *o++ = 'x';
                        *o++ = hex[*q >> 4];
                        *o++ = hex[*q & 15];
                }
        }
        *o = '\0';
        return out;
}

void ward_sys_error_add(struct ward_sys_errors *e, const char *path, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (!msg) {
                e->oom = true;
                return;
        }
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
        if (e->n == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 16;
                struct ward_sys_error *v = realloc(e->v, cap * sizeof(*v));
                if (!v) {
                        free(msg);
                        e->oom = true;
                        return;
                }
                e->v = v;
                e->cap = cap;
        }
        struct ward_sys_error *er = &e->v[e->n];
        er->path = sanitize(path && *path ? path : "/");
        er->reason = sanitize(msg);
        free(msg);
        if (!er->path || !er->reason) {
                free(er->path);
                free(er->reason);
                e->oom = true;
                return;
        }
        e->n++;
}

void ward_sys_errors_free(struct ward_sys_errors *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->v[i].path);
                free(e->v[i].reason);
        }
        free(e->v);
        memset(e, 0, sizeof(*e));
}

void ward_sys_errors_print(const struct ward_sys_errors *e, const char *name, FILE *out)
{
        char *n = sanitize(name);
        for (size_t i = 0; i < e->n; i++)
                fprintf(out, "%s: %s: %s\n", n ? n : "?", e->v[i].path, e->v[i].reason);
        if (e->oom)
                fprintf(out, "%s: /: out of memory: some errors were not stored\n", n ? n : "?");
        free(n);
}

size_t ward_sys_path_key(char *buf, size_t size, size_t len, const char *key)
{
        if (size == 0 || len >= size)
                return len;
        char seg[2 * KEY_SHOWN + 8];
        size_t s = 0;
        seg[s++] = '/';
        size_t k = 0;
        for (; key[k] && k < KEY_SHOWN; k++) {
                if (key[k] == '~' || key[k] == '/') {
                        seg[s++] = '~';
                        seg[s++] = key[k] == '~' ? '0' : '1';
                } else {
                        seg[s++] = key[k];
                }
        }
        if (key[k]) {
                memcpy(seg + s, "...", 3);
                s += 3;
        }
        size_t room = size - 1 - len;
        if (s > room)
                s = room;
        memcpy(buf + len, seg, s);
        buf[len + s] = '\0';
        return len + s;
}

/* ---- the strict pass ---- */

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

/*
 * Runs over text that json-c accepted. Returns false after reporting a
 * syntax error (RFC 8259 refuses what json-c let through); reports each
 * duplicate key and goes on.
 */
static bool strict_scan(const char *text, size_t len, struct ward_sys_errors *errs)
{
        struct frame st[MAX_DEPTH];
        int depth = 0;
        char path[PATH_LEN] = "";
        size_t plen = 0;
        bool ok = true;
        size_t i = 0;
        while (i < len && ok) {
                char c = text[i];
                struct frame *top = depth ? &st[depth - 1] : NULL;
                if (is_ws(c) || c == ':') {
                        i++;
                } else if (c == '"') {
                        size_t j = i + 1;
                        while (j < len && text[j] != '"') {
                                if ((unsigned char)text[j] < 0x20) {
                                        syntax_error(errs, text, j,
                                                     "control character in a string (write it "
                                                     "as \\u00XX)",
                                                     NULL, 0);
                                        ok = false;
                                        break;
                                }
                                j += text[j] == '\\' ? 2 : 1;
                        }
                        if (!ok)
                                break;
                        if (top && top->obj && top->expect_key) {
                                top->expect_key = false;
                                char *key = decode_key(text, i, j + 1);
                                if (!key) {
                                        errs->oom = true;
                                        ok = false;
                                        break;
                                }
                                plen = ward_sys_path_key(path, sizeof(path), top->base, key);
                                if (json_object_object_get_ex(top->keys, key, NULL))
                                        ward_sys_error_add(errs, path,
                                                           "duplicate key (each name may appear "
                                                           "once in an object)");
                                else
                                        json_object_object_add(top->keys, key, NULL);
                                free(key);
                        }
                        i = j + 1;
                } else if (c == '{' || c == '[') {
                        if (depth == MAX_DEPTH) {
                                syntax_error(errs, text, i, "nested too deeply", NULL, 0);
                                ok = false;
                                break;
                        }
                        if (top && !top->obj) {
                                plen = top->base;
                                path[plen] = '\0';
                                plen += (size_t)snprintf(path + plen, sizeof(path) - plen, "/%zu",
                                                         top->idx);
                                if (plen >= sizeof(path))
                                        plen = sizeof(path) - 1;
                        }
                        struct frame *f = &st[depth++];
                        *f = (struct frame){.obj = c == '{', .expect_key = c == '{', .base = plen};
                        if (f->obj && !(f->keys = json_object_new_object())) {
                                errs->oom = true;
                                depth--;
                                ok = false;
                                break;
                        }
                        i++;
                } else if (c == '}' || c == ']') {
                        if (top) {
                                json_object_put(top->keys);
                                plen = top->base;
                                path[plen] = '\0';
                                depth--;
                        }
                        i++;
                } else if (c == ',') {
                        if (top && top->obj)
                                top->expect_key = true;
                        else if (top)
                                top->idx++;
                        i++;
                } else if (c == '\'') {
                        syntax_error(errs, text, i, "single-quoted strings are not JSON", NULL, 0);
                        ok = false;
                } else {
                        size_t j = i;
                        while (j < len && !is_ws(text[j]) && !strchr(",:]}", text[j]))
                                j++;
                        size_t n = j - i;
                        bool is_int = false;
                        if (c == '-' || is_digit(c)) {
                                if (!number_ok(text + i, n, &is_int)) {
                                        syntax_error(errs, text, i, "not a JSON number", text + i,
                                                     n);
                                        ok = false;
                                } else if (is_int && int_out_of_range(text + i, n)) {
                                        syntax_error(errs, text, i, "integer out of range",
                                                     text + i, n);
                                        ok = false;
                                }
                        } else if (!((n == 4 && !memcmp(text + i, "true", 4)) ||
                                     (n == 5 && !memcmp(text + i, "false", 5)) ||
                                     (n == 4 && !memcmp(text + i, "null", 4)))) {
                                syntax_error(errs, text, i, "not a JSON value", text + i, n);
                                ok = false;
                        }
                        i = j;
                }
        }
        while (depth > 0)
                json_object_put(st[--depth].keys);
        return ok;
}

/* ---- the tree walk ---- */

struct parser {
        struct ward_sys_errors *errs;
        char path[PATH_LEN];
        size_t plen;
        bool oom;
};

static size_t enter_key(struct parser *p, const char *key)
{
        size_t old = p->plen;
        p->plen = ward_sys_path_key(p->path, sizeof(p->path), p->plen, key);
        return old;
}

static size_t enter_index(struct parser *p, size_t i)
{
        size_t old = p->plen;
        int n = snprintf(p->path + p->plen, sizeof(p->path) - p->plen, "/%zu", i);
        if (n > 0)
                p->plen += (size_t)n;
        if (p->plen >= sizeof(p->path))
                p->plen = sizeof(p->path) - 1;
        return old;
}

static void leave(struct parser *p, size_t old)
{
        p->plen = old;
        p->path[old] = '\0';
}

#define perr(p, ...) ward_sys_error_add((p)->errs, (p)->path, __VA_ARGS__)

static void *alloc_array(struct parser *p, size_t n, size_t size)
{
        void *a = calloc(n ? n : 1, size);
        if (!a)
                p->oom = true;
        return a;
}

static const char *type_name(struct json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a number with a fraction or exponent";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "something else";
}

static bool want(struct parser *p, struct json_object *v, enum json_type t, const char *what)
{
        if (json_object_get_type(v) == t)
                return true;
        perr(p, "expected %s, got %s", what, type_name(v));
        return false;
}

static bool get_string(struct parser *p, struct json_object *v, const char **out)
{
        if (!want(p, v, json_type_string, "a string"))
                return false;
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s)) {
                perr(p, "contains a NUL character");
                return false;
        }
        *out = s;
        return true;
}

static bool get_bool(struct parser *p, struct json_object *v, bool *out)
{
        if (!want(p, v, json_type_boolean, "true or false"))
                return false;
        *out = json_object_get_boolean(v);
        return true;
}

static bool get_int(struct parser *p, struct json_object *v, int64_t *out)
{
        if (!want(p, v, json_type_int, "an integer"))
                return false;
        int64_t x = json_object_get_int64(v);
        if (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
                perr(p, "%llu is too large", (unsigned long long)json_object_get_uint64(v));
                return false;
        }
        *out = x;
        return true;
}

int ward_sys_parse_size_string(const char *s, uint64_t *out)
{
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                uint64_t v = 0;
                size_t n = 0;
                for (const char *q = s + 2; *q; q++, n++) {
                        unsigned d;
                        if (*q >= '0' && *q <= '9')
                                d = (unsigned)(*q - '0');
                        else if (*q >= 'a' && *q <= 'f')
                                d = (unsigned)(*q - 'a' + 10);
                        else if (*q >= 'A' && *q <= 'F')
                                d = (unsigned)(*q - 'A' + 10);
                        else
                                return -1;
                        if (v >> 60)
                                return -1;
                        v = v << 4 | d;
                }
                if (n == 0)
                        return -1;
                *out = v;
                return 0;
        }
        if (!is_digit(s[0]))
                return -1;
        bool unit = false;
        for (const char *q = s; *q; q++)
                if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
                        unit = true;
        if (!unit) /* ward_parse_size would take it as MiB */
                return -1;
        return ward_parse_size(s, out);
}

/* A size or address: a number of bytes, or a string (ward_sys_parse_size_string). */
static bool get_size(struct parser *p, struct json_object *v, uint64_t *out)
{
        if (json_object_get_type(v) == json_type_int) {
                if (json_object_get_int64(v) < 0) {
                        perr(p, "%lld is negative", (long long)json_object_get_int64(v));
                        return false;
                }
                *out = json_object_get_uint64(v);
                return true;
        }
        if (json_object_get_type(v) == json_type_string) {
                const char *s;
                if (!get_string(p, v, &s))
                        return false;
                if (ward_sys_parse_size_string(s, out) != 0) {
                        perr(p,
                             "\"%s\" is not a size or address (write a number of bytes, or a "
                             "string such as \"256M\", \"2G\" or \"0x40000000\")",
                             s);
                        return false;
                }
                return true;
        }
        perr(p, "expected a number of bytes or a string such as \"256M\", got %s", type_name(v));
        return false;
}

/* Which of names is s; -1 when none. */
static int lookup(const char *s, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, names[i]) == 0)
                        return (int)i;
        return -1;
}

/* "a, b or c", each quoted when quote. */
static void list_names(char *buf, size_t size, const char *const *names, size_t n, bool quote)
{
        size_t len = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < n && len < size; i++) {
                const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
                int w = snprintf(buf + len, size - len, quote ? "%s\"%s\"" : "%s%s", sep, names[i]);
                if (w < 0)
                        break;
                len += (size_t)w;
        }
}

/* Reads a string that must be one of names; returns its index or -1. */
static int get_enum(struct parser *p, struct json_object *v, const char *what,
                    const char *const *names, size_t n)
{
        const char *s;
        if (!get_string(p, v, &s))
                return -1;
        int i = lookup(s, names, n);
        if (i < 0) {
                char list[256];
                list_names(list, sizeof(list), names, n, true);
                perr(p, "unknown %s \"%s\" (expected %s)", what, s, list);
        }
        return i;
}

typedef void (*field_fn)(struct parser *p, int field, struct json_object *v, void *target);

/*
 * Calls fn for each known field of object o, in document order, and reports
 * the unknown ones. Returns the set of fields present (bit i: names[i]), or
 * 0 with an error when o is not an object.
 */
static unsigned walk(struct parser *p, struct json_object *o, const char *what,
                     const char *const *names, size_t n, field_fn fn, void *target)
{
        if (!want(p, o, json_type_object, what))
                return 0;
        unsigned seen = 0;
        struct json_object_iterator it = json_object_iter_begin(o);
        struct json_object_iterator end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                size_t m = enter_key(p, key);
                int f = lookup(key, names, n);
                if (f < 0) {
                        char list[512];
                        list_names(list, sizeof(list), names, n, false);
                        perr(p, "unknown field (expected %s)", list);
                } else {
                        seen |= 1u << f;
                        fn(p, f, json_object_iter_peek_value(&it), target);
                }
                leave(p, m);
        }
        return seen;
}

/* Reports names[f] as missing from the object at the current path. */
static void require(struct parser *p, unsigned seen, int f, const char *const *names,
                    const char *why)
{
        if (seen & (1u << f))
                return;
        size_t m = enter_key(p, names[f]);
        perr(p, "missing (%s)", why);
        leave(p, m);
}

/* Calls fn on each element of array v (with the path at the element). */
typedef void (*elem_fn)(struct parser *p, size_t i, struct json_object *v, void *target);

static bool each(struct parser *p, struct json_object *v, elem_fn fn, void *target)
{
        if (!want(p, v, json_type_array, "an array"))
                return false;
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                size_t m = enter_index(p, i);
                fn(p, i, json_object_array_get_idx(v, i), target);
                leave(p, m);
        }
        return true;
}

/* ---- RAM regions ---- */

enum { R_GPA, R_SIZE, R_N };
static const char *const region_fields[R_N] = {"gpa", "size"};

static void region_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_region *r = target;
        uint64_t x;
        if (!get_size(p, v, &x)) {
                r->ok = false;
                return;
        }
        if (f == R_GPA)
                r->gpa = x;
        else
                r->size = x;
}

static void region_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_region *r = &((struct ward_sys_region *)target)[i];
        r->ok = true;
        unsigned seen =
            walk(p, v, "an object {\"gpa\", \"size\"}", region_fields, R_N, region_field, r);
        if (!json_object_is_type(v, json_type_object)) {
                r->ok = false;
                return;
        }
        require(p, seen, R_GPA, region_fields, "a RAM region's guest-physical address");
        require(p, seen, R_SIZE, region_fields, "a RAM region's size");
        if ((seen & 3) != 3)
                r->ok = false;
}

/* ---- disks ---- */

enum { D_PATH, D_READ_ONLY, D_N };
static const char *const disk_fields[D_N] = {"path", "read_only"};

static void disk_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_disk *d = target;
        if (f == D_PATH)
                get_string(p, v, &d->path);
        else
                get_bool(p, v, &d->read_only);
}

static void disk_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_disk *d = &((struct ward_sys_disk *)target)[i];
        unsigned seen =
            walk(p, v, "an object {\"path\", \"read_only\"}", disk_fields, D_N, disk_field, d);
        if (json_object_is_type(v, json_type_object))
                require(p, seen, D_PATH, disk_fields, "the disk image's path");
}

/* ---- policy ---- */

static const char *const op_names[WARD_SYS_NOPS] = {"start", "stop", "pause", "resume", "restart"};
static const char *const on_failure_names[] = {"stop", "restart"};

enum { P_AUTOSTART, P_ALLOW, P_ON_FAILURE, P_BACKOFF, P_MAX_RESTARTS, P_N };
static const char *const policy_fields[P_N] = {"autostart", "allow", "on_failure",
                                               "restart_backoff_ms", "max_restarts"};

static void allow_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        (void)i;
        struct ward_sys_policy *pol = target;
        int op = get_enum(p, v, "operation", op_names, WARD_SYS_NOPS);
        if (op < 0)
                return;
        if (pol->allow & (1u << op))
                perr(p, "\"%s\" is listed twice", op_names[op]);
        pol->allow |= 1u << op;
}

static void policy_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_policy *pol = target;
        switch (f) {
        case P_AUTOSTART:
                get_bool(p, v, &pol->autostart);
                break;
        case P_ALLOW:
                each(p, v, allow_elem, pol);
                break;
        case P_ON_FAILURE: {
                int x = get_enum(p, v, "value", on_failure_names, 2);
                if (x >= 0)
                        pol->on_failure = (enum ward_sys_on_failure)x;
                break;
        }
        case P_BACKOFF:
                pol->restart_backoff_set = get_int(p, v, &pol->restart_backoff_ms);
                break;
        case P_MAX_RESTARTS:
                pol->max_restarts_set = get_int(p, v, &pol->max_restarts);
                break;
        }
}

/* ---- VMs ---- */

static const char *const console_names[] = {"serial", "virtio"};

enum { V_KERNEL, V_INITRD, V_CMDLINE, V_MEMORY, V_CPUS, V_DISKS, V_CONSOLE, V_RNG, V_POLICY, V_N };
static const char *const vm_fields[V_N] = {"kernel", "initrd",  "cmdline", "memory", "cpus",
                                           "disks",  "console", "rng",     "policy"};

static void vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_vm *vm = target;
        switch (f) {
        case V_KERNEL:
                get_string(p, v, &vm->kernel);
                break;
        case V_INITRD:
                get_string(p, v, &vm->initrd);
                break;
        case V_CMDLINE:
                get_string(p, v, &vm->cmdline);
                break;
        case V_MEMORY:
                vm->memory_default = false;
                vm->nmemory = 0;
                if (!json_object_is_type(v, json_type_array)) {
                        want(p, v, json_type_array, "an array of RAM regions");
                        vm->memory_bad = true;
                        break;
                }
                free(vm->memory);
                vm->memory = alloc_array(p, json_object_array_length(v), sizeof(*vm->memory));
                if (!vm->memory)
                        break;
                vm->nmemory = json_object_array_length(v);
                each(p, v, region_elem, vm->memory);
                break;
        case V_CPUS:
                get_int(p, v, &vm->cpus);
                break;
        case V_DISKS:
                if (!json_object_is_type(v, json_type_array)) {
                        want(p, v, json_type_array, "an array of disks");
                        break;
                }
                vm->disks = alloc_array(p, json_object_array_length(v), sizeof(*vm->disks));
                if (!vm->disks)
                        break;
                vm->ndisks = json_object_array_length(v);
                each(p, v, disk_elem, vm->disks);
                break;
        case V_CONSOLE: {
                int c = get_enum(p, v, "console", console_names, 2);
                if (c >= 0)
                        vm->console = c ? WARD_CONSOLE_VIRTIO : WARD_CONSOLE_SERIAL;
                break;
        }
        case V_RNG:
                get_bool(p, v, &vm->rng);
                break;
        case V_POLICY:
                walk(p, v, "an object", policy_fields, P_N, policy_field, &vm->policy);
                break;
        }
}

static void parse_vm(struct parser *p, struct json_object *v, struct ward_sys_vm *vm)
{
        vm->cpus = 1;
        vm->console = WARD_CONSOLE_SERIAL;
        vm->rng = true;
        vm->policy = (struct ward_sys_policy){
            .autostart = true,
            .on_failure = WARD_SYS_ON_FAILURE_STOP,
            .restart_backoff_ms = WARD_SYS_DEFAULT_BACKOFF_MS,
            .max_restarts = WARD_SYS_DEFAULT_MAX_RESTARTS,
        };
        vm->memory = alloc_array(p, 1, sizeof(*vm->memory));
        if (vm->memory) {
                vm->memory[0] = (struct ward_sys_region){WARD_SYS_DEFAULT_RAM_GPA,
                                                         WARD_SYS_DEFAULT_RAM_SIZE, true};
                vm->nmemory = 1;
                vm->memory_default = true;
        }
        unsigned seen = walk(p, v, "an object", vm_fields, V_N, vm_field, vm);
        if (!json_object_is_type(v, json_type_object)) {
                vm->memory_bad = true; /* nothing to check about it */
                vm->nmemory = 0;
                return;
        }
        require(p, seen, V_KERNEL, vm_fields, "every VM needs a kernel Image");
}

/* ---- shared regions ---- */

static const char *const access_names[] = {"rw", "ro"};

enum { M_VM, M_GPA, M_ACCESS, M_N };
static const char *const map_fields[M_N] = {"vm", "gpa", "access"};

static void map_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_map *m = target;
        switch (f) {
        case M_VM:
                get_string(p, v, &m->vm);
                break;
        case M_GPA:
                m->gpa_ok = get_size(p, v, &m->gpa);
                break;
        case M_ACCESS: {
                int a = get_enum(p, v, "access", access_names, 2);
                if (a >= 0)
                        m->access = (enum ward_sys_access)a;
                break;
        }
        }
}

static void map_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_map *m = &((struct ward_sys_map *)target)[i];
        m->access = WARD_SYS_ACCESS_RW;
        unsigned seen =
            walk(p, v, "an object {\"vm\", \"gpa\", \"access\"}", map_fields, M_N, map_field, m);
        if (!json_object_is_type(v, json_type_object))
                return;
        require(p, seen, M_VM, map_fields, "the VM that maps the region");
        require(p, seen, M_GPA, map_fields, "where the VM sees the region");
}

enum { S_NAME, S_SIZE, S_MAPS, S_N };
static const char *const shared_fields[S_N] = {"name", "size", "maps"};

static void shared_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_shared *s = target;
        switch (f) {
        case S_NAME:
                get_string(p, v, &s->name);
                break;
        case S_SIZE:
                s->size_ok = get_size(p, v, &s->size);
                break;
        case S_MAPS:
                if (!json_object_is_type(v, json_type_array)) {
                        want(p, v, json_type_array, "an array of mappings");
                        break;
                }
                s->maps = alloc_array(p, json_object_array_length(v), sizeof(*s->maps));
                if (!s->maps)
                        break;
                s->nmaps = json_object_array_length(v);
                s->maps_bad = false;
                each(p, v, map_elem, s->maps);
                break;
        }
}

static void shared_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_shared *s = &((struct ward_sys_shared *)target)[i];
        s->maps_bad = true;
        unsigned seen = walk(p, v, "an object", shared_fields, S_N, shared_field, s);
        if (!json_object_is_type(v, json_type_object))
                return;
        require(p, seen, S_NAME, shared_fields, "every shared region has a name");
        require(p, seen, S_SIZE, shared_fields, "the region's size");
        require(p, seen, S_MAPS, shared_fields, "the VMs that map the region");
}

/* ---- doorbells ---- */

enum { B_NAME, B_FROM, B_TO, B_N };
static const char *const doorbell_fields[B_N] = {"name", "from", "to"};

static void doorbell_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_doorbell *b = target;
        get_string(p, v, f == B_NAME ? &b->name : f == B_FROM ? &b->from : &b->to);
}

static void doorbell_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_doorbell *b = &((struct ward_sys_doorbell *)target)[i];
        unsigned seen = walk(p, v, "an object {\"name\", \"from\", \"to\"}", doorbell_fields, B_N,
                             doorbell_field, b);
        if (!json_object_is_type(v, json_type_object))
                return;
        require(p, seen, B_NAME, doorbell_fields, "every doorbell has a name");
        require(p, seen, B_FROM, doorbell_fields, "the VM that rings it");
        require(p, seen, B_TO, doorbell_fields, "the VM it wakes");
}

/* ---- linux ---- */

enum { LV_HOST_CPUS, LV_CPU_MAX, LV_CPU_PERIOD, LV_N };
static const char *const linux_vm_fields[LV_N] = {"host_cpus", "cpu_max_us", "cpu_period_us"};

static void host_cpu_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_host_cpu *c = &((struct ward_sys_host_cpu *)target)[i];
        c->ok = get_int(p, v, &c->cpu);
}

static void linux_vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_linux_vm *lv = target;
        switch (f) {
        case LV_HOST_CPUS:
                if (!json_object_is_type(v, json_type_array)) {
                        want(p, v, json_type_array, "an array of host CPU numbers");
                        break;
                }
                lv->host_cpus = alloc_array(p, json_object_array_length(v), sizeof(*lv->host_cpus));
                if (!lv->host_cpus)
                        break;
                lv->nhost_cpus = json_object_array_length(v);
                lv->host_cpus_set = true;
                each(p, v, host_cpu_elem, lv->host_cpus);
                break;
        case LV_CPU_MAX:
                lv->cpu_max_set = get_int(p, v, &lv->cpu_max_us);
                break;
        case LV_CPU_PERIOD:
                lv->cpu_period_set = get_int(p, v, &lv->cpu_period_us);
                if (!lv->cpu_period_set)
                        lv->cpu_period_us = WARD_SYS_DEFAULT_PERIOD_US;
                break;
        }
}

enum { L_CONTROL_SOCKET, L_CONSOLE_LOG_DIR, L_VMS, L_N };
static const char *const linux_fields[L_N] = {"control_socket", "console_log_dir", "vms"};

static void linux_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_linux *l = target;
        switch (f) {
        case L_CONTROL_SOCKET:
                get_string(p, v, &l->control_socket);
                break;
        case L_CONSOLE_LOG_DIR:
                get_string(p, v, &l->console_log_dir);
                break;
        case L_VMS: {
                if (!want(p, v, json_type_object, "an object keyed by VM name"))
                        break;
                size_t n = (size_t)json_object_object_length(v);
                l->vms = alloc_array(p, n, sizeof(*l->vms));
                if (!l->vms)
                        break;
                struct json_object_iterator it = json_object_iter_begin(v);
                struct json_object_iterator end = json_object_iter_end(v);
                for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        struct ward_sys_linux_vm *lv = &l->vms[l->nvms++];
                        lv->vm = json_object_iter_peek_name(&it);
                        lv->cpu_period_us = WARD_SYS_DEFAULT_PERIOD_US;
                        size_t m = enter_key(p, lv->vm);
                        walk(p, json_object_iter_peek_value(&it), "an object", linux_vm_fields,
                             LV_N, linux_vm_field, lv);
                        leave(p, m);
                }
                break;
        }
        }
}

/* ---- sel4 ---- */

enum { SV_RAM_PHYS, SV_N };
static const char *const sel4_vm_fields[SV_N] = {"ram_phys"};

static void sel4_vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        (void)f;
        struct ward_sys_sel4_vm *sv = target;
        sv->ram_phys_set = get_size(p, v, &sv->ram_phys);
}

enum { SL_VMS, SL_N };
static const char *const sel4_fields[SL_N] = {"vms"};

static void sel4_field(struct parser *p, int f, struct json_object *v, void *target)
{
        (void)f;
        struct ward_sys_sel4 *s = target;
        if (!want(p, v, json_type_object, "an object keyed by VM name"))
                return;
        s->vms = alloc_array(p, (size_t)json_object_object_length(v), sizeof(*s->vms));
        if (!s->vms)
                return;
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                struct ward_sys_sel4_vm *sv = &s->vms[s->nvms++];
                sv->vm = json_object_iter_peek_name(&it);
                size_t m = enter_key(p, sv->vm);
                walk(p, json_object_iter_peek_value(&it), "an object", sel4_vm_fields, SV_N,
                     sel4_vm_field, sv);
                leave(p, m);
        }
}

/* ---- the document ---- */

enum { T_VERSION, T_DESCRIPTION, T_VMS, T_SHARED, T_DOORBELLS, T_LINUX, T_SEL4, T_N };
static const char *const top_fields[T_N] = {"ward_system", "description", "vms", "shared_regions",
                                            "doorbells",   "linux",       "sel4"};

static void top_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_desc *d = target;
        switch (f) {
        case T_VERSION:
                if (!get_int(p, v, &d->version))
                        d->version = WARD_SYS_VERSION; /* reported already */
                break;
        case T_DESCRIPTION:
                get_string(p, v, &d->description);
                break;
        case T_VMS: {
                if (!want(p, v, json_type_object, "an object keyed by VM name"))
                        break;
                size_t n = (size_t)json_object_object_length(v);
                d->vms = alloc_array(p, n, sizeof(*d->vms));
                if (!d->vms)
                        break;
                struct json_object_iterator it = json_object_iter_begin(v);
                struct json_object_iterator end = json_object_iter_end(v);
                for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        struct ward_sys_vm *vm = &d->vms[d->nvms++];
                        vm->name = json_object_iter_peek_name(&it);
                        size_t m = enter_key(p, vm->name);
                        parse_vm(p, json_object_iter_peek_value(&it), vm);
                        leave(p, m);
                }
                break;
        }
        case T_SHARED:
                if (!want(p, v, json_type_array, "an array of shared regions"))
                        break;
                d->shared = alloc_array(p, json_object_array_length(v), sizeof(*d->shared));
                if (!d->shared)
                        break;
                d->nshared = json_object_array_length(v);
                each(p, v, shared_elem, d->shared);
                break;
        case T_DOORBELLS:
                if (!want(p, v, json_type_array, "an array of doorbells"))
                        break;
                d->doorbells = alloc_array(p, json_object_array_length(v), sizeof(*d->doorbells));
                if (!d->doorbells)
                        break;
                d->ndoorbells = json_object_array_length(v);
                each(p, v, doorbell_elem, d->doorbells);
                break;
        case T_LINUX:
                walk(p, v, "an object", linux_fields, L_N, linux_field, &d->linux_opts);
                break;
        case T_SEL4:
                walk(p, v, "an object", sel4_fields, SL_N, sel4_field, &d->sel4_opts);
                break;
        }
}

void ward_sys_free(struct ward_sys_desc *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->nvms; i++) {
                free(d->vms[i].memory);
                free(d->vms[i].disks);
        }
        free(d->vms);
        for (size_t i = 0; i < d->nshared; i++)
                free(d->shared[i].maps);
        free(d->shared);
        free(d->doorbells);
        for (size_t i = 0; i < d->linux_opts.nvms; i++)
                free(d->linux_opts.vms[i].host_cpus);
        free(d->linux_opts.vms);
        free(d->sel4_opts.vms);
        json_object_put(d->owner);
        free(d);
}

struct ward_sys_desc *ward_sys_parse(const char *text, size_t len, struct ward_sys_errors *errs)
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
        struct json_tokener *tok = json_tokener_new();
        if (!tok) {
                errs->oom = true;
                return NULL;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
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

        struct ward_sys_desc *d = calloc(1, sizeof(*d));
        if (!d) {
                json_object_put(root);
                errs->oom = true;
                return NULL;
        }
        d->owner = root;
        d->version = WARD_SYS_VERSION;
        d->linux_opts.control_socket = WARD_SYS_DEFAULT_SOCKET;
        d->linux_opts.console_log_dir = WARD_SYS_DEFAULT_LOG_DIR;
        struct parser p = {.errs = errs};
        unsigned seen = walk(&p, root, "an object", top_fields, T_N, top_field, d);
        require(&p, seen, T_VERSION, top_fields, "the format version: \"ward_system\": 1");
        require(&p, seen, T_VMS, top_fields, "a system needs at least one VM");
        if (p.oom) {
                errs->oom = true;
                ward_sys_free(d);
                return NULL;
        }
        return d;
}
