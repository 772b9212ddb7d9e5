/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The block port's server: the backend side (a driver PD or process), no
 * device code. It serves each request either at once through disk ops (a
 * RAM disk), or through a block backend that completes later by id (a file
 * through io_uring).
 */
#include "ward/port/port_blk.h"

static void backend_done(void *dev, uint32_t id, int status);

int ward_blk_port_server_init(struct ward_blk_port_server *s, void *mem, size_t mem_bytes,
                              const struct ward_blk_port_config *cfg, uint64_t disk_bytes,
                              const struct ward_blk_port_disk_ops *ops, void *disk,
                              const struct ward_port_notify *notify)
{
        memset(s, 0, sizeof(*s));
        struct ward_blk_port_layout l;
        int rc = ward_blk_port_attach_rings(mem, mem_bytes, cfg, &l, &s->req_ring,
                                            WARD_RING_CONSUMER, &s->resp_ring, WARD_RING_PRODUCER);
        if (rc != WARD_OK || !ops->read) {
                s->broken = true;
                return rc != WARD_OK ? rc : WARD_EINVAL;
        }
        s->data = (uint8_t *)mem + l.data;
        s->data_bytes = l.data_bytes;
        s->budget = cfg->ring_slots;
        s->disk_bytes = disk_bytes;
        s->ops = *ops;
        s->disk = disk;
        s->notify = *notify;
        return WARD_OK;
}

/* Disk ops that are never called: the backend serves instead. */
static int no_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        (void)o, (void)off, (void)buf, (void)len;
        return -1;
}

int ward_blk_port_server_init_backend(struct ward_blk_port_server *s, void *mem, size_t mem_bytes,
                                      const struct ward_blk_port_config *cfg, uint64_t disk_bytes,
                                      const struct ward_blk_backend *be,
                                      const struct ward_port_notify *notify)
{
        static const struct ward_blk_port_disk_ops none = {no_read, NULL, NULL};
        int rc = ward_blk_port_server_init(s, mem, mem_bytes, cfg, disk_bytes, &none, NULL, notify);
        if (rc != WARD_OK)
                return rc;
        s->async = true;
        s->be = *be;
        s->done = (struct ward_blk_done){backend_done, s};
        return WARD_OK;
}

/* Pushes a response; a ring the client stopped reading breaks the port. */
static void respond(struct ward_blk_port_server *s, const struct ward_blk_port_msg_resp *r)
{
        if (ward_ring_push(&s->resp_ring, r) != 1)
                s->broken = true;
}

/* The backend finished I/O id: answer the client (checks the id like a device would). */
static void backend_done(void *dev, uint32_t id, int status)
{
        struct ward_blk_port_server *s = dev;
        uint32_t slot = id & 0xffffu;
        if (slot >= WARD_BLK_QUEUE_SIZE || !s->io[slot].busy || s->io[slot].io.id != id)
                return;
        struct ward_blk_port_server_io *x = &s->io[slot];
        x->busy = false;
        s->inflight--;
        struct ward_blk_port_msg_resp r = {
            .id = x->msg_id,
            .status = status == 0 ? WARD_BLK_PORT_S_OK : WARD_BLK_PORT_S_IOERR,
            .len = status == 0 ? x->io.len : 0,
        };
        respond(s, &r);
        s->served++;
        ward_port_notify(&s->notify);
}

/* Hands a checked request to the backend; 0, or -1 when no slot is free. */
static int submit_to_backend(struct ward_blk_port_server *s, const struct ward_blk_port_msg_req *m)
{
        unsigned slot = 0;
        while (slot < WARD_BLK_QUEUE_SIZE && s->io[slot].busy)
                slot++;
        if (slot == WARD_BLK_QUEUE_SIZE)
                return -1;
        struct ward_blk_port_server_io *x = &s->io[slot];
        bool flush = m->op == WARD_BLK_PORT_OP_FLUSH;
        x->seq++;
        x->msg_id = m->id;
        x->busy = true;
        x->io = (struct ward_blk_io){
            .type = flush                             ? WARD_VIRTIO_BLK_T_FLUSH
                    : m->op == WARD_BLK_PORT_OP_WRITE ? WARD_VIRTIO_BLK_T_OUT
                                                      : WARD_VIRTIO_BLK_T_IN,
            .offset = flush ? 0 : m->offset,
            .len = flush ? 0 : m->len,
            .niov = flush ? 0 : 1,
            .slot = (uint16_t)slot,
            .id = (uint32_t)slot | ((uint32_t)x->seq << 16),
            .done = &s->done,
        };
        if (!flush)
                x->io.iov[0] = (struct ward_iov){s->data + m->data_off, m->len};
        s->inflight++;
        uint32_t id = x->io.id;
        if (s->be.submit(s->be.opaque, &x->io) != 0)
                backend_done(s, id, -1);
        return 0;
}

