/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A virtio-net device on the client side of a network port (src/port/
 * net_client.c), as both runners use it: a fake guest on one end, the
 * switch's side of the port on the other. Frames both ways, a full ring
 * that holds the guest's frames until the switch's notification, a guest
 * with no buffers whose frame waits, and a switch that breaks the framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/port/port_net.h"

#define RING WARD_NET_PORT_MIN_RING
#define QSIZE 16
#define RX 0
#define TX 1
#define F_NEXT WARD_VRING_DESC_F_NEXT
#define F_WRITE WARD_VRING_DESC_F_WRITE
#define R_NOTIFY 0x050
#define HDR WARD_VNET_HDR_LEN
#define V1 (1ull << WARD_VIRTIO_F_VERSION_1)
#define MRG (1ull << WARD_VIRTIO_NET_F_MRG_RXBUF)

static const uint8_t MAC[6] = {0x02, 0, 0, 0, 0, 0x0a};

struct ctx {
        struct fake_guest g;
        struct ward_vnet n;
        struct ward_net_port_client c;
        struct ward_net_port sw; /* the switch's side */
        uint8_t *mem;
        size_t bytes;
        unsigned to_switch, downs;
        uint16_t next_desc[2];
        uint8_t buf[WARD_NET_PORT_MAX_FRAME];
};

static void note(void *o)
{
        (*(unsigned *)o)++;
}

static void nothing(void *o)
{
        (void)o;
}

static void on_down(void *o)
{
        ((struct ctx *)o)->downs++;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        x->bytes = ward_net_port_region_bytes(RING);
        x->mem = aligned_alloc(64, (x->bytes + 63) & ~(size_t)63);
        assert_int_equal(ward_net_port_format(x->mem, x->bytes, RING), WARD_OK);
        struct ward_port_notify to_sw = {note, &x->to_switch}, to_vmm = {nothing, NULL};
        assert_int_equal(
            ward_net_port_init(&x->c.port, x->mem, x->bytes, RING, WARD_PORT_CLIENT, &to_sw),
            WARD_OK);
        assert_int_equal(
            ward_net_port_init(&x->sw, x->mem, x->bytes, RING, WARD_PORT_SERVER, &to_vmm), WARD_OK);
        x->c.on_down = on_down;
        x->c.ctx = x;
        fg_init(&x->g);
        struct ward_net_backend be = ward_net_port_client_backend(&x->c);
        ward_vnet_setup(&x->n, &be, MAC);
        ward_virtio_init(&x->n.v, &x->g.gm, fg_irq, &x->g);
        x->c.dev = &x->n;
        fg_driver_init(&x->g, &x->n.v, V1 | MRG, QSIZE);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x->mem);
        free(x);
        return 0;
}

static void fill(uint8_t *f, uint32_t len, uint8_t seed)
{
        for (uint32_t i = 0; i < len; i++)
                f[i] = (uint8_t)(seed + i * 13);
}

static void post_tx(struct ctx *x, const uint8_t *frame, uint32_t len)
{
        uint64_t h = fg_alloc(&x->g, HDR, 0), f = fg_alloc(&x->g, len, 0);
        memcpy(fg_ptr(&x->g, f), frame, len);
        uint16_t d0 = x->next_desc[TX]++ % QSIZE, d1 = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d0, h, HDR, F_NEXT, d1);
        fg_desc(&x->g, TX, d1, f, len, 0, 0);
        fg_avail(&x->g, TX, d0);
}

static uint64_t post_rx(struct ctx *x, uint32_t len)
{
        uint64_t b = fg_alloc(&x->g, len, 0xee);
        uint16_t d = x->next_desc[RX]++ % QSIZE;
        fg_desc(&x->g, RX, d, b, len, F_WRITE, 0);
        fg_avail(&x->g, RX, d);
        return b;
}

static void switch_sends(struct ctx *x, const uint8_t *frame, uint32_t len)
{
        struct ward_iov iov = {(void *)frame, len};
        assert_int_equal(ward_net_port_send(&x->sw, &iov, 1, len), 1);
}

