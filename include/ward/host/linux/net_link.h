/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What is behind a virtio-net device on Linux: a descriptor that carries
 * Ethernet frames, and the code that moves them between it and the device
 * (ward/virtio/virtio_net.h).
 *
 *  - TAP: a tap interface opened with IFF_VNET_HDR. One read is one frame,
 *    one write is one frame, each with the virtio-net header in front, so
 *    the checksum and segmentation offloads pass through (TUNSETOFFLOAD
 *    follows what the guest's driver accepted).
 *  - STREAM: a connected stream socket to a user-mode network stack
 *    (passt, started by net_user_start()). Each frame is a 32-bit
 *    big-endian length and the bare frame, as QEMU's stream netdev and
 *    passt speak. The peer is another process: its lengths are checked
 *    like a guest's, and a stream it breaks takes the link down, never
 *    the VMM.
 *  - PORT: a port of a network's switch, a process of its own (ward system
 *    up): a net port (ward/port/port_net.h) in an inherited memfd, with an
 *    eventfd each way. The switch's notification means frames came, or
 *    room did.
 *
 * Back-pressure both ways: a frame the guest has no buffer for stays here
 * (and the link reads no more) until the guest posts buffers; a frame the
 * socket cannot take whole is kept and sent when it can, and the device
 * waits for it. The runner calls these with the device's lock held.
 */
#ifndef WARD_HOST_LINUX_NET_LINK_H
#define WARD_HOST_LINUX_NET_LINK_H

#include "ward/port/port_net.h"
#include "ward/virtio/virtio_net.h"
#include "ward/vm/vm_config.h"

#include <sys/types.h>

#define WARD_NET_LINK_RX_BUF (4u + WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME + 65536u)
#define WARD_NET_LINK_TX_BUF (4u + WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME)

enum ward_net_link_kind {
        WARD_NET_LINK_TAP,
        WARD_NET_LINK_STREAM,
        WARD_NET_LINK_PORT,
};

struct ward_net_link {
        enum ward_net_link_kind kind;
        int fd;
        pid_t pid;             /* the user-mode stack's process, or -1 */
        unsigned index;        /* the NIC's number, for messages */
        struct ward_vnet *dev; /* set once the device exists */
        bool down;             /* the peer went away: frames are dropped */
        /* Received bytes not yet given to the guest: [rx_off, rx_len). */
        uint32_t rx_off, rx_len;
        bool rx_held; /* the frame at rx_off waits for guest buffers */
        /* A frame the socket took only part of: [tx_off, tx_len) is left. */
        uint32_t tx_off, tx_len;
        uint64_t rx_dropped; /* frames from the peer that fail a check */
        /* PORT: the device's side of the net port in shared memory (it has
         * its own dev, down and held); fd is the switch's eventfd for us,
         * kick ours for it. */
        struct ward_net_port_client port;
        void *port_mem;
        size_t port_size;
        int kick;
        uint8_t rx[WARD_NET_LINK_RX_BUF];
        uint8_t tx[WARD_NET_LINK_TX_BUF];
};

/*
 * Opens what cfg asks for: the tap interface cfg->tap, or a socket pair
 * with passt started on its other end. l must be zeroed storage.
 */
int ward_net_link_open(struct ward_net_link *l, const struct ward_net_config *cfg, unsigned index,
                       char *err, size_t errlen);
/* The device's backend: frames from the guest go to send(). */
struct ward_net_backend ward_net_link_backend(struct ward_net_link *l);
/* True while the link should be read: up, and no frame held back. */
bool ward_net_link_wants_input(const struct ward_net_link *l);
/* True while part of a frame waits for the socket to take it. */
bool ward_net_link_wants_output(const struct ward_net_link *l);
/* The descriptor is readable: reads and delivers what the guest can take. */
void ward_net_link_input(struct ward_net_link *l);
/* The descriptor is writable: sends the rest of a frame, then lets the device go on. */
void ward_net_link_output(struct ward_net_link *l);
void ward_net_link_close(struct ward_net_link *l);

/* Builds passt's command line for cfg (argv, at most max entries with the NULL);
 * fd is the socket passt gets. Storage for the numbers is in buf. */
int ward_net_user_argv(const struct ward_net_config *cfg, int fd, const char **argv, unsigned max,
                       char *buf, size_t buflen);

#endif
