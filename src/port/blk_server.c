/* SPDX-License-Identifier: BSD-2-Clause */
/* The block port's server: the backend side (a driver PD or process), no device code. */
#include "ward/port/port_blk.h"

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
                if (room <= 0) {
                        if (room < 0)
                                s->broken = true;
                        break;
                }
                struct ward_blk_port_msg_req m;
                int rc = ward_ring_pop(&s->req_ring, &m);
                if (rc <= 0) {
                        if (rc < 0)
                                s->broken = true;
                        break;
                }
                struct ward_blk_port_msg_resp resp = serve(s, &m);
                if (ward_ring_push(&s->resp_ring, &resp) != 1) {
                        s->broken = true;
                        break;
                }
                s->served++;
                served++;
        }
        if (served)
                ward_port_notify(&s->notify);
        return s->broken ? WARD_EBROKEN : served;
}
