/* SPDX-License-Identifier: BSD-2-Clause */
/* Remote console port; see include/ward/port/port_console.h. */
#include "ward/port/port_console.h"

/* Bytes copied out per sink call: bounded stack use, still few calls. */
#define POLL_CHUNK 256u

size_t ward_console_port_region_bytes(uint32_t ring_bytes)
{
        return ward_ring_pair_bytes(ring_bytes);
}

int ward_console_port_format(void *mem, size_t mem_bytes, uint32_t ring_bytes)
{
        return ward_ring_pair_format(mem, mem_bytes, ring_bytes);
}

int ward_console_port_init(struct ward_console_port *p, void *mem, size_t mem_bytes,
                           uint32_t ring_bytes, enum ward_port_side side,
                           const struct ward_port_notify *notify)
{
        memset(p, 0, sizeof(*p));
        p->notify = *notify;
        return ward_ring_pair_attach(&p->out, &p->in, mem, mem_bytes, ring_bytes,
                                     side == WARD_PORT_CLIENT);
}

uint32_t ward_console_port_room(struct ward_console_port *p)
{
        int room = ward_ring_room(&p->out);
        return room > 0 ? (uint32_t)room : 0;
}

uint32_t ward_console_port_write(struct ward_console_port *p, const void *buf, uint32_t len)
{
        int n = ward_ring_push_n(&p->out, buf, len);
        if (n <= 0)
                return 0;
        ward_port_notify(&p->notify);
        return (uint32_t)n;
}

static void backend_write(void *opaque, const void *buf, uint32_t len)
{
        struct ward_console_port *p = opaque;
        p->dropped += len - ward_console_port_write(p, buf, len);
}

struct ward_console_backend ward_console_port_backend(struct ward_console_port *p)
{
        return (struct ward_console_backend){.write = backend_write, .opaque = p};
}

uint32_t ward_console_port_poll(struct ward_console_port *p, ward_console_port_sink sink,
                                void *opaque)
{
        uint8_t chunk[POLL_CHUNK];
        uint32_t delivered = 0;
        int used = ward_ring_used(&p->in);
        if (used <= 0)
                return 0;
        bool was_full = (uint32_t)used == p->in.count;
        /* One ring's worth at most, so a peer that keeps writing cannot hold us here. */
        while (delivered < p->in.count) {
                /* Copied out once: the sink only ever sees our copy. */
                int k =
                    ward_ring_peek_n(&p->in, chunk, WARD_MIN(POLL_CHUNK, p->in.count - delivered));
                if (k <= 0)
                        break;
                uint32_t took = sink(opaque, chunk, (uint32_t)k);
                if (took > (uint32_t)k)
                        took = (uint32_t)k; /* a sink cannot take more than offered */
                ward_ring_consume(&p->in, took);
                delivered += took;
                if (took < (uint32_t)k)
                        break;
        }
        if (was_full && delivered > 0)
                ward_port_notify(&p->notify); /* the writer may be holding bytes back */
        return delivered;
}
