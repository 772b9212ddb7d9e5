/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio-net between two hostile sides. The guest side is a driver that
 * writes registers, descriptors, ring entries and bytes anywhere in fake
 * guest RAM (tests/unit/fake_guest.c) and notifies; the other side is
 * either a backend that hands in frames with headers that lie and answers
 * sends busy or failed at random, or the Linux NIC link
 * (src/host/linux/net_link.c) reading a byte stream from a peer that plays
 * passt and frames whatever it likes. The checks here: a frame the device
 * hands on is inside guest RAM and no longer than an Ethernet frame with
 * its header; the sanitizers catch the rest. More steps play a switch:
 * three net ports (src/net/switch_ports.c over the table of vswitch.c),
 * the first of which the input writes into at will, with frames from the
 * other two VMs; the device may also sit on that first port's client side
 * (src/port/net_client.c), as a VMM's NIC does. The table may name no port
 * the switch does not have.
 */
#include "fake_guest.h"
#include "fuzz_input.h"

#include "ward/host/linux/net_link.h"
#include "ward/net/switch_ports.h"
#include "ward/net/vswitch.h"
#include "ward/port/port_net.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QSIZE 16

static struct fake_guest g;
static struct ward_vnet net;
static struct ward_net_link *link_;
static int peer = -1;
/* A switch of three ports; port 0's shared rings take whatever the input
 * writes, and its client side is the NIC's (how & 64) or nobody's. */
#define NPORTS 3
static uint8_t *port_mem[NPORTS];
static struct ward_switch_ports sw;
static struct ward_net_port vm_side[NPORTS];
static struct ward_net_port_client nic;
static int send_rc;
/* Ports an input may have written: only those are zeroed for the next one
 * (each is 256 KiB; zeroing all three for every input halved the rate). */
static bool port_dirty[NPORTS] = {true, true, true};

static int fake_send(void *opaque, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        (void)opaque;
        if (len > WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME)
                abort(); /* longer than the device may ever hand on */
        /* Every byte handed on is read, as a backend would: a copy, which
         * ASan checks whole. A loop over the bytes took 60% of the time
         * under coverage instrumentation. */
        static uint8_t sink[WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME];
        uint32_t sum = 0;
        for (unsigned i = 0; i < niov; i++) {
                if (!ward_gmem_ptr(&g.gm, FG_RAM_BASE + (uint64_t)(iov[i].base - g.ram),
                                   iov[i].len))
                        abort(); /* outside guest RAM */
                if (iov[i].len > len - sum)
                        abort(); /* more than the length it claims */
                memcpy(sink + sum, iov[i].base, iov[i].len);
                sum += iov[i].len;
        }
        if (sum != len)
                abort();
        return send_rc;
}

static void noop_rx_ready(void *opaque)
{
        (void)opaque;
}

/* The link over a socket pair, made once; each input starts it afresh. */
static void link_reset(bool use_link)
{
        if (!link_) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
                        abort();
                link_ = calloc(1, sizeof(*link_));
                if (!link_)
                        abort();
                link_->fd = sv[0];
                peer = sv[1];
        }
        uint8_t drain[4096];
        while (recv(link_->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0)
                ;
        while (recv(peer, drain, sizeof(drain), MSG_DONTWAIT) > 0)
                ;
        int fd = link_->fd;
        memset(link_, 0, offsetof(struct ward_net_link, rx));
        link_->kind = WARD_NET_LINK_STREAM;
        link_->fd = fd;
        link_->pid = -1;
        link_->dev = use_link ? &net : NULL;
}

