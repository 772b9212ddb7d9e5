/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio-console and virtio-rng against a fake guest and fake backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/virtio/virtio_console.h"
#include "ward/virtio/virtio_rng.h"

#define QSIZE 16
#define RX 0
#define TX 1
#define F_NEXT WARD_VRING_DESC_F_NEXT
#define F_WRITE WARD_VRING_DESC_F_WRITE
#define V1 (1ull << WARD_VIRTIO_F_VERSION_1)
#define R_NOTIFY 0x050

/* ---- console ---- */

struct con_ctx {
        struct fake_guest g;
        struct ward_vconsole c;
        uint8_t out[8192];
        uint32_t out_len;
        unsigned writes;
        uint16_t next_desc[2];
};

static void con_write(void *opaque, const void *buf, uint32_t len)
{
        struct con_ctx *x = opaque;
        assert_true(x->out_len + len <= sizeof(x->out));
        memcpy(x->out + x->out_len, buf, len);
        x->out_len += len;
        x->writes++;
}

static int con_setup(void **state)
{
        struct con_ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        struct ward_console_backend be = {.write = con_write, .opaque = x};
        ward_vconsole_setup(&x->c, &be);
        ward_virtio_init(&x->c.v, &x->g.gm, fg_irq, &x->g);
        *state = x;
        return 0;
}

static int con_teardown(void **state)
{
        struct con_ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static void con_up(struct con_ctx *x)
{
        fg_driver_init(&x->g, &x->c.v, V1, QSIZE);
        assert_true(ward_virtio_is_live(&x->c.v));
}

static uint16_t con_desc(struct con_ctx *x, unsigned q)
{
        return x->next_desc[q]++ % QSIZE;
}

/* Posts one receive buffer of len bytes; returns its guest address. */
static uint64_t post_rx(struct con_ctx *x, uint32_t len, uint16_t *head)
{
        uint64_t b = fg_alloc(&x->g, len, 0xee);
        uint16_t d = con_desc(x, RX);
        fg_desc(&x->g, RX, d, b, len, F_WRITE, 0);
        fg_avail(&x->g, RX, d);
        if (head)
                *head = d;
        return b;
}

static void expect_used(struct fake_guest *g, unsigned q, uint16_t k, uint16_t head, uint32_t len)
{
        uint32_t id, l;
        assert_true((uint16_t)(fg_used_idx(g, q) - k) >= 1);
        fg_used_elem(g, q, k, &id, &l);
        assert_int_equal(id, head);
        assert_int_equal(l, len);
}

static void console_identity(void **state)
{
        struct con_ctx *x = *state;
        assert_int_equal(fg_mmio_read(&x->c.v, 0x008), WARD_VIRTIO_ID_CONSOLE);
        con_up(x);
        fg_mmio_write(&x->c.v, 0x030, 1);
        assert_int_equal(fg_mmio_read(&x->c.v, 0x034), 128);
        fg_mmio_write(&x->c.v, 0x030, 2);
        assert_int_equal(fg_mmio_read(&x->c.v, 0x034), 0);
}

static void console_tx_reaches_backend(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        uint64_t a = fg_alloc(&x->g, 5, 0), b = fg_alloc(&x->g, 7, 0);
        memcpy(fg_ptr(&x->g, a), "hello", 5);
        memcpy(fg_ptr(&x->g, b), ", world", 7);
        fg_desc(&x->g, TX, 0, a, 5, F_NEXT, 1);
        fg_desc(&x->g, TX, 1, b, 7, 0, 0);
        fg_avail(&x->g, TX, 0);
        uint64_t c = fg_alloc(&x->g, 1, 0);
        memcpy(fg_ptr(&x->g, c), "!", 1);
        fg_desc(&x->g, TX, 2, c, 1, 0, 0);
        fg_avail(&x->g, TX, 2);
        fg_mmio_write(&x->c.v, R_NOTIFY, TX);
        assert_int_equal(x->out_len, 13);
        assert_memory_equal(x->out, "hello, world!", 13);
        assert_int_equal(x->writes, 3);
        assert_int_equal(fg_used_idx(&x->g, TX), 2);
        expect_used(&x->g, TX, 0, 0, 0);
        expect_used(&x->g, TX, 1, 2, 0);
        assert_int_equal(fg_mmio_read(&x->c.v, 0x060), WARD_VIRTIO_INT_USED);
        assert_int_equal(x->g.irq_count, 1);
}

static void console_tx_ignores_writable_and_survives_bad_chain(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        uint64_t a = fg_alloc(&x->g, 3, 0), w = fg_alloc(&x->g, 8, 0x55);
        memcpy(fg_ptr(&x->g, a), "abc", 3);
        /* Readable then writable: only the readable bytes go out. */
        fg_desc(&x->g, TX, 0, a, 3, F_NEXT, 1);
        fg_desc(&x->g, TX, 1, w, 8, F_WRITE, 0);
        fg_avail(&x->g, TX, 0);
        /* A chain pointing outside RAM. */
        fg_desc(&x->g, TX, 2, FG_RAM_BASE + FG_RAM_SIZE - 2, 4, 0, 0);
        fg_avail(&x->g, TX, 2);
        /* A well-formed one after it. */
        fg_desc(&x->g, TX, 3, a, 2, 0, 0);
        fg_avail(&x->g, TX, 3);
        fg_mmio_write(&x->c.v, R_NOTIFY, TX);
        assert_int_equal(x->out_len, 5);
        assert_memory_equal(x->out, "abcab", 5);
        expect_used(&x->g, TX, 0, 0, 0);
        expect_used(&x->g, TX, 1, 2, 0);
        expect_used(&x->g, TX, 2, 3, 0);
        uint8_t fill[8];
        memset(fill, 0x55, sizeof(fill));
        assert_memory_equal(fg_ptr(&x->g, w), fill, 8);
}

static void console_input_before_rx_buffers(void **state)
{
        struct con_ctx *x = *state;
        /* Input arrives while the driver is not even up. */
        assert_int_equal(ward_vconsole_input(&x->c, "ab", 2), 2);
        con_up(x);
        assert_int_equal(ward_vconsole_input(&x->c, "cd", 2), 2);
        assert_int_equal(ward_vconsole_input_room(&x->c), WARD_VCONSOLE_INBUF - 4);
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        assert_int_equal(x->g.irq_count, 0);
        /* The driver posts a receive buffer and notifies: the input is delivered. */
        uint16_t head;
        uint64_t b = post_rx(x, 16, &head);
        fg_mmio_write(&x->c.v, R_NOTIFY, RX);
        expect_used(&x->g, RX, 0, head, 4);
        assert_memory_equal(fg_ptr(&x->g, b), "abcd", 4);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, b + 4), 0xee);
        assert_int_equal(ward_vconsole_input_room(&x->c), WARD_VCONSOLE_INBUF);
        assert_int_equal(fg_mmio_read(&x->c.v, 0x060), WARD_VIRTIO_INT_USED);
        assert_int_equal(x->g.irq_count, 1);
}

