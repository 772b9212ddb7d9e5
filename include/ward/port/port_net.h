/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The network port: Ethernet frames both ways between a VMM (the client:
 * its virtio-net device) and a switch (the server) in another process or
 * protection domain. Each direction is a byte ring (struct ward_ring with
 * 1-byte slots) carrying frames as a 32-bit little-endian length and the
 * frame; a frame goes in whole or not at all, so a reader never waits on
 * half of one.
 *
 * The peer is not trusted. A length no Ethernet frame has (shorter than
 * its header, longer than WARD_VNET_MAX_FRAME) breaks the port for good:
 * from then on it carries nothing, and the rest of the VM or the switch
 * goes on. A frame that has not all arrived is left for the next call.
 *
 * Shared region layout (ring_bytes, a power of two of at least
 * WARD_NET_PORT_MIN_RING, is the local configuration of both sides):
 *   +0                          client -> server ring (the guest's frames)
 *   +align64(ring(ring_bytes))  server -> client ring (frames for the guest)
 */
#ifndef WARD_PORT_NET_H
#define WARD_PORT_NET_H

#include "ward/port/port_notify.h"
#include "ward/port/port_ring.h"
#include "ward/virtio/virtio_net.h"
#include "ward/virtio/virtqueue.h"

#define WARD_NET_PORT_LEN 4
#define WARD_NET_PORT_MAX_FRAME 65550 /* WARD_VNET_MAX_FRAME */
#define WARD_NET_PORT_MIN_FRAME 14
/* The smallest ring that holds the largest frame. */
#define WARD_NET_PORT_MIN_RING (128u * 1024u)
/* The ring size a VMM and its switch both use (ward system up). */
#define WARD_NET_PORT_RING (256u * 1024u)

struct ward_net_port {
        struct ward_ring out; /* frames this side sends */
        struct ward_ring in;  /* frames this side receives */
        struct ward_port_notify notify;
        bool broken; /* the peer broke the framing */
};

/* Bytes the shared region needs, or 0 if ring_bytes is not a valid size. */
size_t ward_net_port_region_bytes(uint32_t ring_bytes);
/* Resets both rings (optional for zero-filled memory). */
int ward_net_port_format(void *mem, size_t mem_bytes, uint32_t ring_bytes);
/* Attaches one side; notify wakes the peer. */
int ward_net_port_init(struct ward_net_port *p, void *mem, size_t mem_bytes, uint32_t ring_bytes,
                       enum ward_port_side side, const struct ward_port_notify *notify);
/*
 * Sends one frame of len bytes gathered from iov: 1 when it went in (the
 * peer is notified), 0 when the ring has no room for it now, WARD_EINVAL
 * for a length no frame has, WARD_EBROKEN for a broken port.
 */
int ward_net_port_send(struct ward_net_port *p, const struct ward_iov *iov, unsigned niov,
                       uint32_t len);
/*
 * Takes the next whole frame into buf (room: at least
 * WARD_NET_PORT_MAX_FRAME bytes): its length, 0 when none has all
 * arrived, or WARD_EBROKEN (the peer broke the framing, now or before).
 * A reader that frees room notifies the peer, who may be waiting for it.
 */
int ward_net_port_recv(struct ward_net_port *p, void *buf, uint32_t room);

/*
 * A virtio-net device's side of a port (src/port/net_client.c): the
 * device's backend and the peer's wake-ups, for every runner (the Linux
 * VMM's link to a switch process, the seL4 VMM PD's to a switch PD).
 *
 *  - The guest's frames go into the port whole; a full ring makes the
 *    device wait (WARD_EBUSY) until the switch's next notification, which
 *    means it made room.
 *  - The switch's frames go to the guest in order; one the guest has no
 *    buffer for is held (and the port read no further) until it posts some.
 *  - A switch that breaks the framing takes the link down: from then on
 *    the guest's frames are dropped, and on_down is told once.
 *
 * The runner attaches `port` (ward_net_port_init(), or a host's own
 * attach), sets dev once the device exists, and calls
 * ward_net_port_client_poll() for each notification from the switch.
 */
struct ward_net_port_client {
        struct ward_net_port port;
        struct ward_vnet *dev;
        bool down; /* the switch broke the port */
        bool held; /* rx[0, rx_len) waits for the guest's buffers */
        bool full; /* a send found no room */
        uint32_t rx_len;
        uint64_t rx_dropped; /* frames the guest could never take */
        void (*on_down)(void *ctx);
        void *ctx;
        uint8_t rx[WARD_NET_PORT_MAX_FRAME];
};

/* The device's backend: bare frames (no virtio-net header), no offloads. */
struct ward_net_backend ward_net_port_client_backend(struct ward_net_port_client *c);
/* The switch notified: frames came for the guest, or room for its frames. */
void ward_net_port_client_poll(struct ward_net_port_client *c);

#endif
