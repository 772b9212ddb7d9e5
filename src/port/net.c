/* SPDX-License-Identifier: BSD-2-Clause */
/* The network port; see include/ward/port/port_net.h. */
#include "ward/port/port_net.h"

size_t ward_net_port_region_bytes(uint32_t ring_bytes)
{
        return ring_bytes >= WARD_NET_PORT_MIN_RING ? ward_ring_pair_bytes(ring_bytes) : 0;
}

int ward_net_port_format(void *mem, size_t mem_bytes, uint32_t ring_bytes)
{
        if (ring_bytes < WARD_NET_PORT_MIN_RING)
                return WARD_EINVAL;
        return ward_ring_pair_format(mem, mem_bytes, ring_bytes);
}

int ward_net_port_init(struct ward_net_port *p, void *mem, size_t mem_bytes, uint32_t ring_bytes,
                       enum ward_port_side side, const struct ward_port_notify *notify)
{
        memset(p, 0, sizeof(*p));
        p->notify = *notify;
        int rc = ring_bytes < WARD_NET_PORT_MIN_RING
                     ? WARD_EINVAL
                     : ward_ring_pair_attach(&p->out, &p->in, mem, mem_bytes, ring_bytes,
                                             side == WARD_PORT_CLIENT);
        p->broken = rc != WARD_OK;
        return rc;
}

int ward_net_port_send(struct ward_net_port *p, const struct ward_iov *iov, unsigned niov,
                       uint32_t len)
{
        if (p->broken || ward_ring_is_broken(&p->out))
                return WARD_EBROKEN;
        if (len < WARD_NET_PORT_MIN_FRAME || len > WARD_NET_PORT_MAX_FRAME)
                return WARD_EINVAL;
        int room = ward_ring_room(&p->out);
        if (room < 0)
                return WARD_EBROKEN;
        if ((uint32_t)room < WARD_NET_PORT_LEN + len)
                return 0;
        uint8_t n[WARD_NET_PORT_LEN] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                                        (uint8_t)(len >> 24)};
        /* Room was checked and only this side fills the ring: each push takes it all. */
        int rc = ward_ring_push_n(&p->out, n, sizeof(n));
        uint32_t left = len;
        for (unsigned i = 0; i < niov && left && rc >= 0; i++) {
                uint32_t k = WARD_MIN(iov[i].len, left);
                rc = ward_ring_push_n(&p->out, iov[i].base, k);
                left -= k;
        }
        if (rc < 0 || left)
                return WARD_EBROKEN;
        ward_port_notify(&p->notify);
        return 1;
}

int ward_net_port_recv(struct ward_net_port *p, void *buf, uint32_t room)
{
        if (p->broken)
                return WARD_EBROKEN;
        uint8_t n[WARD_NET_PORT_LEN];
        int used = ward_ring_used(&p->in);
        if (used < 0 || ward_ring_peek_n(&p->in, n, sizeof(n)) < 0) {
                p->broken = true;
                return WARD_EBROKEN;
        }
        if ((uint32_t)used < WARD_NET_PORT_LEN)
                return 0;
        uint32_t len =
            (uint32_t)n[0] | (uint32_t)n[1] << 8 | (uint32_t)n[2] << 16 | (uint32_t)n[3] << 24;
        if (len < WARD_NET_PORT_MIN_FRAME || len > WARD_NET_PORT_MAX_FRAME || len > room) {
                p->broken = true; /* no frame has that length: the stream is lost */
                return WARD_EBROKEN;
        }
        if ((uint32_t)used - WARD_NET_PORT_LEN < len)
                return 0; /* the rest is still to come */
        /* A sender that could not fit a frame waits for the room this makes. */
        int free_before = ward_ring_room(&p->in);
        if (ward_ring_consume(&p->in, WARD_NET_PORT_LEN) < 0 ||
            ward_ring_pop_n(&p->in, buf, len) != (int)len) {
                p->broken = true;
                return WARD_EBROKEN;
        }
        if (free_before >= 0 && (uint32_t)free_before < WARD_NET_PORT_LEN + WARD_NET_PORT_MAX_FRAME)
                ward_port_notify(&p->notify);
        return (int)len;
}