static void console_input_with_buffer_posted_goes_at_once(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        uint16_t head;
        uint64_t b = post_rx(x, 8, &head);
        fg_mmio_write(&x->c.v, R_NOTIFY, RX); /* nothing to deliver yet */
        assert_int_equal(fg_used_idx(&x->g, RX), 0);
        assert_int_equal(ward_vconsole_input(&x->c, "xyz", 3), 3);
        expect_used(&x->g, RX, 0, head, 3);
        assert_memory_equal(fg_ptr(&x->g, b), "xyz", 3);
        assert_int_equal(x->g.irq_count, 1);
}

static void console_input_split_across_buffers(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        uint16_t h[3];
        uint64_t b0 = post_rx(x, 4, &h[0]);
        uint64_t b1 = post_rx(x, 4, &h[1]);
        /* The third buffer is a chain of two writable pieces, 1 and 3 bytes. */
        uint64_t c0 = fg_alloc(&x->g, 1, 0xee), c1 = fg_alloc(&x->g, 3, 0xee);
        h[2] = con_desc(x, RX);
        uint16_t d2 = con_desc(x, RX);
        fg_desc(&x->g, RX, h[2], c0, 1, F_WRITE | F_NEXT, d2);
        fg_desc(&x->g, RX, d2, c1, 3, F_WRITE, 0);
        fg_avail(&x->g, RX, h[2]);
        uint64_t b3 = post_rx(x, 4, NULL);
        assert_int_equal(ward_vconsole_input(&x->c, "0123456789", 10), 10);
        assert_int_equal(fg_used_idx(&x->g, RX), 3);
        expect_used(&x->g, RX, 0, h[0], 4);
        expect_used(&x->g, RX, 1, h[1], 4);
        expect_used(&x->g, RX, 2, h[2], 2);
        assert_memory_equal(fg_ptr(&x->g, b0), "0123", 4);
        assert_memory_equal(fg_ptr(&x->g, b1), "4567", 4);
        assert_memory_equal(fg_ptr(&x->g, c0), "8", 1);
        assert_memory_equal(fg_ptr(&x->g, c1), "9", 1);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, c1 + 1), 0xee);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, b3), 0xee); /* not taken */
        assert_int_equal(x->g.irq_count, 1);                   /* one interrupt for the batch */
}

