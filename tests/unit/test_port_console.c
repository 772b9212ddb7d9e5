/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remote console port: a virtio-console device (and a UART) on the VMM
 * side, the serial server side played by the test, one heap buffer as the
 * shared region. Output arrives in order, input arrives through the poll
 * callback with backpressure, a full ring cuts output off and counts it,
 * and a peer that corrupts the indices breaks only the port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/port/port_console.h"
#include "ward/machine/uart16550.h"

#define QSIZE 16
#define RX 0
#define TX 1

struct ctx {
        struct fake_guest g;
        struct ward_vconsole con;
        struct ward_uart uart;
        uint8_t *region;
        size_t bytes;
        uint32_t ring;
        struct ward_console_port vmm, srv;
        unsigned vmm_woken, srv_woken;
        uint8_t got[16384]; /* what the server received */
        uint32_t ngot;
        uint32_t sink_limit; /* bytes the capped sink takes per call */
        uint16_t next_desc[2];
};

static void wake_vmm(void *o)
{
        ((struct ctx *)o)->vmm_woken++;
}

static void wake_srv(void *o)
{
        ((struct ctx *)o)->srv_woken++;
}

static struct ctx *new_ctx(uint32_t ring)
{
        struct ctx *x = calloc(1, sizeof(*x));
        x->ring = ring;
        x->bytes = ward_console_port_region_bytes(ring);
        assert_true(x->bytes > 0);
        x->region = malloc(x->bytes); /* exact size, for ASan */
        memset(x->region, 0x3c, x->bytes);
        assert_int_equal(ward_console_port_format(x->region, x->bytes, ring), WARD_OK);
        struct ward_port_notify to_srv = {wake_srv, x}, to_vmm = {wake_vmm, x};
        assert_int_equal(
            ward_console_port_init(&x->vmm, x->region, x->bytes, ring, WARD_PORT_CLIENT, &to_srv),
            WARD_OK);
        assert_int_equal(
            ward_console_port_init(&x->srv, x->region, x->bytes, ring, WARD_PORT_SERVER, &to_vmm),
            WARD_OK);
        fg_init(&x->g);
        struct ward_console_backend be = ward_console_port_backend(&x->vmm);
        ward_vconsole_setup(&x->con, &be);
        ward_virtio_init(&x->con.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->con.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        return x;
}

static void free_ctx(struct ctx *x)
{
        fg_free(&x->g);
        free(x->region);
        free(x);
}

/* The serial server's sink: keeps everything. */
static uint32_t collect(void *opaque, const void *buf, uint32_t len)
{
        struct ctx *x = opaque;
        assert_true(x->ngot + len <= sizeof(x->got));
        memcpy(x->got + x->ngot, buf, len);
        x->ngot += len;
        return len;
}

/* A sink that takes at most sink_limit bytes per call. */
static uint32_t collect_capped(void *opaque, const void *buf, uint32_t len)
{
        struct ctx *x = opaque;
        return collect(x, buf, WARD_MIN(len, x->sink_limit));
}

static uint32_t to_vconsole(void *opaque, const void *buf, uint32_t len)
{
        return ward_vconsole_input(opaque, buf, len);
}

static uint32_t to_uart(void *opaque, const void *buf, uint32_t len)
{
        return ward_uart_input(opaque, buf, len);
}

/* The guest transmits one buffer on virtio-console. */
static void guest_tx(struct ctx *x, const void *data, uint32_t len)
{
        uint64_t b = fg_alloc(&x->g, len, 0);
        memcpy(fg_ptr(&x->g, b), data, len);
        uint16_t d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, b, len, 0, 0);
        fg_avail(&x->g, TX, d);
        fg_mmio_write(&x->con.v, 0x050, TX);
}

