/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio-net against a fake guest and a fake backend: frames both ways,
 * merged receive buffers, back-pressure, and a guest that lies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/virtio/virtio_net.h"

#define QSIZE 16
#define RX 0
#define TX 1
#define F_NEXT WARD_VRING_DESC_F_NEXT
#define F_WRITE WARD_VRING_DESC_F_WRITE
#define R_NOTIFY 0x050
#define HDR WARD_VNET_HDR_LEN
#define BIT(b) (1ull << (b))
#define V1 BIT(WARD_VIRTIO_F_VERSION_1)
#define MRG BIT(WARD_VIRTIO_NET_F_MRG_RXBUF)

struct ctx {
        struct fake_guest g;
        struct ward_vnet n;
        uint8_t sent[70000];
        uint32_t sent_len;
        unsigned sends;
        int send_rc; /* what send() answers */
        unsigned rx_ready_calls;
        uint64_t features_seen;
        uint16_t next_desc[2];
};

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int fake_send(void *opaque, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        struct ctx *x = opaque;
        if (x->send_rc)
                return x->send_rc;
        assert_true(len <= sizeof(x->sent));
        assert_int_equal(ward_iov_read(iov, niov, 0, x->sent, len), len);
        x->sent_len = len;
        x->sends++;
        return 0;
}

static void fake_rx_ready(void *opaque)
{
        ((struct ctx *)opaque)->rx_ready_calls++;
}

static void fake_features(void *opaque, uint64_t f)
{
        ((struct ctx *)opaque)->features_seen = f;
}

static struct ctx *make(bool vnet_hdr)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        struct ward_net_backend be = {
            .send = fake_send,
            .rx_ready = fake_rx_ready,
            .features = fake_features,
            .opaque = x,
            .vnet_hdr = vnet_hdr,
            .offloads = vnet_hdr ? WARD_VNET_OFFLOADS : 0,
        };
        ward_vnet_setup(&x->n, &be, MAC);
        ward_virtio_init(&x->n.v, &x->g.gm, fg_irq, &x->g);
        return x;
}

static int setup_bare(void **state)
{
        *state = make(false);
        return 0;
}

static int setup_hdr(void **state)
{
        *state = make(true);
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static void up(struct ctx *x, uint64_t features)
{
        fg_driver_init(&x->g, &x->n.v, V1 | features, QSIZE);
        assert_true(ward_virtio_is_live(&x->n.v));
}

/* Queues a frame for transmission: the header, then the frame, in two descriptors. */
static uint16_t post_tx(struct ctx *x, const uint8_t hdr[HDR], const void *frame, uint32_t len)
{
        uint64_t h = fg_alloc(&x->g, HDR, 0), f = fg_alloc(&x->g, len, 0);
        memcpy(fg_ptr(&x->g, h), hdr, HDR);
        memcpy(fg_ptr(&x->g, f), frame, len);
        uint16_t d0 = x->next_desc[TX]++ % QSIZE, d1 = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d0, h, HDR, F_NEXT, d1);
        fg_desc(&x->g, TX, d1, f, len, 0, 0);
        fg_avail(&x->g, TX, d0);
        return d0;
}

static uint64_t post_rx(struct ctx *x, uint32_t len, uint16_t *head)
{
        uint64_t b = fg_alloc(&x->g, len, 0xee);
        uint16_t d = x->next_desc[RX]++ % QSIZE;
        fg_desc(&x->g, RX, d, b, len, F_WRITE, 0);
        fg_avail(&x->g, RX, d);
        if (head)
                *head = d;
        return b;
}

static void frame_fill(uint8_t *f, uint32_t len, uint8_t seed)
{
        for (uint32_t i = 0; i < len; i++)
                f[i] = (uint8_t)(seed + i * 7);
}

static void expect_used(struct ctx *x, unsigned q, uint16_t k, uint16_t head, uint32_t len)
{
        uint32_t id, l;
        assert_true((uint16_t)(fg_used_idx(&x->g, q) - k) >= 1);
        fg_used_elem(&x->g, q, k, &id, &l);
        assert_int_equal(id, head);
        assert_int_equal(l, len);
}

