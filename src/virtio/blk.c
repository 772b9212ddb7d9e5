/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/virtio/device.h"

#define HDR_LEN 16

static void blk_complete(void *dev, uint32_t id, int status);

static struct ward_blk_req *free_slot(struct ward_vblk *b)
{
        for (unsigned i = 0; i < WARD_BLK_QUEUE_SIZE; i++)
                if (!b->req[i].busy)
                        return &b->req[i];
        return NULL;
}

static void finish(struct ward_vblk *b, uint16_t head, uint8_t *status, uint8_t value,
                   uint32_t written)
{
        if (status)
                *status = value;
        ward_vq_push(&b->v.vq[0], head, written);
}

/* Copies the data iovs of a chain into the request, minus `skip_front` and `drop_back` bytes. */
static int take_data(struct ward_blk_req *r, const struct ward_iov *iov, unsigned n,
                     uint32_t skip_front, uint32_t drop_back, uint32_t total)
{
        uint32_t want = total - skip_front - drop_back;
        r->io.niov = 0;
        r->io.len = want;
        for (unsigned i = 0; i < n && want > 0; i++) {
                uint8_t *base = iov[i].base;
                uint32_t len = iov[i].len;
                if (skip_front >= len) {
                        skip_front -= len;
                        continue;
                }
                base += skip_front;
                len -= skip_front;
                skip_front = 0;
                if (len > want)
                        len = want;
                if (r->io.niov == WARD_BLK_SEG_MAX)
                        return WARD_EINVAL;
                r->io.iov[r->io.niov++] = (struct ward_iov){base, len};
                want -= len;
        }
        return WARD_OK;
}

static bool in_range(const struct ward_vblk *b, uint64_t sector, uint32_t len)
{
        uint64_t sectors = len / WARD_BLK_SECTOR;
        return sector <= b->capacity && sectors <= b->capacity - sector;
}

/*
 * Decodes one chain, validates all of it, then either hands it to the
 * backend or completes it here (bad request, GET_ID, read-only refusal).
 */
static void handle_chain(struct ward_vblk *b, struct ward_chain *c, struct ward_blk_req *r)
{
        uint8_t hdr[HDR_LEN];
        if (c->out_len < HDR_LEN || c->in_len < 1) {
                b->bad_requests++;
                finish(b, c->head, NULL, 0, 0); /* no room for a status: fail quietly */
                return;
        }
        struct ward_iov *out = c->iov, *in = &c->iov[c->nout];
        struct ward_iov *last = &in[c->nin - 1];
        uint8_t *status = last->base + last->len - 1;
        ward_iov_read(out, c->nout, 0, hdr, HDR_LEN);
        uint32_t type = ward_le32(hdr);
        uint64_t sector = ward_le64(hdr + 8);

        r->head = c->head;
        r->status = status;
        r->io.type = type;
        r->generation = b->generation;
        int rc = WARD_OK;
        switch (type) {
        case WARD_VIRTIO_BLK_T_IN:
                if (c->out_len != HDR_LEN)
                        rc = WARD_EINVAL;
                else
                        rc = take_data(r, in, c->nin, 0, 1, c->in_len);
                break;
        case WARD_VIRTIO_BLK_T_OUT:
                if (b->read_only) {
                        finish(b, c->head, status, WARD_VIRTIO_BLK_S_IOERR, 1);
                        return;
                }
                /* The data is device-readable: only the status byte may be writable. */
                if (c->in_len != 1)
                        rc = WARD_EINVAL;
                else
                        rc = take_data(r, out, c->nout, HDR_LEN, 0, c->out_len);
                break;
        case WARD_VIRTIO_BLK_T_FLUSH:
                r->io.niov = 0;
                r->io.len = 0;
                break;
        case WARD_VIRTIO_BLK_T_GET_ID: {
                uint32_t room = c->in_len - 1;
                uint32_t n = WARD_MIN(room, WARD_BLK_ID_BYTES);
                ward_iov_write(in, c->nin, 0, b->id, n);
                finish(b, c->head, status, WARD_VIRTIO_BLK_S_OK, n + 1);
                return;
        }
        default:
                finish(b, c->head, status, WARD_VIRTIO_BLK_S_UNSUPP, 1);
                return;
        }
        if (rc == WARD_OK && (type == WARD_VIRTIO_BLK_T_IN || type == WARD_VIRTIO_BLK_T_OUT)) {
                if (r->io.len % WARD_BLK_SECTOR || !in_range(b, sector, r->io.len))
                        rc = WARD_ERANGE;
                r->io.offset = sector * WARD_BLK_SECTOR;
        }
        if (rc != WARD_OK) {
                b->bad_requests++;
                finish(b, c->head, status, WARD_VIRTIO_BLK_S_IOERR, 1);
                return;
        }
        /* The id names the slot and this use of it, so a late completion misses. */
        r->seq++;
        r->io.slot = (uint16_t)(r - b->req);
        r->io.id = (uint32_t)r->io.slot | ((uint32_t)r->seq << 16);
        r->io.done = &b->done;
        r->busy = true;
        uint32_t id = r->io.id;
        if (b->be.submit(b->be.opaque, &r->io) != 0 && r->busy)
                blk_complete(b, id, -1);
}

