/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mem* and str* for freestanding builds only (the Linux build uses libc).
 * memcpy and memset move 8 bytes at a time when the pointers allow it: the
 * seL4 VMM copies the guest kernel (tens of MiB) with memcpy at start-up,
 * and a byte loop there costs a visible part of the boot.
 */
#include "ward/util/util.h"

typedef uint64_t __attribute__((__may_alias__)) word_t;

void *memcpy(void *dst, const void *src, size_t n)
{
        uint8_t *d = dst;
        const uint8_t *s = src;
        if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
                for (; n >= 8; n -= 8, d += 8, s += 8)
                        *(word_t *)(void *)d = *(const word_t *)(const void *)s;
        }
        while (n--)
                *d++ = *s++;
        return dst;
}

void *memset(void *dst, int c, size_t n)
{
        uint8_t *d = dst;
        if (((uintptr_t)d & 7) == 0) {
                word_t w = (uint8_t)c * 0x0101010101010101ull;
                for (; n >= 8; n -= 8, d += 8)
                        *(word_t *)(void *)d = w;
        }
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
