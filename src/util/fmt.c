/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A tiny formatter for the freestanding core's error messages: %s, %c, %d,
 * %u, %x, with an l or ll length (%llu, %llx, %lu), and %%. Always
 * terminates buf; truncates quietly.
 */
#include "ward/util/util.h"

#include <stdarg.h>

struct out {
        char *buf;
        size_t len, at;
};

static void put(struct out *o, char c)
{
        if (o->at + 1 < o->len)
                o->buf[o->at++] = c;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg)
{
        char digits[24];
        unsigned n = 0;
        do {
                digits[n++] = "0123456789abcdef"[v % base];
                v /= base;
        } while (v);
        if (neg)
                put(o, '-');
        while (n)
                put(o, digits[--n]);
}

static unsigned long long take_unsigned(va_list *ap, unsigned longs)
{
        if (longs >= 2)
                return va_arg(*ap, unsigned long long);
        if (longs == 1)
                return va_arg(*ap, unsigned long);
        return va_arg(*ap, unsigned);
}

static long long take_signed(va_list *ap, unsigned longs)
{
        if (longs >= 2)
                return va_arg(*ap, long long);
        if (longs == 1)
                return va_arg(*ap, long);
        return va_arg(*ap, int);
}

static void convert(struct out *o, char conv, unsigned longs, va_list *ap)
{
        switch (conv) {
        case 's': {
                const char *s = va_arg(*ap, const char *);
                for (s = s ? s : "(null)"; *s; s++)
                        put(o, *s);
                break;
        }
        case 'c':
                put(o, (char)va_arg(*ap, int));
                break;
        case 'd': {
                long long v = take_signed(ap, longs);
                put_num(o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, v < 0);
                break;
        }
        case 'u':
                put_num(o, take_unsigned(ap, longs), 10, false);
                break;
        case 'x':
                put_num(o, take_unsigned(ap, longs), 16, false);
                break;
        default:
                put(o, '%');
                put(o, conv);
                break;
        }
}

void ward_fmt(char *buf, size_t len, const char *fmt, ...)
{
        if (!buf || len == 0)
                return;
        struct out o = {buf, len, 0};
        va_list ap;
        va_start(ap, fmt);
        for (const char *p = fmt; *p; p++) {
                if (*p != '%') {
                        put(&o, *p);
                        continue;
                }
                p++;
                unsigned longs = 0;
                while (*p == 'l') {
                        longs++;
                        p++;
                }
                if (*p == '\0')
                        break;
                if (*p == '%')
                        put(&o, '%');
                else
                        convert(&o, *p, longs, &ap);
        }
        va_end(ap);
        buf[o.at] = '\0';
}