static void console_input_room_and_full_buffer(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        static uint8_t pattern[WARD_VCONSOLE_INBUF + 200];
        for (size_t i = 0; i < sizeof(pattern); i++)
                pattern[i] = (uint8_t)(i % 251);
        /* No receive buffers: the input buffer fills, then refuses. */
        assert_int_equal(ward_vconsole_input(&x->c, pattern, 1000), 1000);
        assert_int_equal(ward_vconsole_input_room(&x->c), WARD_VCONSOLE_INBUF - 1000);
        assert_int_equal(ward_vconsole_input(&x->c, pattern + 1000, WARD_VCONSOLE_INBUF),
                         WARD_VCONSOLE_INBUF - 1000);
        assert_int_equal(ward_vconsole_input_room(&x->c), 0);
        assert_int_equal(ward_vconsole_input(&x->c, "z", 1), 0);
        /* 100 bytes drain, so exactly 100 more fit (the ring buffer wraps). */
        uint16_t head;
        uint64_t first = post_rx(x, 100, &head);
        fg_mmio_write(&x->c.v, R_NOTIFY, RX);
        expect_used(&x->g, RX, 0, head, 100);
        assert_memory_equal(fg_ptr(&x->g, first), pattern, 100);
        assert_int_equal(ward_vconsole_input_room(&x->c), 100);
        assert_int_equal(ward_vconsole_input(&x->c, pattern + WARD_VCONSOLE_INBUF, 200), 100);
        assert_int_equal(ward_vconsole_input_room(&x->c), 0);
        /* Everything comes out in order across the wrap: 4096 bytes in 8 buffers of 512. */
        uint64_t bufs[8];
        for (int i = 0; i < 8; i++)
                bufs[i] = post_rx(x, 512, NULL);
        fg_mmio_write(&x->c.v, R_NOTIFY, RX);
        assert_int_equal(fg_used_idx(&x->g, RX), 9);
        for (int i = 0; i < 8; i++) {
                expect_used(&x->g, RX, (uint16_t)(1 + i), (uint16_t)(1 + i), 512);
                assert_memory_equal(fg_ptr(&x->g, bufs[i]), pattern + 100 + 512 * i, 512);
        }
        assert_int_equal(ward_vconsole_input_room(&x->c), WARD_VCONSOLE_INBUF);
}

static void console_rx_bad_chains_complete_empty(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        /* A receive chain with only a readable buffer: nothing can be written. */
        uint64_t r = fg_alloc(&x->g, 8, 0x55);
        fg_desc(&x->g, RX, 0, r, 8, 0, 0);
        fg_avail(&x->g, RX, 0);
        /* A chain whose next index is out of range. */
        fg_desc(&x->g, RX, 1, r, 8, F_WRITE | F_NEXT, QSIZE + 3);
        fg_avail(&x->g, RX, 1);
        x->next_desc[RX] = 2;
        uint16_t head;
        uint64_t good = post_rx(x, 8, &head);
        assert_int_equal(ward_vconsole_input(&x->c, "ok", 2), 2);
        expect_used(&x->g, RX, 0, 0, 0);
        expect_used(&x->g, RX, 1, 1, 0);
        expect_used(&x->g, RX, 2, head, 2);
        assert_memory_equal(fg_ptr(&x->g, good), "ok", 2);
        uint8_t fill[8];
        memset(fill, 0x55, sizeof(fill));
        assert_memory_equal(fg_ptr(&x->g, r), fill, 8);
}

static void console_broken_ring_needs_reset(void **state)
{
        struct con_ctx *x = *state;
        con_up(x);
        fg_set_avail_idx(&x->g, TX, QSIZE + 1);
        fg_mmio_write(&x->c.v, R_NOTIFY, TX);
        assert_int_equal(fg_mmio_read(&x->c.v, 0x070) & WARD_VIRTIO_S_NEEDS_RESET,
                         WARD_VIRTIO_S_NEEDS_RESET);
        assert_int_equal(x->out_len, 0);
        /* Buffered input survives a reset and reaches the next driver. */
        assert_int_equal(ward_vconsole_input(&x->c, "hi", 2), 2);
        fg_mmio_write(&x->c.v, 0x070, 0);
        memset(fg_ptr(&x->g, FG_RING_BASE(0)), 0, 0x20000);
        con_up(x);
        uint16_t head;
        x->next_desc[RX] = 0;
        uint64_t b = post_rx(x, 8, &head);
        fg_mmio_write(&x->c.v, R_NOTIFY, RX);
        expect_used(&x->g, RX, 0, head, 2);
        assert_memory_equal(fg_ptr(&x->g, b), "hi", 2);
}