/* ---- identity and features ---- */

static void identity_mac_and_link(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(fg_mmio_read(&x->n.v, 0x008), WARD_VIRTIO_ID_NET);
        fg_mmio_write(&x->n.v, 0x014, 0);
        uint32_t f = fg_mmio_read(&x->n.v, 0x010);
        assert_true(f & BIT(WARD_VIRTIO_NET_F_MAC));
        assert_true(f & BIT(WARD_VIRTIO_NET_F_STATUS));
        assert_true(f & BIT(WARD_VIRTIO_NET_F_MRG_RXBUF));
        /* A backend without the header offers no offload. */
        assert_false(f & BIT(WARD_VIRTIO_NET_F_CSUM));
        assert_false(f & BIT(WARD_VIRTIO_NET_F_HOST_TSO4));
        uint32_t w0 = fg_mmio_read(&x->n.v, 0x100), w1 = fg_mmio_read(&x->n.v, 0x104);
        uint8_t cfg[8];
        memcpy(cfg, &w0, 4);
        memcpy(cfg + 4, &w1, 4);
        assert_memory_equal(cfg, MAC, 6);
        assert_int_equal(cfg[6] | cfg[7] << 8, 1); /* VIRTIO_NET_S_LINK_UP */
}

static void offloads_offered_with_header_and_told_to_backend(void **state)
{
        struct ctx *x = *state;
        fg_mmio_write(&x->n.v, 0x014, 0);
        uint32_t f = fg_mmio_read(&x->n.v, 0x010);
        assert_true(f & BIT(WARD_VIRTIO_NET_F_CSUM));
        assert_true(f & BIT(WARD_VIRTIO_NET_F_GUEST_TSO4));
        uint64_t want = MRG | BIT(WARD_VIRTIO_NET_F_GUEST_CSUM) | BIT(WARD_VIRTIO_NET_F_GUEST_TSO4);
        up(x, want);
        assert_int_equal(x->features_seen, V1 | want);
}

/* ---- transmit ---- */

static void tx_frame_reaches_backend_without_header(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint8_t hdr[HDR] = {0}, frame[60];
        frame_fill(frame, sizeof(frame), 1);
        uint16_t head = post_tx(x, hdr, frame, sizeof(frame));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->sends, 1);
        assert_int_equal(x->sent_len, sizeof(frame));
        assert_memory_equal(x->sent, frame, sizeof(frame));
        expect_used(x, TX, 0, head, 0);
        assert_int_equal(x->n.stats.tx_frames, 1);
        assert_int_equal(x->n.stats.tx_bytes, sizeof(frame));
}

static void tx_header_lies_fail_only_their_frame(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint8_t frame[100], ok[HDR] = {0};
        frame_fill(frame, sizeof(frame), 2);
        uint8_t csum[HDR] = {WARD_VNET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 14, 0, 16, 0};
        uint8_t gso[HDR] = {
            WARD_VNET_HDR_F_NEEDS_CSUM, WARD_VNET_GSO_TCPV4, 54, 0, 0xa8, 5, 34, 0, 16, 0};
        uint8_t flags[HDR] = {0x80};
        post_tx(x, csum, frame, sizeof(frame));  /* CSUM was never offered */
        post_tx(x, gso, frame, sizeof(frame));   /* nor TSO */
        post_tx(x, flags, frame, sizeof(frame)); /* no such flag */
        post_tx(x, ok, frame, 13);               /* shorter than an Ethernet header */
        post_tx(x, ok, frame, sizeof(frame));    /* and a good one after them */
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->n.stats.tx_malformed, 4);
        assert_int_equal(x->sends, 1);
        assert_int_equal(x->sent_len, sizeof(frame));
        assert_int_equal(fg_used_idx(&x->g, TX), 5); /* every chain went back */
        assert_true(ward_virtio_is_live(&x->n.v));
}

