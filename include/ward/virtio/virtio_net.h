/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio network device (virtio 1.x, 5.1): one receive and one transmit
 * queue, a fixed MAC, link status, mergeable receive buffers, and the
 * checksum and segmentation offloads when the backend can take them.
 *
 * A backend moves whole Ethernet frames: the device hands it each frame
 * the guest sends (send), and the backend gives the device each frame
 * that arrives for the guest (ward_vnet_receive()). A backend that can
 * take the virtio-net header (a tap device with IFF_VNET_HDR) sees it in
 * front of every frame, both ways, and the offloads pass through; any
 * other backend sees bare frames and the guest computes its own checksums.
 * Back-pressure, not loss, both ways: a backend that cannot take a frame
 * now says WARD_EBUSY and calls ward_vnet_tx_resume() later; a frame that
 * finds no receive buffer stays with the backend until rx_ready.
 *
 * Every header, length and chain the guest supplies is checked before
 * use; a frame that fails a check is dropped and counted, never more.
 */
#ifndef WARD_VIRTIO_NET_H
#define WARD_VIRTIO_NET_H

#include "ward/virtio/virtio.h"

#define WARD_VIRTIO_ID_NET 1

/* Feature bits (virtio 1.x, 5.1.3). */
#define WARD_VIRTIO_NET_F_CSUM 0
#define WARD_VIRTIO_NET_F_GUEST_CSUM 1
#define WARD_VIRTIO_NET_F_MAC 5
#define WARD_VIRTIO_NET_F_GUEST_TSO4 7
#define WARD_VIRTIO_NET_F_GUEST_TSO6 8
#define WARD_VIRTIO_NET_F_GUEST_UFO 10
#define WARD_VIRTIO_NET_F_HOST_TSO4 11
#define WARD_VIRTIO_NET_F_HOST_TSO6 12
#define WARD_VIRTIO_NET_F_HOST_UFO 14
#define WARD_VIRTIO_NET_F_MRG_RXBUF 15
#define WARD_VIRTIO_NET_F_STATUS 16

/* The offloads a backend with the header may offer (both directions). */
#define WARD_VNET_OFFLOADS                                                                         \
        ((1ull << WARD_VIRTIO_NET_F_CSUM) | (1ull << WARD_VIRTIO_NET_F_GUEST_CSUM) |               \
         (1ull << WARD_VIRTIO_NET_F_GUEST_TSO4) | (1ull << WARD_VIRTIO_NET_F_GUEST_TSO6) |         \
         (1ull << WARD_VIRTIO_NET_F_GUEST_UFO) | (1ull << WARD_VIRTIO_NET_F_HOST_TSO4) |           \
         (1ull << WARD_VIRTIO_NET_F_HOST_TSO6) | (1ull << WARD_VIRTIO_NET_F_HOST_UFO))

/* struct virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset, num_buffers; little-endian, 12 bytes (VERSION_1 always). */
#define WARD_VNET_HDR_LEN 12
#define WARD_VNET_HDR_F_NEEDS_CSUM 1
#define WARD_VNET_HDR_F_DATA_VALID 2
#define WARD_VNET_GSO_NONE 0
#define WARD_VNET_GSO_TCPV4 1
#define WARD_VNET_GSO_UDP 3
#define WARD_VNET_GSO_TCPV6 4
#define WARD_VNET_GSO_ECN 0x80

#define WARD_VNET_MIN_FRAME 14    /* an Ethernet header */
#define WARD_VNET_MAX_FRAME 65550 /* a 64 KiB IP packet with Ethernet and VLAN headers */
#define WARD_VNET_QUEUE_SIZE 256

struct ward_net_backend {
        /*
         * Sends one frame: iov (niov entries, len bytes) holds the header
         * when vnet_hdr is set, then the frame. Returns 0 when the backend
         * took it, WARD_EBUSY when it cannot now (the frame stays in the
         * guest's ring until ward_vnet_tx_resume()), any other negative
         * value to drop it (counted).
         */
        int (*send)(void *opaque, const struct ward_iov *iov, unsigned niov, uint32_t len);
        /* Optional: ward_vnet_receive() returned 0 and the guest has since posted buffers. */
        void (*rx_ready)(void *opaque);
        /* Optional: the driver settled its features (offload bits among them). */
        void (*features)(void *opaque, uint64_t driver_features);
        void *opaque;
        bool vnet_hdr;     /* frames both ways start with the 12-byte header */
        uint64_t offloads; /* WARD_VNET_OFFLOADS bits it takes (only with vnet_hdr) */
};

/* Counters, for `ward ctl`, tests and diagnostics. */
struct ward_vnet_stats {
        uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
        uint64_t tx_malformed;   /* the guest's frame or header failed a check */
        uint64_t tx_dropped;     /* the backend refused the frame */
        uint64_t rx_dropped;     /* a frame the guest could not take: too big, wrong offload */
        uint64_t rx_bad_buffers; /* a malformed receive chain from the guest */
};

struct ward_vnet {
        struct ward_virtio v;
        struct ward_net_backend be;
        uint8_t config[12]; /* mac[6], status, max_virtqueue_pairs, mtu (le16 each) */
        bool rx_waiting;    /* a frame found no buffer: tell the backend when one comes */
        bool tx_blocked;    /* the backend said busy: wait for ward_vnet_tx_resume() */
        struct ward_vnet_stats stats;
        struct ward_chain chain; /* scratch */
        struct ward_chain first; /* rx: the chain that gets the header */
        uint16_t rx_heads[WARD_VNET_QUEUE_SIZE];
        uint32_t rx_lens[WARD_VNET_QUEUE_SIZE];
        struct ward_iov tx_iov[WARD_VQ_MAX_CHAIN];
};

/* Prepares the device with its MAC; the machine then calls ward_virtio_init(&n->v, ...). */
void ward_vnet_setup(struct ward_vnet *n, const struct ward_net_backend *be, const uint8_t mac[6]);
/*
 * A frame for the guest: the header first when the backend has vnet_hdr.
 * Returns 1 when the guest has it, 0 when the guest has no buffer for it
 * now (keep it: rx_ready follows), or WARD_EINVAL when it can never take
 * it (dropped and counted).
 */
int ward_vnet_receive(struct ward_vnet *n, const void *frame, uint32_t len);
/* The backend can take frames again after a WARD_EBUSY. */
void ward_vnet_tx_resume(struct ward_vnet *n);

#endif
