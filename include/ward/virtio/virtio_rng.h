/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio entropy device (virtio 1.x, 5.4): one request queue, no config. */
#ifndef WARD_VIRTIO_RNG_H
#define WARD_VIRTIO_RNG_H

#include "ward/virtio/virtio.h"

#define WARD_VIRTIO_ID_RNG 4

/* Backend port: fills buf with up to len random bytes, returns how many. */
struct ward_rng_backend {
        uint32_t (*fill)(void *opaque, void *buf, uint32_t len);
        void *opaque;
};

struct ward_vrng {
        struct ward_virtio v;
        struct ward_rng_backend be;
        struct ward_chain chain; /* scratch, so no large stack frame */
};

/* Prepares the device; the machine then calls ward_virtio_init(&r->v, ...). */
void ward_vrng_setup(struct ward_vrng *r, const struct ward_rng_backend *be);

#endif