static void frames_both_ways(void **state)
{
        struct ctx *x = *state;
        uint8_t f[300];
        fill(f, sizeof(f), 1);
        post_tx(x, f, sizeof(f));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_int_equal(ward_net_port_recv(&x->sw, x->buf, sizeof(x->buf)), sizeof(f));
        assert_memory_equal(x->buf, f, sizeof(f));
        assert_int_equal(x->to_switch, 1);

        uint64_t b = post_rx(x, 2048);
        fill(f, 100, 9);
        switch_sends(x, f, 100);
        ward_net_port_client_poll(&x->c);
        assert_int_equal(fg_used_idx(&x->g, RX), 1);
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b) + HDR, f, 100);
        assert_int_equal(x->n.stats.rx_frames, 1);
}

/* No buffer: the frame waits (and the port is read no further) until the guest posts one. */
static void frame_held_until_guest_posts(void **state)
{
        struct ctx *x = *state;
        uint8_t f[64], g[80];
        fill(f, sizeof(f), 3);
        fill(g, sizeof(g), 4);
        switch_sends(x, f, sizeof(f));
        switch_sends(x, g, sizeof(g));
        ward_net_port_client_poll(&x->c);
        assert_true(x->c.held);
        assert_int_equal(x->n.stats.rx_frames, 0);
        uint64_t b1 = post_rx(x, 2048), b2 = post_rx(x, 2048);
        fg_mmio_write(&x->n.v, R_NOTIFY, RX);
        assert_false(x->c.held);
        assert_int_equal(x->n.stats.rx_frames, 2);
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b1) + HDR, f, sizeof(f));
        assert_memory_equal((uint8_t *)fg_ptr(&x->g, b2) + HDR, g, sizeof(g));
}

/* A full ring: the guest's frames wait in its queue, none lost, until the switch makes room. */
static void full_ring_waits_for_the_switch(void **state)
{
        struct ctx *x = *state;
        static uint8_t big[60000];
        fill(big, sizeof(big), 5);
        for (int i = 0; i < 3; i++)
                post_tx(x, big, sizeof(big));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        assert_true(x->c.full);
        assert_int_equal(fg_used_idx(&x->g, TX), 2); /* two fit in 128 KiB, the third waits */
        assert_int_equal(ward_net_port_recv(&x->sw, x->buf, sizeof(x->buf)), sizeof(big));
        assert_int_equal(ward_net_port_recv(&x->sw, x->buf, sizeof(x->buf)), sizeof(big));
        ward_net_port_client_poll(&x->c); /* the switch's "room" */
        assert_false(x->c.full);
        assert_int_equal(fg_used_idx(&x->g, TX), 3);
        assert_int_equal(ward_net_port_recv(&x->sw, x->buf, sizeof(x->buf)), sizeof(big));
        assert_memory_equal(x->buf, big, sizeof(big));
        assert_int_equal(x->n.stats.tx_dropped, 0);
}

/* A length no frame has: the link goes down once, the guest's frames are dropped, nothing else. */
static void broken_switch_takes_the_link_down(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 2048);
        /* Written past the framing, as a hostile switch could: a length of 2 GiB. */
        uint8_t raw[WARD_NET_PORT_MIN_FRAME + 4] = {0xff, 0xff, 0xff, 0x7f};
        assert_true(ward_ring_push_n(&x->sw.out, raw, sizeof(raw)) >= 0);
        ward_net_port_client_poll(&x->c);
        assert_true(x->c.down);
        assert_int_equal(x->downs, 1);
        uint8_t f[60];
        fill(f, sizeof(f), 6);
        post_tx(x, f, sizeof(f));
        fg_mmio_write(&x->n.v, R_NOTIFY, TX);
        ward_net_port_client_poll(&x->c);
        assert_int_equal(x->downs, 1);
        assert_int_equal(x->n.stats.tx_dropped, 1);
        assert_int_equal(fg_used_idx(&x->g, TX), 1); /* the guest gets its buffer back */
        assert_true(ward_virtio_is_live(&x->n.v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(frames_both_ways, setup, teardown),
            cmocka_unit_test_setup_teardown(frame_held_until_guest_posts, setup, teardown),
            cmocka_unit_test_setup_teardown(full_ring_waits_for_the_switch, setup, teardown),
            cmocka_unit_test_setup_teardown(broken_switch_takes_the_link_down, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
