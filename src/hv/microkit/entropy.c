/* SPDX-License-Identifier: BSD-2-Clause */
/* The seL4 runner's entropy backend (see below and sel4_runner.h). */
#include "sel4_runner.h"

/*
 * Entropy: there is no hardware source on this board, so the backend is
 * xoshiro256** seeded from 32 bytes the build drew from the build host's
 * /dev/urandom (the counter is not readable from a PD: reading it traps).
 * Every boot of one image gives the guest the same bytes: this is not
 * cryptographic randomness, and an entropy PD on a real source replaces it.
 */
static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
        uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
        rng_s[2] ^= rng_s[0];
        rng_s[3] ^= rng_s[1];
        rng_s[1] ^= rng_s[2];
        rng_s[0] ^= rng_s[3];
        rng_s[2] ^= t;
        rng_s[3] = rotl(rng_s[3], 45);
        return r;
}

static uint32_t rng_fill(void *o, void *buf, uint32_t len)
{
        (void)o;
        for (uint32_t i = 0; i < len; i += 8) {
                uint64_t r = rng_next();
                memcpy((uint8_t *)buf + i, &r, len - i < 8 ? len - i : 8);
        }
        return len;
}

struct ward_rng_backend ward_sel4_entropy(const void *seed, size_t len)
{
        memcpy(rng_s, seed, WARD_MIN(sizeof(rng_s), len));
        rng_s[3] |= 1; /* never all zero */
        return (struct ward_rng_backend){rng_fill, NULL};
}