static void tx_oversized_and_outside_ram(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint64_t h = fg_alloc(&x->g, HDR, 0);
        /* A frame larger than any Ethernet frame (it is all in RAM). */
        uint64_t big = fg_alloc(&x->g, WARD_VNET_MAX_FRAME + 1, 0);
        fg_desc(&x->g, TX, 0, h, HDR, F_NEXT, 1);
        fg_desc(&x->g, TX, 1, big, WARD_VNET_MAX_FRAME + 1, 0, 0);
        fg_avail(&x->g, TX, 0);
        /* A descriptor that points past the end of RAM. */
        fg_desc(&x->g, TX, 2, h, HDR, F_NEXT, 3);
        fg_desc(&x->g, TX, 3, FG_RAM_BASE + FG_RAM_SIZE - 8, 64, 0, 0);
        fg_avail(&x->g, TX, 2);
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->sends, 0);
        assert_int_equal(x->n.stats.tx_malformed, 2);
        assert_int_equal(fg_used_idx(&x->g, TX), 2);
        assert_true(ward_virtio_is_live(&x->n.v));
}

static void tx_offload_header_checked_and_passed(void **state)
{
        struct ctx *x = *state;
        up(x, MRG | BIT(WARD_VIRTIO_NET_F_CSUM) | BIT(WARD_VIRTIO_NET_F_HOST_TSO4));
        uint8_t frame[100];
        frame_fill(frame, sizeof(frame), 3);
        /* The checksum's place lies past the frame's end. */
        uint8_t past[HDR] = {WARD_VNET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 90, 0, 10, 0};
        /* TSO with a segment size of 0. */
        uint8_t zero[HDR] = {
            WARD_VNET_HDR_F_NEEDS_CSUM, WARD_VNET_GSO_TCPV4, 54, 0, 0, 0, 34, 0, 16, 0};
        /* TSO for IPv6, which was not negotiated. */
        uint8_t v6[HDR] = {
            WARD_VNET_HDR_F_NEEDS_CSUM, WARD_VNET_GSO_TCPV6, 74, 0, 0xa8, 5, 54, 0, 16, 0};
        uint8_t good[HDR] = {
            WARD_VNET_HDR_F_NEEDS_CSUM, WARD_VNET_GSO_TCPV4, 54, 0, 0xa8, 5, 34, 0, 16, 0};
        post_tx(x, past, frame, sizeof(frame));
        post_tx(x, zero, frame, sizeof(frame));
        post_tx(x, v6, frame, sizeof(frame));
        post_tx(x, good, frame, sizeof(frame));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->n.stats.tx_malformed, 3);
        assert_int_equal(x->sends, 1);
        /* The backend takes the header: it gets it in front of the frame. */
        assert_int_equal(x->sent_len, HDR + sizeof(frame));
        assert_memory_equal(x->sent, good, HDR);
        assert_memory_equal(x->sent + HDR, frame, sizeof(frame));
}

static void tx_busy_backend_keeps_frame_until_resume(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint8_t hdr[HDR] = {0}, frame[64];
        frame_fill(frame, sizeof(frame), 4);
        uint16_t h0 = post_tx(x, hdr, frame, sizeof(frame));
        frame[0] ^= 0xff;
        uint16_t h1 = post_tx(x, hdr, frame, sizeof(frame));
        x->send_rc = WARD_EBUSY;
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(fg_used_idx(&x->g, TX), 0); /* nothing completed, nothing lost */
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);        /* a notify while blocked changes nothing */
        assert_int_equal(fg_used_idx(&x->g, TX), 0);
        x->send_rc = 0;
        ward_vnet_tx_resume(&x->n);
        assert_int_equal(x->sends, 2);
        assert_memory_equal(x->sent, frame, sizeof(frame)); /* the second, last */
        expect_used(x, TX, 0, h0, 0);
        expect_used(x, TX, 1, h1, 0);
        /* A backend that refuses for good: dropped and counted, completed. */
        x->send_rc = WARD_EIO;
        post_tx(x, hdr, frame, sizeof(frame));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(x->n.stats.tx_dropped, 1);
        assert_int_equal(fg_used_idx(&x->g, TX), 3);
}

/* ---- receive ---- */

