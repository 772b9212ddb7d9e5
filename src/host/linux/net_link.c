/* SPDX-License-Identifier: BSD-2-Clause */
/* Moving frames between a virtio-net device and its descriptor (see net_link.h). */
#include "ward/host/linux/net_link.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define READS_PER_WAKE 64 /* tap frames read per readiness, so one NIC cannot hog the loop */

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void link_down(struct ward_net_link *l, const char *why)
{
        if (l->down)
                return;
        l->down = true;
        l->rx_off = l->rx_len = 0;
        l->tx_off = l->tx_len = 0;
        fprintf(stderr, "\r\nward: net %u: %s; the guest's frames are dropped from now on\r\n",
                l->index, why);
}

/* ---- guest to peer ---- */

static int link_send(void *opaque, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        struct ward_net_link *l = opaque;
        if (l->down)
                return WARD_EIO;
        if (l->tx_len)
                return WARD_EBUSY; /* the last frame is not all out yet */
        uint32_t at = 0;
        if (l->kind == WARD_NET_LINK_STREAM) {
                uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                                (uint8_t)len};
                memcpy(l->tx, n, sizeof(n));
                at = sizeof(n);
        }
        if (len > sizeof(l->tx) - at)
                return WARD_EINVAL; /* the device checked; never true */
        at += ward_iov_read(iov, niov, 0, l->tx + at, len);
        if (l->kind == WARD_NET_LINK_TAP) {
                /* A tap takes a frame whole or not at all; a full one drops it, as a NIC would. */
                return write(l->fd, l->tx, at) == (ssize_t)at ? 0 : WARD_EIO;
        }
        ssize_t n = send(l->fd, l->tx, at, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                link_down(l, "the user-mode network's socket failed");
                return WARD_EIO;
        }
        if (n == (ssize_t)at)
                return 0;
        /* The socket took part of it: keep the rest, and take no more until it is out. */
        l->tx_off = n > 0 ? (uint32_t)n : 0;
        l->tx_len = at;
        return 0;
}

bool ward_net_link_wants_output(const struct ward_net_link *l)
{
        return !l->down && l->tx_len > 0;
}

void ward_net_link_output(struct ward_net_link *l)
{
        while (l->tx_len && !l->down) {
                ssize_t n = send(l->fd, l->tx + l->tx_off, l->tx_len - l->tx_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        link_down(l, "the user-mode network's socket failed");
                        return;
                }
                l->tx_off += (uint32_t)n;
                if (l->tx_off == l->tx_len)
                        l->tx_off = l->tx_len = 0;
        }
        if (l->dev)
                ward_vnet_tx_resume(l->dev); /* frames the guest queued meanwhile */
}

/* ---- peer to guest ---- */

/*
 * Gives the guest the frames buffered whole, in order; stops at one it
 * has no buffer for (held until rx_ready). A stream frame's length is the
 * peer's claim: one that no Ethernet frame can have breaks the stream.
 */
static void deliver(struct ward_net_link *l)
{
        while (!l->down && l->dev && l->rx_off < l->rx_len) {
                const uint8_t *p = l->rx + l->rx_off;
                uint32_t have = l->rx_len - l->rx_off, len = have, skip = 0;
                if (l->kind == WARD_NET_LINK_STREAM) {
                        if (have < 4)
                                break;
                        len = be32(p);
                        if (len < WARD_VNET_MIN_FRAME || len > WARD_VNET_MAX_FRAME) {
                                link_down(l, "the user-mode network sent a frame length no "
                                             "Ethernet frame has");
                                return;
                        }
                        if (have - 4 < len)
                                break; /* the rest is still to come */
                        skip = 4;
                }
                int rc = ward_vnet_receive(l->dev, p + skip, len);
                if (rc == 0) {
                        l->rx_held = true;
                        return;
                }
                if (rc < 0)
                        l->rx_dropped++;
                l->rx_off += skip + len;
        }
        if (l->rx_off == l->rx_len)
                l->rx_off = l->rx_len = 0;
}

static void link_rx_ready(void *opaque)
{
        struct ward_net_link *l = opaque;
        l->rx_held = false;
        deliver(l);
}

bool ward_net_link_wants_input(const struct ward_net_link *l)
{
        /* A port's eventfd also says the switch made room: read it even while a frame is held. */
        if (l->kind == WARD_NET_LINK_PORT)
                return !l->port.down;
        return !l->down && !l->rx_held;
}

void ward_net_link_input(struct ward_net_link *l)
{
        if (l->kind == WARD_NET_LINK_PORT) {
                uint64_t n;
                if (read(l->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                        return;
                ward_net_port_client_poll(&l->port);
                return;
        }
        if (l->kind == WARD_NET_LINK_TAP) {
                for (unsigned i = 0; i < READS_PER_WAKE && ward_net_link_wants_input(l); i++) {
                        ssize_t n = read(l->fd, l->rx, sizeof(l->rx));
                        if (n <= 0)
                                return; /* EAGAIN: drained */
                        l->rx_off = 0;
                        l->rx_len = (uint32_t)n;
                        deliver(l);
                }
                return;
        }
        if (!ward_net_link_wants_input(l))
                return;
        if (l->rx_off) {
                memmove(l->rx, l->rx + l->rx_off, l->rx_len - l->rx_off);
                l->rx_len -= l->rx_off;
                l->rx_off = 0;
        }
        ssize_t n = recv(l->fd, l->rx + l->rx_len, sizeof(l->rx) - l->rx_len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                link_down(l, "the user-mode network (passt) has ended");
                return;
        }
        if (n > 0)
                l->rx_len += (uint32_t)n;
        deliver(l);
}

/* ---- the device's view ---- */

/* A tap sends the guest only the offloads the guest's driver accepted. */
static void link_features(void *opaque, uint64_t f)
{
        struct ward_net_link *l = opaque;
        if (l->kind != WARD_NET_LINK_TAP)
                return;
        unsigned off = 0;
        if (f & (1ull << WARD_VIRTIO_NET_F_GUEST_CSUM)) {
                off |= TUN_F_CSUM;
                if (f & (1ull << WARD_VIRTIO_NET_F_GUEST_TSO4))
                        off |= TUN_F_TSO4;
                if (f & (1ull << WARD_VIRTIO_NET_F_GUEST_TSO6))
                        off |= TUN_F_TSO6;
        }
        if (ioctl(l->fd, TUNSETOFFLOAD, off) < 0)
                fprintf(stderr, "\r\nward: net %u: TUNSETOFFLOAD: %s\r\n", l->index,
                        strerror(errno));
}

struct ward_net_backend ward_net_link_backend(struct ward_net_link *l)
{
        if (l->kind == WARD_NET_LINK_PORT)
                return ward_net_port_client_backend(&l->port);
        bool tap = l->kind == WARD_NET_LINK_TAP;
        return (struct ward_net_backend){
            .send = link_send,
            .rx_ready = link_rx_ready,
            .features = link_features,
            .opaque = l,
            .vnet_hdr = tap,
            /* UFO is left out: kernels since 4.14 no longer segment UDP for a tap. */
            .offloads = tap ? (1ull << WARD_VIRTIO_NET_F_CSUM) |
                                  (1ull << WARD_VIRTIO_NET_F_GUEST_CSUM) |
                                  (1ull << WARD_VIRTIO_NET_F_HOST_TSO4) |
                                  (1ull << WARD_VIRTIO_NET_F_HOST_TSO6) |
                                  (1ull << WARD_VIRTIO_NET_F_GUEST_TSO4) |
                                  (1ull << WARD_VIRTIO_NET_F_GUEST_TSO6)
                            : 0,
        };
}