static void device_output_arrives_in_order(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(256);
        guest_tx(x, "hello, ", 7);
        guest_tx(x, "world", 5);
        assert_int_equal(x->srv_woken, 2);
        assert_int_equal(ward_console_port_poll(&x->srv, collect, x), 12);
        assert_memory_equal(x->got, "hello, world", 12);
        /* Longer than a ring, across its wrap, in pieces the server drains in between. */
        uint8_t big[200];
        for (unsigned round = 0; round < 10; round++) {
                for (unsigned i = 0; i < sizeof(big); i++)
                        big[i] = (uint8_t)(round * 200 + i);
                guest_tx(x, big, sizeof(big));
                assert_int_equal(ward_console_port_poll(&x->srv, collect, x), sizeof(big));
        }
        assert_int_equal(x->ngot, 12 + 2000);
        for (unsigned i = 0; i < 2000; i++)
                assert_int_equal(x->got[12 + i], (uint8_t)i);
        assert_int_equal(x->vmm.dropped, 0);
        assert_int_equal(fg_used_idx(&x->g, TX), 12);
        free_ctx(x);
}

static void server_input_reaches_the_guest(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(256);
        assert_int_equal(ward_console_port_write(&x->srv, "ls -l\n", 6), 6);
        assert_int_equal(x->vmm_woken, 1);
        assert_int_equal(ward_console_port_poll(&x->vmm, to_vconsole, &x->con), 6);
        /* The guest posts a receive buffer and gets the bytes. */
        uint64_t b = fg_alloc(&x->g, 64, 0);
        uint16_t d = x->next_desc[RX]++ % QSIZE;
        fg_desc(&x->g, RX, d, b, 64, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(&x->g, RX, d);
        fg_mmio_write(&x->con.v, 0x050, RX);
        uint32_t id, len;
        assert_int_equal(fg_used_idx(&x->g, RX), 1);
        fg_used_elem(&x->g, RX, 0, &id, &len);
        assert_int_equal(len, 6);
        assert_memory_equal(fg_ptr(&x->g, b), "ls -l\n", 6);
        free_ctx(x);
}

/* The UART's FIFO fills: the rest waits in the ring, in order, until the guest reads. */
static void input_backpressure_through_the_uart(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(4096);
        ward_uart_init(&x->uart, ward_console_port_backend(&x->vmm).write, &x->vmm, NULL, NULL);
        uint8_t in[3000];
        for (unsigned i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t)(i * 7);
        assert_int_equal(ward_console_port_write(&x->srv, in, sizeof(in)), sizeof(in));
        uint32_t seen = 0;
        for (unsigned round = 0; round < 5 && seen < sizeof(in); round++) {
                uint32_t n = ward_console_port_poll(&x->vmm, to_uart, &x->uart);
                assert_true(n <= WARD_UART_RX_SIZE);
                /* The guest reads the FIFO. */
                const uint8_t *p;
                while (x->uart.rx.count > 0) {
                        uint32_t run = ward_fifo_run(&x->uart.rx, &p);
                        for (uint32_t i = 0; i < run; i++)
                                assert_int_equal(p[i], (uint8_t)((seen + i) * 7));
                        seen += run;
                        ward_fifo_drop(&x->uart.rx, run);
                }
        }
        assert_int_equal(seen, sizeof(in));
        /* UART output goes the other way through the same port. */
        ward_uart_mmio_ops.write(&x->uart, 0, "Z", 1);
        assert_int_equal(ward_console_port_poll(&x->srv, collect, x), 1);
        assert_int_equal(x->got[0], 'Z');
        free_ctx(x);
}

static void full_ring_cuts_output_and_counts_it(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(64);
        uint8_t out[100];
        for (unsigned i = 0; i < sizeof(out); i++)
                out[i] = (uint8_t)i;
        guest_tx(x, out, sizeof(out));
        assert_int_equal(x->vmm.dropped, 36);
        assert_int_equal(fg_used_idx(&x->g, TX), 1); /* the guest is never held up */
        guest_tx(x, out, 10);                        /* still full: all dropped */
        assert_int_equal(x->vmm.dropped, 46);
        assert_int_equal(ward_console_port_poll(&x->srv, collect, x), 64);
        for (unsigned i = 0; i < 64; i++)
                assert_int_equal(x->got[i], i); /* the first 64 bytes, whole */
        /* The server drained a full ring: it tells the VMM there is room. */
        assert_int_equal(x->vmm_woken, 1);
        guest_tx(x, "ok", 2);
        assert_int_equal(ward_console_port_poll(&x->srv, collect, x), 2);
        assert_memory_equal(x->got + 64, "ok", 2);
        assert_int_equal(x->vmm.dropped, 46);
        free_ctx(x);
}

/* A server whose writer is ahead of a slow reader: nothing is lost, the writer is woken. */
static void input_writer_is_woken_when_room_returns(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(64);
        uint8_t in[100];
        for (unsigned i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t)(i + 1);
        assert_int_equal(ward_console_port_room(&x->srv), 64);
        uint32_t sent = ward_console_port_write(&x->srv, in, sizeof(in));
        assert_int_equal(sent, 64);
        assert_int_equal(ward_console_port_room(&x->srv), 0);
        x->sink_limit = 10;
        assert_int_equal(ward_console_port_poll(&x->vmm, collect_capped, x), 10);
        assert_int_equal(x->srv_woken, 1); /* was full: the server may send again */
        assert_int_equal(ward_console_port_room(&x->srv), 10);
        sent += ward_console_port_write(&x->srv, in + sent, sizeof(in) - sent);
        assert_int_equal(sent, 74);
        x->sink_limit = 1000;
        assert_int_equal(ward_console_port_poll(&x->vmm, collect_capped, x), 64);
        sent += ward_console_port_write(&x->srv, in + sent, sizeof(in) - sent);
        assert_int_equal(sent, 100);
        assert_int_equal(ward_console_port_poll(&x->vmm, collect_capped, x), 26);
        assert_int_equal(x->ngot, 100);
        assert_memory_equal(x->got, in, 100);
        free_ctx(x);
}

static void hostile_peer_breaks_only_the_port(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(64);
        /* The server claims a million bytes of input. */
        size_t second = x->bytes - ward_ring_bytes(64, 1);
        uint32_t *prod = (uint32_t *)(void *)(x->region + second + WARD_RING_OFF_PROD);
        *prod = 1000000;
        assert_int_equal(ward_console_port_poll(&x->vmm, to_vconsole, &x->con), 0);
        assert_true(ward_ring_is_broken(&x->vmm.in));
        assert_int_equal(x->con.in.count, 0);
        /* And moves the VMM's output consumer index past what was written. */
        uint32_t *cons = (uint32_t *)(void *)(x->region + WARD_RING_OFF_CONS);
        *cons = 5;
        guest_tx(x, "abc", 3);
        assert_int_equal(x->vmm.dropped, 3);
        assert_true(ward_ring_is_broken(&x->vmm.out));
        assert_int_equal(fg_used_idx(&x->g, TX), 1); /* the device carries on */
        free_ctx(x);
}

static void bad_sizes_are_refused(void **state)
{
        (void)state;
        assert_int_equal(ward_console_port_region_bytes(0), 0);
        assert_int_equal(ward_console_port_region_bytes(100), 0);
        uint32_t mem[64];
        struct ward_console_port p;
        struct ward_port_notify n = {NULL, NULL};
        assert_int_equal(ward_console_port_init(&p, mem, sizeof(mem), 128, WARD_PORT_CLIENT, &n),
                         WARD_EINVAL);
        assert_int_equal(ward_console_port_write(&p, "x", 1), 0);
        assert_int_equal(ward_console_port_format(mem, sizeof(mem), 128), WARD_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(device_output_arrives_in_order),
            cmocka_unit_test(server_input_reaches_the_guest),
            cmocka_unit_test(input_backpressure_through_the_uart),
            cmocka_unit_test(full_ring_cuts_output_and_counts_it),
            cmocka_unit_test(input_writer_is_woken_when_room_returns),
            cmocka_unit_test(hostile_peer_breaks_only_the_port),
            cmocka_unit_test(bad_sizes_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
