/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading a fuzzer's input as a program: each target takes bytes, words and
 * lengths from the front and stops when the input runs out (every read past
 * the end gives zeros, so any input is a valid program).
 */
#ifndef WARD_FUZZ_INPUT_H
#define WARD_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_in {
        const uint8_t *p;
        size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
        if (!in->left)
                return 0;
        in->left--;
        return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
        uint16_t v = fuzz_u8(in);
        return (uint16_t)(v | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
        uint32_t v = fuzz_u16(in);
        return v | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
        uint64_t v = fuzz_u32(in);
        return v | (uint64_t)fuzz_u32(in) << 32;
}

/* Up to max bytes into buf; returns how many (fewer when the input ends). */
static inline size_t fuzz_bytes(struct fuzz_in *in, void *buf, size_t max)
{
        size_t n = max < in->left ? max : in->left;
        memcpy(buf, in->p, n);
        in->p += n;
        in->left -= n;
        return n;
}

#endif
