/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/host/linux/host_linux.h"

#include <sys/random.h>

static uint32_t fill(void *opaque, void *buf, uint32_t len)
{
        (void)opaque;
        ssize_t n = getrandom(buf, len, GRND_NONBLOCK);
        return n > 0 ? (uint32_t)n : 0;
}

struct ward_rng_backend ward_rng_getrandom_backend(void)
{
        return (struct ward_rng_backend){.fill = fill, .opaque = NULL};
}
