/* SPDX-License-Identifier: BSD-2-Clause */
/* The block port's client: the VMM side, a ward_blk_backend for virtio-blk. */
#include "ward/port/port_blk.h"

#include "ward/virtio/virtio_blk.h"

#define NO_BUF 0xffffu
#define SLOT_BITS 16u
#define SLOT_MASK ((1u << SLOT_BITS) - 1u)

int ward_blk_port_client_init(struct ward_blk_port_client *c, void *mem, size_t mem_bytes,
                              const struct ward_blk_port_config *cfg,
                              const struct ward_port_notify *notify)
{
        memset(c, 0, sizeof(*c));
        struct ward_blk_port_layout l;
        int rc = ward_blk_port_attach_rings(mem, mem_bytes, cfg, &l, &c->req_ring,
                                            WARD_RING_PRODUCER, &c->resp_ring, WARD_RING_CONSUMER);
        if (rc != WARD_OK) {
                c->broken = true;
                return rc;
        }
        c->data = (uint8_t *)mem + l.data;
        c->cfg = *cfg;
        c->notify = *notify;
        /* Stacks: lowest index on top, so a quiet port reuses the same few buffers. */
        for (uint32_t i = 0; i < cfg->ring_slots; i++)
                c->free_slot[i] = (uint16_t)(cfg->ring_slots - 1 - i);
        c->nfree_slot = cfg->ring_slots;
        for (uint32_t i = 0; i < cfg->nbufs; i++)
                c->free_buf[i] = (uint16_t)(cfg->nbufs - 1 - i);
        c->nfree_buf = cfg->nbufs;
        return WARD_OK;
}

/* The progress record of an I/O, by its slot (the contract: no two out share one). */
static struct ward_blk_port_progress *progress_of(struct ward_blk_port_client *c,
                                                  const struct ward_blk_io *r)
{
        return r->slot < WARD_BLK_QUEUE_SIZE ? &c->progress[r->slot] : NULL;
}

static uint8_t *buffer(struct ward_blk_port_client *c, uint16_t buf)
{
        return c->data + (size_t)buf * c->cfg.buf_bytes;
}

static const struct ward_blk_io *fifo_front(const struct ward_blk_port_client *c)
{
        return c->fifo[c->fifo_head];
}

static void fifo_pop(struct ward_blk_port_client *c)
{
        c->fifo_head = (c->fifo_head + 1) % WARD_BLK_QUEUE_SIZE;
        c->fifo_count--;
}

/*
 * The port can no longer be trusted (a ring's indices were corrupted): fail
 * every request we hold. Each request is detached from our state before
 * ward_blk_io_complete(), which may re-enter submit (that now fails at once).
 */
static void port_broken(struct ward_blk_port_client *c)
{
        c->broken = true;
        while (c->fifo_count > 0) {
                const struct ward_blk_io *r = fifo_front(c);
                struct ward_blk_port_progress *p = progress_of(c, r);
                fifo_pop(c);
                p->waiting = false;
                p->failed = true;
                if (p->outstanding == 0)
                        ward_blk_io_complete(r, -1);
        }
        for (uint32_t s = 0; s < c->cfg.ring_slots; s++) {
                struct ward_blk_port_chunk *ch = &c->chunk[s];
                if (!ch->busy)
                        continue;
                ch->busy = false;
                struct ward_blk_port_progress *p = progress_of(c, ch->io);
                p->failed = true;
                if (--p->outstanding == 0 && !p->waiting)
                        ward_blk_io_complete(ch->io, -1);
        }
}

void ward_blk_port_client_fail_all(struct ward_blk_port_client *c)
{
        port_broken(c);
}

/*
 * Sends chunks of waiting requests, oldest first, while a chunk slot, a data
 * buffer (for reads and writes) and a ring slot are free; notifies the
 * server once for the batch.
 */
