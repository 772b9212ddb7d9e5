/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remote console port: two byte streams between the VMM and a serial
 * server in another process or protection domain. Each stream is a
 * struct ward_ring with 1-byte slots, so a batch of bytes costs one index
 * update, and a hostile peer can do no more than garble its own stream.
 *
 * Shared region layout (ring_bytes, a power of two, is the local
 * configuration of both sides):
 *   +0                          client -> server ring (the VMM's output)
 *   +align64(ring(ring_bytes))  server -> client ring (input for the guest)
 *
 * Full rings. Output that does not fit is cut off and counted in `dropped`:
 * a device cannot wait for a slow serial server (virtio-console completes
 * transmit buffers at once, and a UART write is a single trapped store), and
 * stalling the vCPU on another domain would let that domain stop the guest.
 * Input is not lost: the poll function hands bytes to a sink that may take
 * fewer than offered (a full UART FIFO), and the rest stay in the ring until
 * the next poll. Whenever a reader frees space in a ring that was full it
 * notifies its peer, so a writer holding back input knows to try again.
 */
#ifndef WARD_PORT_CONSOLE_H
#define WARD_PORT_CONSOLE_H

#include "ward/port/port_notify.h"
#include "ward/port/port_ring.h"
#include "ward/virtio/virtio_console.h"

struct ward_console_port {
        struct ward_ring out; /* bytes this side sends */
        struct ward_ring in;  /* bytes this side receives */
        struct ward_port_notify notify;
        uint64_t dropped; /* bytes the backend write had to cut off */
};

/* Bytes the shared region needs, or 0 if ring_bytes is not a valid ring size. */
size_t ward_console_port_region_bytes(uint32_t ring_bytes);
/* Resets both streams (optional for zero-filled memory). */
int ward_console_port_format(void *mem, size_t mem_bytes, uint32_t ring_bytes);
/* Attaches one side; notify wakes the peer. */
int ward_console_port_init(struct ward_console_port *p, void *mem, size_t mem_bytes,
                           uint32_t ring_bytes, enum ward_port_side side,
                           const struct ward_port_notify *notify);

/*
 * Bytes a write would take now (0 for a broken port). A writer that must
 * not drop input (the serial server) reads no more from its source than this.
 */
uint32_t ward_console_port_room(struct ward_console_port *p);
/* Sends what fits of buf; returns the bytes taken, notifying the peer if any were. */
uint32_t ward_console_port_write(struct ward_console_port *p, const void *buf, uint32_t len);

/*
 * The VMM's output backend for virtio-console (and, with the same
 * signature, the UART's `out`): writes what fits, counts the rest as dropped.
 */
struct ward_console_backend ward_console_port_backend(struct ward_console_port *p);

/* Takes up to len bytes; returns how many it took (ward_vconsole_input, ward_uart_input). */
typedef uint32_t (*ward_console_port_sink)(void *opaque, const void *buf, uint32_t len);

/*
 * Call when the peer's notification arrives: hands received bytes to sink
 * in order until the ring is empty or the sink takes less than offered.
 * Returns the bytes delivered (at most one ring's worth per call).
 */
uint32_t ward_console_port_poll(struct ward_console_port *p, ward_console_port_sink sink,
                                void *opaque);

#endif
