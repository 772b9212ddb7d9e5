/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Remote block port: the layout both sides share. The client (VMM side, a
 * ward_blk_backend) is blk_client.c, the server (backend side, over struct
 * ward_blk_port_disk_ops) blk_server.c: a backend links this file and the
 * server only, never device code. The protocol and its trust rules are
 * described in include/ward/port/port_blk.h.
 */
#include "ward/port/port_blk.h"

#define NO_BUF 0xffffu
#define SLOT_BITS 16u
#define SLOT_MASK ((1u << SLOT_BITS) - 1u)

_Static_assert(sizeof(struct ward_blk_port_msg_req) == 24, "request wire format");
_Static_assert(sizeof(struct ward_blk_port_msg_resp) == 16, "response wire format");
_Static_assert(WARD_BLK_PORT_MAX_SLOTS <= SLOT_MASK + 1u, "slot index fits the id");
_Static_assert(WARD_BLK_PORT_MAX_BUFS < NO_BUF, "buffer index fits");

static size_t align_up(size_t v, size_t a)
{
        return (v + a - 1) & ~(a - 1);
}

int ward_blk_port_layout(const struct ward_blk_port_config *cfg, struct ward_blk_port_layout *l)
{
        memset(l, 0, sizeof(*l));
        if (cfg->ring_slots == 0 || cfg->ring_slots > WARD_BLK_PORT_MAX_SLOTS ||
            (cfg->ring_slots & (cfg->ring_slots - 1)) != 0)
                return WARD_EINVAL;
        if (cfg->nbufs == 0 || cfg->nbufs > WARD_BLK_PORT_MAX_BUFS)
                return WARD_EINVAL;
        if (cfg->buf_bytes == 0 || cfg->buf_bytes % WARD_BLK_SECTOR != 0)
                return WARD_EINVAL;
        /* Data offsets travel as 32-bit values. */
        uint64_t data_bytes = (uint64_t)cfg->nbufs * cfg->buf_bytes;
        if (data_bytes > UINT32_MAX)
                return WARD_EINVAL;
        l->req_ring_bytes = ward_ring_bytes(cfg->ring_slots, sizeof(struct ward_blk_port_msg_req));
        l->resp_ring_bytes =
            ward_ring_bytes(cfg->ring_slots, sizeof(struct ward_blk_port_msg_resp));
        l->req_ring = 0;
        /* Cache-line aligned rings keep the two sides' indices apart. */
        l->resp_ring = align_up(l->req_ring_bytes, 64);
        l->data = align_up(l->resp_ring + l->resp_ring_bytes, WARD_BLK_PORT_ALIGN);
        l->data_bytes = (uint32_t)data_bytes;
        l->total = l->data + l->data_bytes;
        return WARD_OK;
}

int ward_blk_port_format(void *mem, size_t mem_bytes, const struct ward_blk_port_config *cfg)
{
        struct ward_blk_port_layout l;
        if (ward_blk_port_layout(cfg, &l) != WARD_OK || mem_bytes < l.total)
                return WARD_EINVAL;
        uint8_t *m = mem;
        int rc = ward_ring_format(m + l.req_ring, l.req_ring_bytes, cfg->ring_slots,
                                  sizeof(struct ward_blk_port_msg_req), 0);
        if (rc == WARD_OK)
                rc = ward_ring_format(m + l.resp_ring, l.resp_ring_bytes, cfg->ring_slots,
                                      sizeof(struct ward_blk_port_msg_resp), 0);
        return rc;
}

/* Attaches both rings with the given roles; shared by client and server. */
int ward_blk_port_attach_rings(void *mem, size_t mem_bytes, const struct ward_blk_port_config *cfg,
                               struct ward_blk_port_layout *l, struct ward_ring *req,
                               enum ward_ring_role req_role, struct ward_ring *resp,
                               enum ward_ring_role resp_role)
{
        int rc = ward_blk_port_layout(cfg, l);
        if (rc != WARD_OK)
                return rc;
        if (!mem || mem_bytes < l->total)
                return WARD_EINVAL;
        uint8_t *m = mem;
        rc = ward_ring_attach(req, m + l->req_ring, l->req_ring_bytes, cfg->ring_slots,
                              sizeof(struct ward_blk_port_msg_req), req_role);
        if (rc != WARD_OK)
                return rc;
        return ward_ring_attach(resp, m + l->resp_ring, l->resp_ring_bytes, cfg->ring_slots,
                                sizeof(struct ward_blk_port_msg_resp), resp_role);
}
