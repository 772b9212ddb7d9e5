/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux NIC link (src/host/linux/net_link.c) between a virtio-net
 * device with a fake guest and a socket whose other end plays passt:
 * stream framing both ways, frames split across reads, back-pressure both
 * ways without loss, and a peer that lies about lengths or goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/host/linux/net_link.h"

#define QSIZE 64
#define RX 0
#define TX 1
#define HDR WARD_VNET_HDR_LEN
#define R_NOTIFY 0x050
#define V1 (1ull << WARD_VIRTIO_F_VERSION_1)
#define MRG (1ull << WARD_VIRTIO_NET_F_MRG_RXBUF)

struct ctx {
        struct fake_guest g;
        struct ward_vnet n;
        struct ward_net_link *l;
        int peer; /* passt's end */
        uint16_t next_desc[2];
};

static const uint8_t MAC[6] = {0x02, 0x77, 0x61, 0x72, 0x64, 0x00};

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        x->peer = sv[1];
        x->l = calloc(1, sizeof(*x->l));
        x->l->kind = WARD_NET_LINK_STREAM;
        x->l->fd = sv[0];
        x->l->pid = -1;
        fg_init(&x->g);
        struct ward_net_backend be = ward_net_link_backend(x->l);
        assert_false(be.vnet_hdr);
        ward_vnet_setup(&x->n, &be, MAC);
        ward_virtio_init(&x->n.v, &x->g.gm, fg_irq, &x->g);
        x->l->dev = &x->n;
        fg_driver_init(&x->g, &x->n.v, V1 | MRG, QSIZE);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        ward_net_link_close(x->l);
        close(x->peer);
        fg_free(&x->g);
        free(x->l);
        free(x);
        return 0;
}

static uint64_t post_rx(struct ctx *x, uint32_t len)
{
        uint64_t b = fg_alloc(&x->g, len, 0xee);
        uint16_t d = x->next_desc[RX]++ % QSIZE;
        fg_desc(&x->g, RX, d, b, len, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(&x->g, RX, d);
        return b;
}

static void post_tx(struct ctx *x, const uint8_t *frame, uint32_t len)
{
        uint64_t b = fg_alloc(&x->g, HDR + len, 0);
        memcpy((uint8_t *)fg_ptr(&x->g, b) + HDR, frame, len);
        uint16_t d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, b, HDR + len, 0, 0);
        fg_avail(&x->g, TX, d);
}

static void peer_send(struct ctx *x, const void *p, size_t n)
{
        assert_int_equal(send(x->peer, p, n, 0), (ssize_t)n);
}

static void put_len(uint8_t *p, uint32_t len)
{
        p[0] = (uint8_t)(len >> 24), p[1] = (uint8_t)(len >> 16);
        p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
}

static void fill(uint8_t *f, uint32_t len, uint8_t seed)
{
        for (uint32_t i = 0; i < len; i++)
                f[i] = (uint8_t)(seed ^ (i * 13));
}

static void frames_from_peer_split_anywhere(void **state)
{
        struct ctx *x = *state;
        uint64_t b0 = post_rx(x, 2048), b1 = post_rx(x, 2048);
        uint8_t f0[100], f1[1500], wire[4 + 100 + 4 + 1500];
        fill(f0, sizeof(f0), 1);
        fill(f1, sizeof(f1), 2);
        put_len(wire, sizeof(f0));
        memcpy(wire + 4, f0, sizeof(f0));
        put_len(wire + 104, sizeof(f1));
        memcpy(wire + 108, f1, sizeof(f1));
        /* In three pieces: inside the first length, inside the second frame, the rest. */
        peer_send(x, wire, 2);
        ward_net_link_input(x->l);
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        peer_send(x, wire + 2, 300);
        ward_net_link_input(x->l);
        assert_int_equal(fg_used_idx(&x->g, RX), 1);
        peer_send(x, wire + 302, sizeof(wire) - 302);
        ward_net_link_input(x->l);
        assert_int_equal(fg_used_idx(&x->g, RX), 2);
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b0) + HDR, f0, sizeof(f0));
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b1) + HDR, f1, sizeof(f1));
        assert_int_equal(x->l->rx_len, 0);
}