static void rx_frame_in_one_buffer(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint16_t head;
        uint64_t b = post_rx(x, 2048, &head);
        uint8_t frame[1000];
        frame_fill(frame, sizeof(frame), 5);
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 1);
        expect_used(x, RX, 0, head, HDR + sizeof(frame));
        uint8_t *g = fg_ptr(&x->g, b);
        uint8_t want[HDR] = {0};
        want[10] = 1; /* num_buffers */
        assert_memory_equal(g, want, HDR);
        assert_memory_equal(g + HDR, frame, sizeof(frame));
        assert_int_equal(x->n.stats.rx_frames, 1);
        assert_true(x->g.irq_count >= 1);
}

static void rx_frame_merged_across_buffers(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint16_t h[3];
        uint64_t b[3];
        for (int i = 0; i < 3; i++)
                b[i] = post_rx(x, 1500, &h[i]);
        uint8_t frame[3000];
        frame_fill(frame, sizeof(frame), 6);
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 1);
        /* 12 + 3000 bytes: 1500, 1500 and 12. */
        expect_used(x, RX, 0, h[0], 1500);
        expect_used(x, RX, 1, h[1], 1500);
        expect_used(x, RX, 2, h[2], 12);
        uint8_t *g0 = fg_ptr(&x->g, b[0]);
        assert_int_equal(g0[10] | g0[11] << 8, 3);
        assert_memory_equal(g0 + HDR, frame, 1500 - HDR);
        assert_memory_equal(fg_ptr(&x->g, b[1]), frame + 1500 - HDR, 1500);
        assert_memory_equal(fg_ptr(&x->g, b[2]), frame + 3000 - HDR, HDR);
}

static void rx_waits_for_buffers_without_loss(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint8_t frame[2000];
        frame_fill(frame, sizeof(frame), 7);
        /* No buffer at all. */
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 0);
        /* One buffer, too small alone: it must not be used up. */
        uint16_t h0, h1;
        post_rx(x, 1024, &h0);
        fg_mmio_write(&x->n.v, R_NOTIFY, RX);
        assert_int_equal(x->rx_ready_calls, 1);
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 0);
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        post_rx(x, 1024, &h1);
        fg_mmio_write(&x->n.v, R_NOTIFY, RX);
        assert_int_equal(x->rx_ready_calls, 2);
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 1);
        expect_used(x, RX, 0, h0, 1024);
        expect_used(x, RX, 1, h1, HDR + sizeof(frame) - 1024);
        assert_int_equal(x->n.stats.rx_dropped, 0);
        /* A notify with nothing waiting does not call the backend. */
        fg_mmio_write(&x->n.v, R_NOTIFY, RX);
        assert_int_equal(x->rx_ready_calls, 2);
}

static void rx_bad_buffers_and_bad_frames(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        /* A receive chain the device would have to read from, then a good one. */
        uint64_t r = fg_alloc(&x->g, 64, 0);
        fg_desc(&x->g, RX, 0, r, 64, 0, 0);
        fg_avail(&x->g, RX, 0);
        x->next_desc[RX] = 1;
        uint16_t good;
        post_rx(x, 2048, &good);
        uint8_t frame[WARD_VNET_MAX_FRAME + 1];
        frame_fill(frame, sizeof(frame), 8);
        assert_int_equal(ward_vnet_receive(&x->n, frame, 100), 1);
        assert_int_equal(x->n.stats.rx_bad_buffers, 1);
        expect_used(x, RX, 0, 0, 0);
        expect_used(x, RX, 1, good, HDR + 100);
        /* Frames no Ethernet has: too long, too short. */
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), WARD_EINVAL);
        assert_int_equal(ward_vnet_receive(&x->n, frame, 13), WARD_EINVAL);
        assert_int_equal(x->n.stats.rx_dropped, 2);
        assert_true(ward_virtio_is_live(&x->n.v));
}