/* ---- rng ---- */

struct rng_ctx {
        struct fake_guest g;
        struct ward_vrng r;
        uint8_t next;   /* the backend hands out 0, 1, 2, ... */
        uint32_t limit; /* bytes per call at most (0: no limit) */
        unsigned calls;
        uint32_t given;
};

static uint32_t rng_fill(void *opaque, void *buf, uint32_t len)
{
        struct rng_ctx *x = opaque;
        x->calls++;
        uint32_t n = x->limit && len > x->limit ? x->limit : len;
        for (uint32_t i = 0; i < n; i++)
                ((uint8_t *)buf)[i] = x->next++;
        x->given += n;
        return n;
}

static int rng_setup(void **state)
{
        struct rng_ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        struct ward_rng_backend be = {.fill = rng_fill, .opaque = x};
        ward_vrng_setup(&x->r, &be);
        ward_virtio_init(&x->r.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->r.v, V1, QSIZE);
        assert_true(ward_virtio_is_live(&x->r.v));
        *state = x;
        return 0;
}

static int rng_teardown(void **state)
{
        struct rng_ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static void rng_identity(void **state)
{
        struct rng_ctx *x = *state;
        assert_int_equal(fg_mmio_read(&x->r.v, 0x008), WARD_VIRTIO_ID_RNG);
        /* No config space: a read through the bus gives zero. */
        struct ward_bus_window win[1];
        struct ward_bus bus;
        ward_bus_init(&bus, win, 1);
        assert_int_equal(ward_bus_register(&bus, 0x0a000000, WARD_VIRTIO_MMIO_SIZE,
                                           &ward_virtio_mmio_ops, &x->r.v),
                         WARD_OK);
        uint8_t b[4] = {0xee, 0xee, 0xee, 0xee};
        assert_int_equal(ward_bus_access(&bus, 0x0a000100, false, b, 4), WARD_BUS_HANDLED);
        assert_int_equal(ward_le32(b), 0);
}

static void rng_fills_writable_buffers(void **state)
{
        struct rng_ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 32, 0xee);
        fg_desc(&x->g, 0, 0, a, 32, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        /* Readable, then two writable pieces. */
        uint64_t r = fg_alloc(&x->g, 8, 0x55), b = fg_alloc(&x->g, 4, 0xee),
                 c = fg_alloc(&x->g, 6, 0xee);
        fg_desc(&x->g, 0, 1, r, 8, F_NEXT, 2);
        fg_desc(&x->g, 0, 2, b, 4, F_WRITE | F_NEXT, 3);
        fg_desc(&x->g, 0, 3, c, 6, F_WRITE, 0);
        fg_avail(&x->g, 0, 1);
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);

        assert_int_equal(fg_used_idx(&x->g, 0), 2);
        expect_used(&x->g, 0, 0, 0, 32);
        expect_used(&x->g, 0, 1, 1, 10);
        uint8_t want[32];
        for (int i = 0; i < 32; i++)
                want[i] = (uint8_t)i;
        assert_memory_equal(fg_ptr(&x->g, a), want, 32);
        const uint8_t wb[4] = {32, 33, 34, 35}, wc[6] = {36, 37, 38, 39, 40, 41};
        assert_memory_equal(fg_ptr(&x->g, b), wb, 4);
        assert_memory_equal(fg_ptr(&x->g, c), wc, 6);
        uint8_t fill[8];
        memset(fill, 0x55, sizeof(fill));
        assert_memory_equal(fg_ptr(&x->g, r), fill, 8);
        assert_int_equal(x->given, 42);
        assert_int_equal(fg_mmio_read(&x->r.v, 0x060), WARD_VIRTIO_INT_USED);
        assert_int_equal(x->g.irq_count, 1);
}

static void rng_short_backend_sets_used_len(void **state)
{
        struct rng_ctx *x = *state;
        x->limit = 10;
        uint64_t a = fg_alloc(&x->g, 32, 0xee), b = fg_alloc(&x->g, 32, 0xee);
        fg_desc(&x->g, 0, 0, a, 32, F_WRITE | F_NEXT, 1);
        fg_desc(&x->g, 0, 1, b, 32, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);
        expect_used(&x->g, 0, 0, 0, 10);
        assert_int_equal(x->calls, 1); /* a short fill ends the request */
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, a + 10), 0xee);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, b), 0xee);
}