static void guest_without_buffers_holds_the_peer_back(void **state)
{
        struct ctx *x = *state;
        uint8_t wire[2][4 + 64];
        for (int i = 0; i < 2; i++) {
                put_len(wire[i], 64);
                fill(wire[i] + 4, 64, (uint8_t)(10 + i));
        }
        peer_send(x, wire, sizeof(wire));
        ward_net_link_input(x->l);
        assert_false(ward_net_link_wants_input(x->l)); /* held: read no more */
        uint64_t b0 = post_rx(x, 256);
        fg_mmio_write(&x->n.v, R_NOTIFY, RX); /* the driver posts: rx_ready */
        assert_int_equal(fg_used_idx(&x->g, RX), 1);
        assert_false(ward_net_link_wants_input(x->l)); /* the second waits too */
        uint64_t b1 = post_rx(x, 256);
        fg_mmio_write(&x->n.v, R_NOTIFY, RX);
        assert_int_equal(fg_used_idx(&x->g, RX), 2);
        assert_true(ward_net_link_wants_input(x->l));
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b0) + HDR, wire[0] + 4, 64);
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b1) + HDR, wire[1] + 4, 64);
}

static void guest_frames_reach_peer_framed(void **state)
{
        struct ctx *x = *state;
        uint8_t f[60], got[4 + 60];
        fill(f, sizeof(f), 3);
        post_tx(x, f, sizeof(f));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(recv(x->peer, got, sizeof(got), MSG_WAITALL), sizeof(got));
        assert_int_equal(got[3], 60);
        assert_int_equal(got[0] | got[1] | got[2], 0);
        assert_memory_equal(got + 4, f, sizeof(f));
        assert_int_equal(x->n.stats.tx_frames, 1);
}

static void full_socket_keeps_frames_in_order(void **state)
{
        struct ctx *x = *state;
        int small = 4096;
        setsockopt(x->l->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        setsockopt(x->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        enum { N = 40, LEN = 1400 };
        static uint8_t frames[N][LEN];
        for (int i = 0; i < N; i++) {
                fill(frames[i], LEN, (uint8_t)i);
                post_tx(x, frames[i], LEN);
        }
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        /* The socket could not take them all: the rest wait in the guest's ring. */
        assert_true(x->n.tx_blocked);
        assert_true(ward_net_link_wants_output(x->l));
        assert_true(fg_used_idx(&x->g, TX) < N);
        /* The peer reads; each time the socket has room, the link goes on. */
        static uint8_t got[N * (4 + LEN)];
        size_t have = 0;
        for (int round = 0; round < 10000 && have < sizeof(got); round++) {
                ssize_t r = recv(x->peer, got + have, sizeof(got) - have, MSG_DONTWAIT);
                if (r > 0)
                        have += (size_t)r;
                ward_net_link_output(x->l);
        }
        assert_int_equal(have, sizeof(got));
        for (int i = 0; i < N; i++) {
                const uint8_t *p = got + (size_t)i * (4 + LEN);
                assert_int_equal(p[2] << 8 | p[3], LEN);
                assert_memory_equal(p + 4, frames[i], LEN);
        }
        assert_int_equal(fg_used_idx(&x->g, TX), N);
        assert_int_equal(x->n.stats.tx_frames, N);
        assert_false(ward_net_link_wants_output(x->l));
}

static void peer_lying_about_length_takes_link_down(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 2048);
        uint8_t wire[4];
        put_len(wire, WARD_VNET_MAX_FRAME + 1);
        peer_send(x, wire, sizeof(wire));
        ward_net_link_input(x->l);
        assert_true(x->l->down);
        assert_false(ward_net_link_wants_input(x->l));
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        /* The guest's frames are dropped, counted; its ring goes on. */
        uint8_t f[60] = {0};
        post_tx(x, f, sizeof(f));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->n.stats.tx_dropped, 1);
        assert_int_equal(fg_used_idx(&x->g, TX), 1);
        assert_true(ward_virtio_is_live(&x->n.v));
}

static void peer_too_short_and_peer_gone(void **state)
{
        struct ctx *x = *state;
        uint8_t wire[4 + 10];
        put_len(wire, 10); /* shorter than an Ethernet header */
        peer_send(x, wire, sizeof(wire));
        ward_net_link_input(x->l);
        assert_true(x->l->down);

        /* A fresh link whose peer simply closes. */
        struct ward_net_link *l = calloc(1, sizeof(*l));
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        *l = (struct ward_net_link){.kind = WARD_NET_LINK_STREAM, .fd = sv[0], .pid = -1};
        l->dev = &x->n;
        close(sv[1]);
        ward_net_link_input(l);
        assert_true(l->down);
        ward_net_link_close(l);
        free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(frames_from_peer_split_anywhere, setup, teardown),
            cmocka_unit_test_setup_teardown(guest_without_buffers_holds_the_peer_back, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(guest_frames_reach_peer_framed, setup, teardown),
            cmocka_unit_test_setup_teardown(full_socket_keeps_frames_in_order, setup, teardown),
            cmocka_unit_test_setup_teardown(peer_lying_about_length_takes_link_down, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(peer_too_short_and_peer_gone, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