static void blk_notify(struct ward_virtio *v, unsigned q)
{
        struct ward_vblk *b = v->dev;
        (void)q;
        uint16_t used_before = v->vq[0].used_idx;
        b->in_notify = true;
        for (;;) {
                /* Only take a chain when a slot can hold it: hostile drivers may reuse heads. */
                struct ward_blk_req *r = free_slot(b);
                if (!r) {
                        b->starved = true;
                        break;
                }
                int rc = ward_vq_pop(&v->vq[0], v->gm, &b->chain);
                if (rc == 0)
                        break;
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        break;
                }
                if (rc < 0) {
                        b->bad_requests++;
                        finish(b, b->chain.head, NULL, 0, 0);
                        continue;
                }
                handle_chain(b, &b->chain, r);
        }
        b->in_notify = false;
        /* Requests still with the backend signal when they complete, not now. */
        if (v->vq[0].used_idx != used_before)
                ward_virtio_signal_used(v, 0);
}

/* The backend's completion of I/O id (ward_blk_io_complete). */
static void blk_complete(void *dev, uint32_t id, int status)
{
        struct ward_vblk *b = dev;
        uint32_t slot = id & 0xffffu;
        if (slot >= WARD_BLK_QUEUE_SIZE)
                return;
        struct ward_blk_req *r = &b->req[slot];
        if (!r->busy || r->io.id != id)
                return; /* not out, or an earlier use of the slot */
        r->busy = false;
        if (r->generation != b->generation)
                return; /* the driver reset the device meanwhile */
        uint32_t written = 1;
        if (r->io.type == WARD_VIRTIO_BLK_T_IN && status == 0)
                written += r->io.len;
        finish(b, r->head, r->status, status == 0 ? WARD_VIRTIO_BLK_S_OK : WARD_VIRTIO_BLK_S_IOERR,
               written);
        if (b->in_notify)
                return; /* blk_notify signals once for the whole batch */
        ward_virtio_signal_used(&b->v, 0);
        /* A slot is free again: requests may be waiting in the ring. */
        if (b->starved && ward_virtio_is_live(&b->v)) {
                b->starved = false;
                blk_notify(&b->v, 0);
        }
}

static void blk_reset(struct ward_virtio *v)
{
        struct ward_vblk *b = v->dev;
        b->generation++;
}

/* One queue: its reset retires the requests at the backend as a device
 * reset does (their completions are dropped by generation). */
static void blk_queue_reset(struct ward_virtio *v, unsigned q)
{
        (void)q;
        blk_reset(v);
}

static const struct ward_virtio_ops blk_ops = {
    .queue_notify = blk_notify,
    .reset = blk_reset,
    .queue_reset = blk_queue_reset,
};

void ward_vblk_setup(struct ward_vblk *b, const struct ward_blk_backend *be, uint64_t size_bytes,
                     bool read_only, const char *id)
{
        memset(b, 0, offsetof(struct ward_vblk, req)); /* req[] is zero already */
        b->be = *be;
        b->capacity = size_bytes / WARD_BLK_SECTOR;
        b->read_only = read_only;
        if (id) {
                size_t n = strlen(id);
                memcpy(b->id, id, n < WARD_BLK_ID_BYTES ? n : WARD_BLK_ID_BYTES);
        }
        ward_put_le64(b->config + 0, b->capacity);
        ward_put_le32(b->config + 12, WARD_BLK_SEG_MAX);
        ward_put_le32(b->config + 20, WARD_BLK_SECTOR);
        b->v.device_id = WARD_VIRTIO_ID_BLOCK;
        b->v.device_features =
            (1ull << WARD_VIRTIO_BLK_F_SEG_MAX) | (1ull << WARD_VIRTIO_BLK_F_BLK_SIZE) |
            (1ull << WARD_VIRTIO_BLK_F_FLUSH) | (read_only ? 1ull << WARD_VIRTIO_BLK_F_RO : 0);
        b->v.nqueues = 1;
        b->v.queue_max = WARD_BLK_QUEUE_SIZE;
        b->v.ops = &blk_ops;
        b->v.dev = b;
        b->v.config = b->config;
        b->v.config_len = sizeof(b->config);
        b->done = (struct ward_blk_done){blk_complete, b};
}

static struct ward_virtio *blk_setup_type(void *state, const union ward_backend *be,
                                          const struct ward_device_params *p)
{
        struct ward_vblk *b = state;
        ward_vblk_setup(b, &be->blk, p->size_bytes, p->read_only, p->id);
        return &b->v;
}

const struct ward_device_type ward_virtio_blk_type = {
    .name = "blk",
    .cls = WARD_DEVICE_BLOCK,
    .state_size = sizeof(struct ward_vblk),
    .setup = blk_setup_type,
};