static void port_reset(void)
{
        size_t bytes = ward_net_port_region_bytes(WARD_NET_PORT_MIN_RING);
        struct ward_port_notify none = {0};
        for (unsigned i = 0; i < NPORTS; i++) {
                if (!port_mem[i])
                        port_mem[i] = fg_map_pages(bytes);
                else if (port_dirty[i])
                        fg_zero_pages(port_mem[i], bytes);
                port_dirty[i] = false;
                if (ward_net_port_init(&sw.port[i], port_mem[i], bytes, WARD_NET_PORT_MIN_RING,
                                       WARD_PORT_SERVER, &none) ||
                    ward_net_port_init(&vm_side[i], port_mem[i], bytes, WARD_NET_PORT_MIN_RING,
                                       WARD_PORT_CLIENT, &none))
                        abort();
                sw.dead[i] = false;
        }
        struct ward_vswitch_port_config c[NPORTS] = {
            {.mac = {2, 0, 0, 0, 0, 1}, .reach = ~0u, .rate_frames = 100},
            {.mac = {0}, .vlan = 7, .reach = ~0u},
            {.mac = {2, 0, 0, 0, 0, 3}, .reach = 1, .rate_bytes = 10000},
        };
        if (ward_vswitch_init(&sw.vs, c, NPORTS, 50))
                abort();
        memset(&nic, 0, offsetof(struct ward_net_port_client, rx));
        nic.port = vm_side[0];
}

static void bring_up(uint8_t how)
{
        port_reset();
        fg_reset(&g);
        memset(&net, 0, sizeof(net));
        bool use_link = how & 1, hdr = !use_link && (how & 2);
        link_reset(use_link);
        struct ward_net_backend be = {
            .send = fake_send,
            .rx_ready = noop_rx_ready,
            .vnet_hdr = hdr,
            .offloads = hdr ? WARD_VNET_OFFLOADS : 0,
        };
        if (use_link)
                be = ward_net_link_backend(link_);
        else if (how & 64)
                be = ward_net_port_client_backend(&nic);
        port_dirty[0] |= !use_link && (how & 64);
        nic.dev = !use_link && (how & 64) ? &net : NULL;
        static const uint8_t mac[6] = {2, 0x77, 0x61, 0x72, 0x64, 0};
        ward_vnet_setup(&net, &be, mac);
        ward_virtio_init(&net.v, &g.gm, fg_irq, &g);
        /* The driver accepts a choice of what was offered. */
        uint64_t features = 1ull << WARD_VIRTIO_F_VERSION_1;
        if (how & 4)
                features |= 1ull << WARD_VIRTIO_NET_F_MRG_RXBUF;
        if (how & 8)
                features |= net.v.device_features & WARD_VNET_OFFLOADS;
        if (how & 16)
                features |= 1ull << WARD_VIRTIO_F_EVENT_IDX;
        if (how & 32)
                features |= 1ull << WARD_VIRTIO_F_INDIRECT_DESC;
        fg_driver_init(&g, &net.v, features, QSIZE);
        send_rc = 0;
}