/* A read or write must name whole sectors inside both the data region and the disk. */
static bool transfer_ok(const struct ward_blk_port_server *s, const struct ward_blk_port_msg_req *m)
{
        if (m->len == 0 || m->len % WARD_BLK_SECTOR != 0 || m->offset % WARD_BLK_SECTOR != 0)
                return false;
        if (m->len > s->data_bytes || m->data_off > s->data_bytes - m->len)
                return false;
        return m->offset <= s->disk_bytes && m->len <= s->disk_bytes - m->offset;
}

static struct ward_blk_port_msg_resp serve(struct ward_blk_port_server *s,
                                           const struct ward_blk_port_msg_req *m)
{
        struct ward_blk_port_msg_resp resp = {.id = m->id, .status = WARD_BLK_PORT_S_BADREQ};
        int rc;
        switch (m->op) {
        case WARD_BLK_PORT_OP_READ:
        case WARD_BLK_PORT_OP_WRITE:
                if (!transfer_ok(s, m))
                        break;
                if (m->op == WARD_BLK_PORT_OP_READ)
                        rc = s->ops.read(s->disk, m->offset, s->data + m->data_off, m->len);
                else if (s->ops.write)
                        rc = s->ops.write(s->disk, m->offset, s->data + m->data_off, m->len);
                else
                        rc = -1;
                resp.status = rc == 0 ? WARD_BLK_PORT_S_OK : WARD_BLK_PORT_S_IOERR;
                resp.len = rc == 0 ? m->len : 0;
                return resp;
        case WARD_BLK_PORT_OP_FLUSH:
                rc = s->ops.flush ? s->ops.flush(s->disk) : 0;
                resp.status = rc == 0 ? WARD_BLK_PORT_S_OK : WARD_BLK_PORT_S_IOERR;
                return resp;
        default:
                break;
        }
        s->bad_requests++;
        return resp;
}

int ward_blk_port_server_poll(struct ward_blk_port_server *s)
{
        int served = 0;
        while (!s->broken && (uint32_t)served < s->budget) {
                /*
                 * Take a request only when its response has room: an honest
                 * client never has more chunks out than the ring holds, so a
                 * full response ring means a client that does not read them,
                 * and its requests can stay where they are.
                 */
                int room = ward_ring_room(&s->resp_ring);
                if (room < 0)
                        s->broken = true;
                /* Async: every request with the backend will want a response slot too. */
                if (room <= 0 || (s->async && ((uint32_t)room <= s->inflight ||
                                               s->inflight == WARD_BLK_QUEUE_SIZE)))
                        break;
                struct ward_blk_port_msg_req m;
                int rc = ward_ring_pop(&s->req_ring, &m);
                if (rc <= 0) {
                        if (rc < 0)
                                s->broken = true;
                        break;
                }
                served++;
                if (s->async &&
                    (m.op == WARD_BLK_PORT_OP_FLUSH ||
                     ((m.op == WARD_BLK_PORT_OP_READ || m.op == WARD_BLK_PORT_OP_WRITE) &&
                      transfer_ok(s, &m)))) {
                        submit_to_backend(s, &m); /* a slot is free: checked above */
                        continue;
                }
                struct ward_blk_port_msg_resp resp = serve(s, &m);
                respond(s, &resp);
                if (s->broken)
                        break;
                s->served++;
        }
        if (served)
                ward_port_notify(&s->notify);
        return s->broken ? WARD_EBROKEN : served;
}