static void rx_without_merge_needs_one_big_buffer(void **state)
{
        struct ctx *x = *state;
        up(x, 0);
        uint16_t small, big;
        post_rx(x, 1518 + HDR, &small);
        uint8_t frame[4000];
        frame_fill(frame, sizeof(frame), 9);
        /* Too big for the guest's buffers, ever: dropped, the buffer kept. */
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), WARD_EINVAL);
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        assert_int_equal(ward_vnet_receive(&x->n, frame, 1500), 1);
        expect_used(x, RX, 0, small, HDR + 1500);
        uint8_t *g = fg_ptr(&x->g, FG_DATA_BASE);
        assert_int_equal(g[10] | g[11] << 8, 0); /* num_buffers is for MRG_RXBUF only */
        post_rx(x, 8192, &big);
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 1);
        expect_used(x, RX, 1, big, HDR + sizeof(frame));
}

static void rx_header_from_backend_checked(void **state)
{
        struct ctx *x = *state;
        up(x, MRG | BIT(WARD_VIRTIO_NET_F_GUEST_CSUM));
        uint16_t h;
        uint64_t b = post_rx(x, 4096, &h);
        uint8_t pkt[HDR + 200];
        frame_fill(pkt, sizeof(pkt), 10);
        /* TSO the guest did not accept. */
        uint8_t tso[HDR] = {
            WARD_VNET_HDR_F_NEEDS_CSUM, WARD_VNET_GSO_TCPV4, 54, 0, 0xa8, 5, 34, 0, 16, 0};
        memcpy(pkt, tso, HDR);
        assert_int_equal(ward_vnet_receive(&x->n, pkt, sizeof(pkt)), WARD_EINVAL);
        /* A checksum request it did. */
        uint8_t csum[HDR] = {WARD_VNET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 34, 0, 16, 0};
        memcpy(pkt, csum, HDR);
        assert_int_equal(ward_vnet_receive(&x->n, pkt, sizeof(pkt)), 1);
        expect_used(x, RX, 0, h, sizeof(pkt));
        uint8_t *g = fg_ptr(&x->g, b);
        assert_memory_equal(g, csum, 10);
        assert_int_equal(g[10], 1);
        assert_memory_equal(g + HDR, pkt + HDR, 200);
}

static void reset_forgets_blocked_transmit(void **state)
{
        struct ctx *x = *state;
        up(x, MRG);
        uint8_t hdr[HDR] = {0}, frame[64] = {0};
        post_tx(x, hdr, frame, sizeof(frame));
        x->send_rc = WARD_EBUSY;
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_true(x->n.tx_blocked);
        fg_mmio_write(&x->n.v, 0x070, 0);
        assert_false(x->n.tx_blocked);
        /* Not live: a frame for the guest waits. */
        assert_int_equal(ward_vnet_receive(&x->n, frame, sizeof(frame)), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(identity_mac_and_link, setup_bare, teardown),
            cmocka_unit_test_setup_teardown(offloads_offered_with_header_and_told_to_backend,
                                            setup_hdr, teardown),
            cmocka_unit_test_setup_teardown(tx_frame_reaches_backend_without_header, setup_bare,
                                            teardown),
            cmocka_unit_test_setup_teardown(tx_header_lies_fail_only_their_frame, setup_bare,
                                            teardown),
            cmocka_unit_test_setup_teardown(tx_oversized_and_outside_ram, setup_bare, teardown),
            cmocka_unit_test_setup_teardown(tx_offload_header_checked_and_passed, setup_hdr,
                                            teardown),
            cmocka_unit_test_setup_teardown(tx_busy_backend_keeps_frame_until_resume, setup_bare,
                                            teardown),
            cmocka_unit_test_setup_teardown(rx_frame_in_one_buffer, setup_bare, teardown),
            cmocka_unit_test_setup_teardown(rx_frame_merged_across_buffers, setup_bare, teardown),
            cmocka_unit_test_setup_teardown(rx_waits_for_buffers_without_loss, setup_bare,
                                            teardown),
            cmocka_unit_test_setup_teardown(rx_bad_buffers_and_bad_frames, setup_bare, teardown),
            cmocka_unit_test_setup_teardown(rx_without_merge_needs_one_big_buffer, setup_bare,
                                            teardown),
            cmocka_unit_test_setup_teardown(rx_header_from_backend_checked, setup_hdr, teardown),
            cmocka_unit_test_setup_teardown(reset_forgets_blocked_transmit, setup_bare, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
