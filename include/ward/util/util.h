/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The only C-library surface the freestanding core may use. On Linux these
 * resolve to libc; in a freestanding build (seL4 protection domain) they are
 * provided by src/util/mem.c. Keeping the list here makes the dependency
 * explicit and small.
 */
#ifndef WARD_UTIL_H
#define WARD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/*
 * Formats into buf (always terminated, truncated quietly): %s %c %d %u %x
 * with l or ll, and %%. The core's error messages; src/util/fmt.c.
 */
void ward_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define WARD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WARD_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Error codes of the core: negative values, never errno (no libc here). */
enum ward_err {
        WARD_OK = 0,
        WARD_EINVAL = -1,  /* malformed input */
        WARD_ERANGE = -2,  /* address or length outside what is allowed */
        WARD_ENOSPC = -3,  /* caller-provided storage is full */
        WARD_EBUSY = -4,   /* overlapping registration */
        WARD_EIO = -5,     /* backend failure */
        WARD_EBROKEN = -6, /* queue state is unusable until reset */
};

/* Little-endian loads and stores on possibly unaligned bytes. */
static inline uint16_t ward_le16(const void *p)
{
        const uint8_t *b = p;
        return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t ward_le32(const void *p)
{
        const uint8_t *b = p;
        return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
               ((uint32_t)b[3] << 24);
}
static inline uint64_t ward_le64(const void *p)
{
        const uint8_t *b = p;
        return (uint64_t)ward_le32(b) | ((uint64_t)ward_le32(b + 4) << 32);
}
static inline void ward_put_le16(void *p, uint16_t v)
{
        uint8_t *b = p;
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
}
static inline void ward_put_le32(void *p, uint32_t v)
{
        uint8_t *b = p;
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
        b[2] = (uint8_t)(v >> 16);
        b[3] = (uint8_t)(v >> 24);
}
static inline void ward_put_le64(void *p, uint64_t v)
{
        ward_put_le32(p, (uint32_t)v);
        ward_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* Read `len` (1..8) little-endian bytes of a register file into a value. */
static inline uint64_t ward_load_len(const void *p, unsigned len)
{
        const uint8_t *b = p;
        uint64_t v = 0;
        for (unsigned i = 0; i < len && i < 8; i++)
                v |= (uint64_t)b[i] << (8 * i);
        return v;
}
static inline void ward_store_len(void *p, uint64_t v, unsigned len)
{
        uint8_t *b = p;
        for (unsigned i = 0; i < len && i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}

#endif
