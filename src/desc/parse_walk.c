/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parser's tree walk: the path of the item being read, typed reads
 * that report what is wrong with a value, and the walk over an object's
 * fields or an array's elements (parse.h).
 */
#include "parser.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

size_t ward_sysp_enter_key(struct parser *p, const char *key)
{
        size_t old = p->plen;
        p->plen = ward_sys_path_key(p->path, sizeof(p->path), p->plen, key);
        return old;
}

size_t ward_sysp_enter_index(struct parser *p, size_t i)
{
        size_t old = p->plen;
        int n = snprintf(p->path + p->plen, sizeof(p->path) - p->plen, "/%zu", i);
        if (n > 0)
                p->plen += (size_t)n;
        if (p->plen >= sizeof(p->path))
                p->plen = sizeof(p->path) - 1;
        return old;
}

void ward_sysp_leave(struct parser *p, size_t old)
{
        p->plen = old;
        p->path[old] = '\0';
}

void *ward_sysp_alloc_array(struct parser *p, size_t n, size_t size)
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

bool ward_sysp_want(struct parser *p, struct json_object *v, enum json_type t, const char *what)
{
        if (json_object_get_type(v) == t)
                return true;
        perr(p, "expected %s, got %s", what, type_name(v));
        return false;
}

bool ward_sysp_get_string(struct parser *p, struct json_object *v, const char **out)
{
        if (!ward_sysp_want(p, v, json_type_string, "a string"))
                return false;
        const char *s = json_object_get_string(v);
        if ((size_t)json_object_get_string_len(v) != strlen(s)) {
                perr(p, "contains a NUL character");
                return false;
        }
        *out = s;
        return true;
}

bool ward_sysp_get_bool(struct parser *p, struct json_object *v, bool *out)
{
        if (!ward_sysp_want(p, v, json_type_boolean, "true or false"))
                return false;
        *out = json_object_get_boolean(v);
        return true;
}

bool ward_sysp_get_int(struct parser *p, struct json_object *v, int64_t *out)
{
        if (!ward_sysp_want(p, v, json_type_int, "an integer"))
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
        if (s[0] < '0' || s[0] > '9')
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
bool ward_sysp_get_size(struct parser *p, struct json_object *v, uint64_t *out)
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
                if (!ward_sysp_get_string(p, v, &s))
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
int ward_sysp_get_enum(struct parser *p, struct json_object *v, const char *what,
                       const char *const *names, size_t n)
{
        const char *s;
        if (!ward_sysp_get_string(p, v, &s))
                return -1;
        int i = lookup(s, names, n);
        if (i < 0) {
                char list[256];
                list_names(list, sizeof(list), names, n, true);
                perr(p, "unknown %s \"%s\" (expected %s)", what, s, list);
        }
        return i;
}

/*
 * Calls fn for each known field of object o, in document order, and reports
 * the unknown ones. Returns the set of fields present (bit i: names[i]), or
 * 0 with an error when o is not an object.
 */
unsigned ward_sysp_walk(struct parser *p, struct json_object *o, const char *what,
                        const char *const *names, size_t n, field_fn fn, void *target)
{
        if (!ward_sysp_want(p, o, json_type_object, what))
                return 0;
        unsigned seen = 0;
        struct json_object_iterator it = json_object_iter_begin(o);
        struct json_object_iterator end = json_object_iter_end(o);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                size_t m = ward_sysp_enter_key(p, key);
                int f = lookup(key, names, n);
                if (f < 0) {
                        char list[512];
                        list_names(list, sizeof(list), names, n, false);
                        perr(p, "unknown field (expected %s)", list);
                } else {
                        seen |= 1u << f;
                        fn(p, f, json_object_iter_peek_value(&it), target);
                }
                ward_sysp_leave(p, m);
        }
        return seen;
}

/* Reports names[f] as missing from the object at the current path. */
void ward_sysp_require(struct parser *p, unsigned seen, int f, const char *const *names,
                       const char *why)
{
        if (seen & (1u << f))
                return;
        size_t m = ward_sysp_enter_key(p, names[f]);
        perr(p, "missing (%s)", why);
        ward_sysp_leave(p, m);
}

bool ward_sysp_each(struct parser *p, struct json_object *v, elem_fn fn, void *target)
{
        if (!ward_sysp_want(p, v, json_type_array, "an array"))
                return false;
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                size_t m = ward_sysp_enter_index(p, i);
                fn(p, i, json_object_array_get_idx(v, i), target);
                ward_sysp_leave(p, m);
        }
        return true;
}
