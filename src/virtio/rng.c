/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/virtio/device.h"

/* Bytes handed out per request at most: bounds the time one request takes. */
#define RNG_MAX_PER_REQUEST 4096

static void rng_notify(struct ward_virtio *v, unsigned q)
{
        struct ward_vrng *r = v->dev;
        struct ward_chain *c = &r->chain;
        int rc;
        while ((rc = ward_vq_pop(&v->vq[q], v->gm, c)) != 0) {
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return;
                }
                uint32_t done = 0;
                if (rc == 1) {
                        /* Readable descriptors are ignored; only writable ones are filled. */
                        for (unsigned i = c->nout; i < c->nout + c->nin; i++) {
                                uint32_t want = WARD_MIN(c->iov[i].len, RNG_MAX_PER_REQUEST - done);
                                if (want == 0)
                                        break;
                                uint32_t got = r->be.fill(r->be.opaque, c->iov[i].base, want);
                                done += got;
                                if (got < want)
                                        break;
                        }
                }
                ward_vq_push(&v->vq[q], c->head, done);
        }
        ward_virtio_signal_used(v, q);
}

static void rng_reset(struct ward_virtio *v)
{
        (void)v;
}

static const struct ward_virtio_ops rng_ops = {
    .queue_notify = rng_notify,
    .reset = rng_reset,
};

void ward_vrng_setup(struct ward_vrng *r, const struct ward_rng_backend *be)
{
        memset(r, 0, sizeof(*r));
        r->be = *be;
        r->v.device_id = WARD_VIRTIO_ID_RNG;
        r->v.nqueues = 1;
        r->v.queue_max = 64;
        r->v.ops = &rng_ops;
        r->v.dev = r;
}

static struct ward_virtio *rng_setup_type(void *state, const union ward_backend *be,
                                          const struct ward_device_params *p)
{
        (void)p;
        struct ward_vrng *r = state;
        ward_vrng_setup(r, &be->rng);
        return &r->v;
}

const struct ward_device_type ward_virtio_rng_type = {
    .name = "rng",
    .cls = WARD_DEVICE_ENTROPY,
    .state_size = sizeof(struct ward_vrng),
    .setup = rng_setup_type,
};
