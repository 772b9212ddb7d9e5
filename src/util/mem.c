/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem* and str* for freestanding builds only (the Linux build uses libc).
 * Byte loops on purpose: small and obviously correct; the hot paths of the
 * VMM do zero-copy I/O and do not depend on these being fast.
 */
#include "ward/util.h"

void *memcpy(void *dst, const void *src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        while (n--)
                *d++ = *s++;
        return dst;
}

void *memset(void *dst, int c, size_t n)
{
        uint8_t *d = dst;
        while (n--)
                *d++ = (uint8_t)c;
        return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const uint8_t *x = a, *y = b;
        for (; n; n--, x++, y++)
                if (*x != *y)
                        return *x < *y ? -1 : 1;
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}
