/* SPDX-License-Identifier: BSD-2-Clause */
/* The network port: frames both ways, a full ring, wrap-around, and a peer
 * that writes half a frame or a length no frame has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/port/port_net.h"

#define RING WARD_NET_PORT_MIN_RING

struct ctx {
        uint8_t *mem;
        size_t bytes;
        struct ward_net_port client, server;
        unsigned client_notes, server_notes;
        uint8_t buf[WARD_NET_PORT_MAX_FRAME];
};

static void note(void *opaque)
{
        (*(unsigned *)opaque)++;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        x->bytes = ward_net_port_region_bytes(RING);
        assert_true(x->bytes > 2 * RING);
        x->mem = aligned_alloc(64, (x->bytes + 63) & ~(size_t)63);
        memset(x->mem, 0xa5, x->bytes);
        assert_int_equal(ward_net_port_format(x->mem, x->bytes, RING), WARD_OK);
        /* Each side's notify says the other was woken. */
        struct ward_port_notify to_server = {note, &x->server_notes};
        struct ward_port_notify to_client = {note, &x->client_notes};
        assert_int_equal(
            ward_net_port_init(&x->client, x->mem, x->bytes, RING, WARD_PORT_CLIENT, &to_server),
            WARD_OK);
        assert_int_equal(
            ward_net_port_init(&x->server, x->mem, x->bytes, RING, WARD_PORT_SERVER, &to_client),
            WARD_OK);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        free(x->mem);
        free(x);
        return 0;
}

static void fill(uint8_t *f, uint32_t len, uint32_t seed)
{
        for (uint32_t i = 0; i < len; i++)
                f[i] = (uint8_t)(seed * 31 + i);
}

static int send_flat(struct ward_net_port *p, uint8_t *f, uint32_t len)
{
        /* In two iovs, split in the middle, as a guest's chain might be. */
        struct ward_iov iov[2] = {{f, len / 2}, {f + len / 2, len - len / 2}};
        return ward_net_port_send(p, iov, 2, len);
}

static void frames_both_ways_and_wrap(void **state)
{
        struct ctx *x = *state;
        static uint8_t f[2000];
        /* 300 frames of varying size each way: the 128 KiB rings wrap several times. */
        for (uint32_t i = 0; i < 300; i++) {
                uint32_t len = 14 + (i * 37) % 1500;
                fill(f, len, i);
                assert_int_equal(send_flat(&x->client, f, len), 1);
                assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), (int)len);
                assert_memory_equal(x->buf, f, len);
                fill(f, len, i + 1000);
                assert_int_equal(send_flat(&x->server, f, len), 1);
                assert_int_equal(ward_net_port_recv(&x->client, x->buf, sizeof(x->buf)), (int)len);
                assert_memory_equal(x->buf, f, len);
        }
        assert_int_equal(x->server_notes, 300);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), 0);
}

static void full_ring_refuses_then_takes(void **state)
{
        struct ctx *x = *state;
        static uint8_t big[WARD_NET_PORT_MAX_FRAME];
        fill(big, sizeof(big), 7);
        /* Two of the largest frames fill most of 128 KiB; the third does not fit. */
        assert_int_equal(send_flat(&x->client, big, sizeof(big)), 1);
        assert_int_equal(send_flat(&x->client, big, sizeof(big)), 0);
        unsigned before = x->client_notes;
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), (int)sizeof(big));
        /* The reader freed room a blocked sender needs: it was told. */
        assert_int_equal(x->client_notes, before + 1);
        assert_int_equal(send_flat(&x->client, big, sizeof(big)), 1);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), (int)sizeof(big));
        assert_memory_equal(x->buf, big, sizeof(big));
        /* Lengths no frame has are refused before anything is written. */
        assert_int_equal(send_flat(&x->client, big, 13), WARD_EINVAL);
        assert_int_equal(send_flat(&x->client, big, WARD_NET_PORT_MAX_FRAME + 1), WARD_EINVAL);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), 0);
}

/* The peer's raw view of the client -> server ring, to write what it likes. */
static void raw_producer(struct ctx *x, struct ward_ring *r)
{
        assert_int_equal(
            ward_ring_attach(r, x->mem, ward_ring_bytes(RING, 1), RING, 1, WARD_RING_PRODUCER),
            WARD_OK);
}

static void half_a_frame_waits(void **state)
{
        struct ctx *x = *state;
        struct ward_ring r;
        raw_producer(x, &r);
        uint8_t hdr[4] = {100, 0, 0, 0}, body[100];
        fill(body, sizeof(body), 3);
        assert_int_equal(ward_ring_push_n(&r, hdr, 2), 2);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), 0);
        assert_int_equal(ward_ring_push_n(&r, hdr + 2, 2), 2);
        assert_int_equal(ward_ring_push_n(&r, body, 60), 60);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), 0);
        assert_int_equal(ward_ring_push_n(&r, body + 60, 40), 40);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)), 100);
        assert_memory_equal(x->buf, body, 100);
}

static void lying_lengths_break_the_port(void **state)
{
        struct ctx *x = *state;
        static const uint8_t lies[3][4] = {
            {13, 0, 0, 0},         /* shorter than an Ethernet header */
            {0x0f, 0x00, 0x01, 0}, /* 65551: longer than any frame */
            {0xff, 0xff, 0xff, 0xff},
        };
        for (int k = 0; k < 3; k++) {
                teardown(state);
                setup(state);
                x = *state;
                struct ward_ring r;
                raw_producer(x, &r);
                uint8_t junk[64] = {0};
                assert_int_equal(ward_ring_push_n(&r, lies[k], 4), 4);
                assert_int_equal(ward_ring_push_n(&r, junk, sizeof(junk)), sizeof(junk));
                assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)),
                                 WARD_EBROKEN);
                /* Broken for good, both ways on this side. */
                assert_int_equal(ward_net_port_recv(&x->server, x->buf, sizeof(x->buf)),
                                 WARD_EBROKEN);
                uint8_t f[60] = {0};
                assert_int_equal(send_flat(&x->server, f, sizeof(f)), WARD_EBROKEN);
        }
        /* A reader with too little room treats a frame that long as a lie too. */
        teardown(state);
        setup(state);
        x = *state;
        uint8_t f[200] = {0};
        assert_int_equal(send_flat(&x->client, f, sizeof(f)), 1);
        assert_int_equal(ward_net_port_recv(&x->server, x->buf, 100), WARD_EBROKEN);
}

static void bad_geometry(void **state)
{
        (void)state;
        assert_int_equal(ward_net_port_region_bytes(RING / 2), 0);
        assert_int_equal(ward_net_port_region_bytes(RING + 1), 0);
        struct ward_net_port p;
        uint8_t small[256] __attribute__((aligned(64)));
        struct ward_port_notify none = {0};
        assert_int_equal(
            ward_net_port_init(&p, small, sizeof(small), RING, WARD_PORT_CLIENT, &none),
            WARD_EINVAL);
        assert_int_equal(ward_net_port_recv(&p, small, sizeof(small)), WARD_EBROKEN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(frames_both_ways_and_wrap, setup, teardown),
            cmocka_unit_test_setup_teardown(full_ring_refuses_then_takes, setup, teardown),
            cmocka_unit_test_setup_teardown(half_a_frame_waits, setup, teardown),
            cmocka_unit_test_setup_teardown(lying_lengths_break_the_port, setup, teardown),
            cmocka_unit_test(bad_geometry),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
