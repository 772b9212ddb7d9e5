/* SPDX-License-Identifier: BSD-2-Clause */
/* The parser's and the checker's errors, and paths in JSON-pointer form. */
#include "ward/desc/system_desc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define KEY_SHOWN 64 /* longer keys are cut in paths */

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
        if (e->n >= WARD_SYS_MAX_ERRORS) {
                e->suppressed++;
                return;
        }
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
        if (e->suppressed)
                fprintf(out, "%s: /: %zu more error%s not shown (only the first %d are)\n",
                        n ? n : "?", e->suppressed, e->suppressed == 1 ? "" : "s",
                        WARD_SYS_MAX_ERRORS);
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