static void pump(struct ward_blk_port_client *c)
{
        bool pushed = false;
        while (c->fifo_count > 0 && !c->broken) {
                const struct ward_blk_io *r = fifo_front(c);
                struct ward_blk_port_progress *p = progress_of(c, r);
                bool flush = r->type == WARD_VIRTIO_BLK_T_FLUSH;
                if (c->nfree_slot == 0 || (!flush && c->nfree_buf == 0)) {
                        c->waits++;
                        break;
                }
                uint16_t slot = c->free_slot[c->nfree_slot - 1];
                uint16_t buf = flush ? NO_BUF : c->free_buf[c->nfree_buf - 1];
                struct ward_blk_port_chunk *ch = &c->chunk[slot];
                uint32_t len = flush ? 0 : WARD_MIN(r->len - p->submitted, c->cfg.buf_bytes);
                uint16_t seq = (uint16_t)(ch->seq + 1);
                struct ward_blk_port_msg_req m = {
                    .id = slot | ((uint32_t)seq << SLOT_BITS),
                    .op = flush                              ? WARD_BLK_PORT_OP_FLUSH
                          : r->type == WARD_VIRTIO_BLK_T_OUT ? WARD_BLK_PORT_OP_WRITE
                                                             : WARD_BLK_PORT_OP_READ,
                    .offset = flush ? 0 : r->offset + p->submitted,
                    .len = len,
                    .data_off = flush ? 0 : (uint32_t)buf * c->cfg.buf_bytes,
                };
                if (m.op == WARD_BLK_PORT_OP_WRITE)
                        ward_iov_read(r->iov, r->niov, p->submitted, buffer(c, buf), len);
                int rc = ward_ring_push(&c->req_ring, &m);
                if (rc < 0) {
                        port_broken(c);
                        break;
                }
                if (rc == 0) {
                        /*
                         * Ring full although a chunk slot is free: only a server
                         * that answers before it takes the request does that.
                         * Wait for it to catch up.
                         */
                        c->waits++;
                        break;
                }
                /* Pushed: now the slot and the buffer are really taken. */
                c->nfree_slot--;
                if (!flush)
                        c->nfree_buf--;
                *ch = (struct ward_blk_port_chunk){
                    .io = r,
                    .req_off = p->submitted,
                    .len = len,
                    .buf = buf,
                    .seq = seq,
                    .op = m.op,
                    .busy = true,
                };
                p->submitted += len;
                p->outstanding++;
                pushed = true;
                if (flush || p->submitted == r->len) {
                        p->waiting = false;
                        fifo_pop(c);
                }
        }
        if (pushed)
                ward_port_notify(&c->notify);
}

static int client_submit(void *opaque, const struct ward_blk_io *r)
{
        struct ward_blk_port_client *c = opaque;
        if (c->broken)
                return WARD_EBROKEN;
        struct ward_blk_port_progress *p = progress_of(c, r);
        if (!p)
                return WARD_EINVAL;
        switch (r->type) {
        case WARD_VIRTIO_BLK_T_IN:
        case WARD_VIRTIO_BLK_T_OUT:
                if (r->len == 0) {
                        ward_blk_io_complete(r, 0); /* nothing to move */
                        return 0;
                }
                break;
        case WARD_VIRTIO_BLK_T_FLUSH:
                break;
        default:
                return WARD_EINVAL;
        }
        /* The device has at most WARD_BLK_QUEUE_SIZE requests out, one per slot. */
        if (c->fifo_count == WARD_BLK_QUEUE_SIZE || p->waiting || p->outstanding)
                return WARD_EINVAL;
        *p = (struct ward_blk_port_progress){.waiting = true};
        c->fifo[(c->fifo_head + c->fifo_count) % WARD_BLK_QUEUE_SIZE] = r;
        c->fifo_count++;
        pump(c);
        return 0;
}

struct ward_blk_backend ward_blk_port_client_backend(struct ward_blk_port_client *c)
{
        return (struct ward_blk_backend){.submit = client_submit, .opaque = c};
}

/* Checks one response (already copied out of the ring) and applies it. */
static void handle_response(struct ward_blk_port_client *c, const struct ward_blk_port_msg_resp *m)
{
        uint32_t slot = m->id & SLOT_MASK;
        uint16_t seq = (uint16_t)(m->id >> SLOT_BITS);
        if (slot >= c->cfg.ring_slots || !c->chunk[slot].busy || c->chunk[slot].seq != seq) {
                /* Unknown, duplicate or stale: there is no request to charge it to. */
                c->bad_responses++;
                return;
        }
        struct ward_blk_port_chunk *ch = &c->chunk[slot];
        const struct ward_blk_io *r = ch->io;
        struct ward_blk_port_progress *p = progress_of(c, r);
        bool ok = m->status == WARD_BLK_PORT_S_OK;
        if (m->status > WARD_BLK_PORT_S_BADREQ || (ok && m->len != ch->len)) {
                /* A server that breaks the protocol fails the request, not the VMM. */
                c->bad_responses++;
                ok = false;
        }
        /* Our own record says where the data is and how much: nothing from the server. */
        if (ok && ch->op == WARD_BLK_PORT_OP_READ)
                ward_iov_write(r->iov, r->niov, ch->req_off, buffer(c, ch->buf), ch->len);
        ch->busy = false;
        c->free_slot[c->nfree_slot++] = (uint16_t)slot;
        if (ch->buf != NO_BUF)
                c->free_buf[c->nfree_buf++] = ch->buf;
        if (!ok)
                p->failed = true;
        if (--p->outstanding == 0 && !p->waiting)
                ward_blk_io_complete(r, p->failed ? -1 : 0);
}

int ward_blk_port_client_poll(struct ward_blk_port_client *c)
{
        int handled = 0;
        while (!c->broken && (uint32_t)handled < c->cfg.ring_slots) {
                struct ward_blk_port_msg_resp m;
                int rc = ward_ring_pop(&c->resp_ring, &m);
                if (rc == 0)
                        break;
                if (rc < 0) {
                        port_broken(c);
                        break;
                }
                handled++;
                handle_response(c, &m);
        }
        if (c->broken)
                return WARD_EBROKEN;
        pump(c); /* buffers came back: waiting requests can go */
        return handled;
}
