/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/virtio/device.h"

#define Q_RX 0
#define Q_TX 1

/* Moves buffered host input into the guest's receive buffers. */
static void deliver_input(struct ward_vconsole *c)
{
        struct ward_virtio *v = &c->v;
        bool pushed = false;
        while (c->in.count > 0 && ward_virtio_is_live(v)) {
                int rc = ward_vq_pop(&v->vq[Q_RX], v->gm, &c->chain);
                if (rc == 0)
                        break;
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return;
                }
                uint32_t done = 0;
                if (rc == 1) {
                        struct ward_iov *in = &c->chain.iov[c->chain.nout];
                        while (done < c->chain.in_len) {
                                /* The FIFO may wrap: copy its contiguous runs one by one. */
                                const uint8_t *p;
                                uint32_t run = ward_fifo_run(&c->in, &p);
                                uint32_t n = ward_iov_write(in, c->chain.nin, done, p, run);
                                if (n == 0)
                                        break;
                                done += n;
                                ward_fifo_drop(&c->in, n);
                        }
                }
                ward_vq_push(&v->vq[Q_RX], c->chain.head, done);
                pushed = true;
        }
        if (pushed)
                ward_virtio_signal_used(v, Q_RX);
}

static void transmit(struct ward_vconsole *c)
{
        struct ward_virtio *v = &c->v;
        int rc;
        while ((rc = ward_vq_pop(&v->vq[Q_TX], v->gm, &c->chain)) != 0) {
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return;
                }
                if (rc == 1)
                        for (unsigned i = 0; i < c->chain.nout; i++)
                                c->be.write(c->be.opaque, c->chain.iov[i].base,
                                            c->chain.iov[i].len);
                ward_vq_push(&v->vq[Q_TX], c->chain.head, 0);
        }
        ward_virtio_signal_used(v, Q_TX);
}

static void console_notify(struct ward_virtio *v, unsigned q)
{
        struct ward_vconsole *c = v->dev;
        if (q == Q_TX)
                transmit(c);
        else
                deliver_input(c);
}

static void console_reset(struct ward_virtio *v)
{
        (void)v; /* buffered input is kept for the next driver */
}

static const struct ward_virtio_ops console_ops = {
    .queue_notify = console_notify,
    .reset = console_reset,
};

void ward_vconsole_setup(struct ward_vconsole *c, const struct ward_console_backend *be)
{
        memset(c, 0, sizeof(*c));
        c->be = *be;
        c->v.device_id = WARD_VIRTIO_ID_CONSOLE;
        c->v.nqueues = 2;
        c->v.queue_max = 128;
        c->v.ops = &console_ops;
        c->v.dev = c;
        c->v.config = c->config;
        c->v.config_len = sizeof(c->config);
        ward_fifo_init(&c->in, c->in_buf, sizeof(c->in_buf));
}

uint32_t ward_vconsole_input_room(const struct ward_vconsole *c)
{
        return ward_fifo_room(&c->in);
}

uint32_t ward_vconsole_input(struct ward_vconsole *c, const void *buf, uint32_t len)
{
        uint32_t n = ward_fifo_put(&c->in, buf, len);
        deliver_input(c);
        return n;
}

static struct ward_virtio *console_setup_type(void *state, const union ward_backend *be,
                                              const struct ward_device_params *p)
{
        (void)p;
        struct ward_vconsole *c = state;
        ward_vconsole_setup(c, &be->console);
        return &c->v;
}

const struct ward_device_type ward_virtio_console_type = {
    .name = "console",
    .cls = WARD_DEVICE_CONSOLE,
    .state_size = sizeof(struct ward_vconsole),
    .setup = console_setup_type,
};