static uint64_t gpa_of(struct fuzz_in *in)
{
        uint32_t off = fuzz_u32(in);
        if (off >> 31)
                return (uint64_t)off << 8;
        return FG_RAM_BASE + off % FG_RAM_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        bring_up(fuzz_u8(&in));
        static uint8_t frame[WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME + 16];
        for (unsigned steps = 0; in.left && steps < 256; steps++) {
                uint8_t op = fuzz_u8(&in);
                unsigned q = (op >> 4) & 1;
                switch (op & 0xf) {
                case 0:
                        fg_mmio_write(&net.v, (fuzz_u16(&in) % 0x200) & ~3u, fuzz_u32(&in));
                        break;
                case 1: { /* raw bytes anywhere in RAM */
                        uint32_t off = fuzz_u32(&in) % FG_RAM_SIZE;
                        uint8_t len = fuzz_u8(&in);
                        if (len > FG_RAM_SIZE - off)
                                len = (uint8_t)(FG_RAM_SIZE - off);
                        fuzz_bytes(&in, g.ram + off, len);
                        break;
                }
                case 2: { /* a descriptor, sized anywhere up to past a jumbo frame */
                        uint16_t i = fuzz_u16(&in) % QSIZE;
                        uint64_t addr = gpa_of(&in);
                        uint32_t len = fuzz_u32(&in) % (2 * WARD_VNET_MAX_FRAME);
                        uint16_t flags = fuzz_u8(&in) & 7, next = fuzz_u16(&in);
                        fg_desc(&g, q, i, addr, len, flags, next);
                        break;
                }
                case 3:
                        fg_avail(&g, q, fuzz_u16(&in));
                        break;
                case 4:
                        fg_set_avail_idx(&g, q, fuzz_u16(&in));
                        break;
                case 5:
                        fg_mmio_write(&net.v, 0x050, q);
                        break;
                case 6:
                        fg_set_used_event(&g, q, fuzz_u16(&in));
                        break;
                case 7: { /* a frame from the backend: its length, then a header and bytes */
                        uint32_t len = fuzz_u32(&in) % sizeof(frame);
                        memset(frame, 0x33, len);
                        fuzz_bytes(&in, frame, WARD_MIN(len, (uint32_t)64));
                        (void)ward_vnet_receive(&net, frame, len);
                        break;
                }
                case 8: /* the backend's answer to the next sends */
                        send_rc = (int[]){0, 0, WARD_EBUSY, WARD_EIO}[fuzz_u8(&in) & 3];
                        break;
                case 9:
                        ward_vnet_tx_resume(&net);
                        break;
                case 10: { /* the peer's byte stream, read by the link */
                        uint8_t buf[256];
                        size_t n = fuzz_bytes(&in, buf, fuzz_u8(&in));
                        if (n && send(peer, buf, n, MSG_DONTWAIT) < 0)
                                break;
                        if (link_->dev)
                                ward_net_link_input(link_);
                        break;
                }
                case 11: { /* the peer drains, and the link sends what waited */
                        uint8_t buf[4096];
                        while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                                ;
                        if (link_->dev)
                                ward_net_link_output(link_);
                        break;
                }
                case 12: { /* port 0's peer: bytes anywhere in the shared region */
                        port_dirty[0] = true;
                        size_t bytes = ward_net_port_region_bytes(WARD_NET_PORT_MIN_RING);
                        uint32_t off = fuzz_u32(&in) % (uint32_t)bytes;
                        uint8_t len = fuzz_u8(&in);
                        if (len > bytes - off)
                                len = (uint8_t)(bytes - off);
                        fuzz_bytes(&in, port_mem[0] + off, len);
                        break;
                }
                case 13: { /* the switch's side: frames out of the port, through the table */
                        port_dirty[0] = true;
                        static uint8_t f[WARD_NET_PORT_MAX_FRAME];
                        int n = ward_net_port_recv(&sw.port[0], f, sizeof(f));
                        if (n > 0) {
                                uint32_t to = ward_vswitch_route(&sw.vs, fuzz_u8(&in) % 4, f,
                                                                 (uint32_t)n, fuzz_u16(&in));
                                if (to & ~7u)
                                        abort(); /* a port the switch does not have */
                                struct ward_iov iov = {f, (uint32_t)n};
                                ward_vswitch_sent(
                                    &sw.vs, fuzz_u8(&in) % 4, (uint32_t)n,
                                    ward_net_port_send(&sw.port[0], &iov, 1, (uint32_t)n) == 1);
                        }
                        break;
                }
                case 14: { /* a frame from VM 1 or 2; the switch moves frames; the NIC polls */
                        for (unsigned i = 0; i < NPORTS; i++)
                                port_dirty[i] = true;
                        uint8_t how = fuzz_u8(&in);
                        if (how & 1) {
                                static uint8_t f[2048];
                                uint32_t len = fuzz_u16(&in) % sizeof(f);
                                memset(f, 0x44, len);
                                fuzz_bytes(&in, f, WARD_MIN(len, (uint32_t)32));
                                struct ward_iov iov = {f, len};
                                (void)ward_net_port_send(&vm_side[1 + ((how >> 1) & 1)], &iov, 1,
                                                         len);
                        }
                        ward_switch_ports_drain(&sw, fuzz_u16(&in));
                        if (how & 4)
                                ward_net_port_client_poll(&nic);
                        static uint8_t got[WARD_NET_PORT_MAX_FRAME];
                        for (unsigned i = 1; i < NPORTS && (how & 8); i++)
                                while (ward_net_port_recv(&vm_side[i], got, sizeof(got)) > 0)
                                        ;
                        break;
                }
                default:
                        (void)fg_mmio_read(&net.v, 0x060);
                        fg_mmio_write(&net.v, 0x064, fuzz_u8(&in) & 3);
                        break;
                }
        }
        return 0;
}