static void rng_request_is_bounded(void **state)
{
        struct rng_ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 3000, 0xee), b = fg_alloc(&x->g, 3000, 0xee);
        fg_desc(&x->g, 0, 0, a, 3000, F_WRITE | F_NEXT, 1);
        fg_desc(&x->g, 0, 1, b, 3000, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);
        expect_used(&x->g, 0, 0, 0, 4096);
        assert_int_equal(x->given, 4096);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, b + 1096), 0xee);
}

static void rng_readable_only_chain_gets_nothing(void **state)
{
        struct rng_ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 16, 0x55), b = fg_alloc(&x->g, 16, 0x55);
        fg_desc(&x->g, 0, 0, a, 16, F_NEXT, 1);
        fg_desc(&x->g, 0, 1, b, 16, 0, 0);
        fg_avail(&x->g, 0, 0);
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);
        expect_used(&x->g, 0, 0, 0, 0);
        assert_int_equal(x->calls, 0);
        uint8_t fill[16];
        memset(fill, 0x55, sizeof(fill));
        assert_memory_equal(fg_ptr(&x->g, a), fill, 16);
        assert_memory_equal(fg_ptr(&x->g, b), fill, 16);
}

static void rng_malformed_chains_then_good(void **state)
{
        struct rng_ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 16, 0xee);
        /* Outside RAM; next out of range; writable before readable; a loop. */
        fg_desc(&x->g, 0, 0, FG_RAM_BASE - 16, 16, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        fg_desc(&x->g, 0, 1, a, 16, F_WRITE | F_NEXT, QSIZE);
        fg_avail(&x->g, 0, 1);
        fg_desc(&x->g, 0, 2, a, 16, F_WRITE | F_NEXT, 3);
        fg_desc(&x->g, 0, 3, a, 16, 0, 0);
        fg_avail(&x->g, 0, 2);
        fg_desc(&x->g, 0, 4, a, 16, F_WRITE | F_NEXT, 5);
        fg_desc(&x->g, 0, 5, a, 16, F_WRITE | F_NEXT, 4);
        fg_avail(&x->g, 0, 4);
        uint64_t good = fg_alloc(&x->g, 8, 0xee);
        fg_desc(&x->g, 0, 6, good, 8, F_WRITE, 0);
        fg_avail(&x->g, 0, 6);
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 5);
        expect_used(&x->g, 0, 0, 0, 0);
        expect_used(&x->g, 0, 1, 1, 0);
        expect_used(&x->g, 0, 2, 2, 0);
        expect_used(&x->g, 0, 3, 4, 0);
        expect_used(&x->g, 0, 4, 6, 8);
        assert_int_equal(x->given, 8);
        const uint8_t want[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        assert_memory_equal(fg_ptr(&x->g, good), want, 8);
        assert_int_equal(fg_mmio_read(&x->r.v, 0x070) & WARD_VIRTIO_S_NEEDS_RESET, 0);
}

static void rng_broken_ring_needs_reset(void **state)
{
        struct rng_ctx *x = *state;
        fg_avail(&x->g, 0, QSIZE + 1); /* head out of range */
        fg_mmio_write(&x->r.v, R_NOTIFY, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 0);
        assert_int_equal(fg_mmio_read(&x->r.v, 0x070) & WARD_VIRTIO_S_NEEDS_RESET,
                         WARD_VIRTIO_S_NEEDS_RESET);
        assert_int_equal(fg_mmio_read(&x->r.v, 0x060), WARD_VIRTIO_INT_CONFIG);
        assert_int_equal(x->calls, 0);
}

int main(void)
{
#define C(f) cmocka_unit_test_setup_teardown(f, con_setup, con_teardown)
#define R(f) cmocka_unit_test_setup_teardown(f, rng_setup, rng_teardown)
        const struct CMUnitTest tests[] = {
            C(console_identity),
            C(console_tx_reaches_backend),
            C(console_tx_ignores_writable_and_survives_bad_chain),
            C(console_input_before_rx_buffers),
            C(console_input_with_buffer_posted_goes_at_once),
            C(console_input_split_across_buffers),
            C(console_input_room_and_full_buffer),
            C(console_rx_bad_chains_complete_empty),
            C(console_broken_ring_needs_reset),
            R(rng_identity),
            R(rng_fills_writable_buffers),
            R(rng_short_backend_sets_used_len),
            R(rng_request_is_bounded),
            R(rng_readable_only_chain_gets_nothing),
            R(rng_malformed_chains_then_good),
            R(rng_broken_ring_needs_reset),
        };
#undef C
#undef R
        return cmocka_run_group_tests(tests, NULL, NULL);
}
