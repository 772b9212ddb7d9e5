/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio-vsock's connection state machine against a fake guest and a fake
 * backend: connections both ways, data and credit both ways, refusals,
 * closes, and a guest whose headers lie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/virtio/virtio_vsock.h"

#define QSIZE 32
#define RX 0
#define TX 1
#define R_NOTIFY 0x050
#define HDR WARD_VSOCK_HDR_LEN
#define CID 3
#define V1 (1ull << WARD_VIRTIO_F_VERSION_1)

struct ctx {
        struct fake_guest g;
        struct ward_vsock s;
        int next_handle;     /* what connect() answers */
        uint32_t asked_port; /* what it was asked */
        int connected_h, connected_ok, closes, last_closed, rx_readies;
        uint8_t got[400000];
        uint32_t got_len;
        uint16_t next_desc[2];
        uint16_t rx_seen;
};

static int be_connect(void *o, uint32_t port)
{
        struct ctx *x = o;
        x->asked_port = port;
        return x->next_handle;
}

static void be_connected(void *o, int h, bool ok)
{
        struct ctx *x = o;
        x->connected_h = h;
        x->connected_ok = ok;
}

static void be_write(void *o, int h, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        struct ctx *x = o;
        (void)h;
        assert_true(x->got_len + len <= sizeof(x->got));
        assert_int_equal(ward_iov_read(iov, niov, 0, x->got + x->got_len, len), len);
        x->got_len += len;
}

static void be_close(void *o, int h)
{
        struct ctx *x = o;
        x->closes++;
        x->last_closed = h;
}

static void be_rx_ready(void *o, int h)
{
        (void)h;
        ((struct ctx *)o)->rx_readies++;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        struct ward_vsock_backend be = {be_connect, be_connected, be_write,
                                        be_close,   be_rx_ready,  x};
        ward_vsock_setup(&x->s, &be, CID);
        ward_virtio_init(&x->s.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->s.v, V1, QSIZE);
        x->connected_h = x->last_closed = -1;
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A packet from the guest: header fields, then len bytes of data (filled with `fill`). */
static void guest_send(struct ctx *x, uint64_t src_cid, uint32_t sport, uint32_t dport, uint16_t op,
                       uint32_t len, uint32_t buf_alloc, uint32_t fwd, uint8_t fill)
{
        uint64_t b = fg_alloc(&x->g, HDR + len, fill);
        uint8_t *h = fg_ptr(&x->g, b);
        memset(h, 0, HDR);
        put32(h, (uint32_t)src_cid);
        put32(h + 8, WARD_VSOCK_HOST_CID);
        put32(h + 16, sport);
        put32(h + 20, dport);
        put32(h + 24, len);
        h[28] = 1; /* stream */
        h[30] = (uint8_t)op;
        put32(h + 36, buf_alloc);
        put32(h + 40, fwd);
        uint16_t d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, b, HDR + len, 0, 0);
        fg_avail(&x->g, TX, d);
        fg_mmio_write(&x->s.v, R_NOTIFY, TX);
}

static void post_rx(struct ctx *x, unsigned n, uint32_t len)
{
        for (unsigned i = 0; i < n; i++) {
                uint64_t b = fg_alloc(&x->g, len, 0);
                uint16_t d = x->next_desc[RX]++ % QSIZE;
                fg_desc(&x->g, RX, d, b, len, WARD_VRING_DESC_F_WRITE, 0);
                fg_avail(&x->g, RX, d);
        }
        fg_mmio_write(&x->s.v, R_NOTIFY, RX);
}

/* The next packet the device gave the guest: its header, and its data in *data. */
struct pkt {
        uint32_t src_cid, dst_cid, sport, dport, len, op, flags, buf, fwd;
        const uint8_t *data;
};

static bool next_pkt(struct ctx *x, struct pkt *p)
{
        if (x->rx_seen == fg_used_idx(&x->g, RX))
                return false;
        uint32_t id, len;
        fg_used_elem(&x->g, RX, x->rx_seen++, &id, &len);
        /* Descriptor id's buffer: read its address back from the table. */
        const uint8_t *desc = fg_ptr(&x->g, FG_DESC(RX) + 16u * id);
        uint64_t addr;
        memcpy(&addr, desc, 8);
        const uint8_t *h = fg_ptr(&x->g, addr);
        *p = (struct pkt){get32(h), get32(h + 8),  get32(h + 16), get32(h + 20), get32(h + 24),
                          h[30],    get32(h + 32), get32(h + 36), get32(h + 40), h + HDR};
        assert_int_equal(len, HDR + p->len);
        return true;
}

static void guest_connects_and_sends(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 8, 4096);
        x->next_handle = 5;
        guest_send(x, CID, 1234, 80, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        assert_int_equal(x->asked_port, 80);
        struct pkt p;
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RESPONSE);
        assert_int_equal(p.src_cid, WARD_VSOCK_HOST_CID);
        assert_int_equal(p.dst_cid, CID);
        assert_int_equal(p.sport, 80);
        assert_int_equal(p.dport, 1234);
        assert_int_equal(p.buf, WARD_VSOCK_BUF);
        /* Data reaches the backend. */
        guest_send(x, CID, 1234, 80, WARD_VSOCK_OP_RW, 100, 65536, 0, 0x42);
        assert_int_equal(x->got_len, 100);
        assert_int_equal(x->got[99], 0x42);
        /* A quarter of the buffer forwarded since it last heard: the guest hears of its credit. */
        ward_vsock_forwarded(&x->s, 5, 100);
        assert_false(next_pkt(x, &p));
        for (int i = 0; i < 700; i++)
                guest_send(x, CID, 1234, 80, WARD_VSOCK_OP_RW, 100, 65536, 0, 1);
        ward_vsock_forwarded(&x->s, 5, 66000);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_CREDIT_UPDATE);
        assert_int_equal(p.fwd, 66100);
        /* Past its credit: 4,000 still in flight, then four packets of 65,000. */
        for (int i = 0; i < 3; i++)
                guest_send(x, CID, 1234, 80, WARD_VSOCK_OP_RW, 65000, 65536, 0, 1);
        assert_int_equal(x->closes, 0);
        guest_send(x, CID, 1234, 80, WARD_VSOCK_OP_RW, 65000, 65536, 0, 1);
        assert_int_equal(x->closes, 1);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RST);
        assert_false(x->s.conn[5].used);
        assert_int_equal(x->s.stats.bad_packets, 1);
}

static void refused_and_stray(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 8, 4096);
        x->next_handle = -1;
        guest_send(x, CID, 1, 22, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        struct pkt p;
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RST);
        assert_int_equal(p.dport, 1);
        assert_int_equal(x->s.stats.refused, 1);
        /* Data for no connection: a reset, nothing to the backend. */
        guest_send(x, CID, 1, 22, WARD_VSOCK_OP_RW, 10, 65536, 0, 0);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RST);
        assert_int_equal(x->got_len, 0);
        /* A reset for no connection gets nothing back (no reset storms). */
        guest_send(x, CID, 1, 22, WARD_VSOCK_OP_RST, 0, 65536, 0, 0);
        assert_false(next_pkt(x, &p));

        /* A backend handle the device cannot hold (out of range, or a live
         * connection's) refuses the guest, and is not named back to the backend:
         * closing it would end the live connection. */
        x->next_handle = 5;
        guest_send(x, CID, 2, 22, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RESPONSE);
        x->next_handle = WARD_VSOCK_MAX_CONNS;
        guest_send(x, CID, 3, 22, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RST);
        assert_int_equal(p.dport, 3);
        x->next_handle = 5;
        guest_send(x, CID, 4, 22, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RST);
        assert_int_equal(p.dport, 4);
        assert_int_equal(x->s.stats.refused, 3);
        assert_int_equal(x->closes, 0);
        /* The live one still carries data. */
        guest_send(x, CID, 2, 22, WARD_VSOCK_OP_RW, 10, 65536, 0, 0);
        assert_int_equal(x->got_len, 10);
}

static void hostile_headers(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 16, 4096);
        x->next_handle = 0;
        /* Another CID than its own. */
        guest_send(x, 7, 1, 2, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        /* A length past the packet (the descriptor holds HDR + 10). */
        uint64_t b = fg_alloc(&x->g, HDR + 10, 0);
        uint8_t *h = fg_ptr(&x->g, b);
        put32(h, CID);
        put32(h + 8, 2);
        put32(h + 24, 5000);
        h[28] = 1;
        h[30] = WARD_VSOCK_OP_RW;
        uint16_t d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, b, HDR + 10, 0, 0);
        fg_avail(&x->g, TX, d);
        fg_mmio_write(&x->s.v, R_NOTIFY, TX);
        /* A header shorter than a header. */
        d = x->next_desc[TX]++ % QSIZE;
        fg_desc(&x->g, TX, d, b, 20, 0, 0);
        fg_avail(&x->g, TX, d);
        fg_mmio_write(&x->s.v, R_NOTIFY, TX);
        assert_int_equal(x->s.stats.bad_packets, 3);
        assert_string_equal(x->asked_port ? "asked" : "none", "none");
        /* An unknown op on a live connection ends it. */
        guest_send(x, CID, 9, 9, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        assert_true(x->s.conn[0].used);
        guest_send(x, CID, 9, 9, 42, 0, 65536, 0, 0);
        assert_int_equal(x->closes, 1);
        assert_false(x->s.conn[0].used);
        assert_true(ward_virtio_is_live(&x->s.v));
}

static void host_connects_and_credit(void **state)
{
        struct ctx *x = *state;
        /* No receive buffer yet: the request waits for one. */
        int hport = ward_vsock_connect_guest(&x->s, 2, 5000);
        assert_true(hport >= 49152);
        assert_int_equal(ward_vsock_connect_guest(&x->s, 2, 5001), -1); /* handle in use */
        struct pkt p;
        assert_false(next_pkt(x, &p));
        post_rx(x, 8, 4096);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_REQUEST);
        assert_int_equal(p.dport, 5000);
        assert_int_equal(p.sport, (uint32_t)hport);
        /* Not open yet: nothing may be sent. */
        assert_int_equal(ward_vsock_room(&x->s, 2), 0);
        /* The guest accepts, with a 6000-byte buffer. */
        guest_send(x, CID, 5000, (uint32_t)hport, WARD_VSOCK_OP_RESPONSE, 0, 6000, 0, 0);
        assert_int_equal(x->connected_h, 2);
        assert_int_equal(x->connected_ok, 1);
        assert_int_equal(ward_vsock_room(&x->s, 2), 6000);
        static uint8_t data[10000];
        memset(data, 0x5a, sizeof(data));
        /* One packet per receive buffer (4096 - HDR), and no more than the credit. */
        uint32_t sent = ward_vsock_send(&x->s, 2, data, sizeof(data));
        assert_int_equal(sent, 4096 - HDR);
        sent += ward_vsock_send(&x->s, 2, data, sizeof(data));
        assert_int_equal(sent, 6000);
        assert_int_equal(ward_vsock_send(&x->s, 2, data, sizeof(data)), 0);
        assert_true(next_pkt(x, &p));
        assert_int_equal(p.op, WARD_VSOCK_OP_RW);
        assert_int_equal(p.len, 4096 - HDR);
        assert_int_equal(p.data[0], 0x5a);
        /* The guest consumed it all: its credit update lets more go. */
        guest_send(x, CID, 5000, (uint32_t)hport, WARD_VSOCK_OP_CREDIT_UPDATE, 0, 6000, 6000, 0);
        assert_int_equal(x->rx_readies, 1);
        assert_int_equal(ward_vsock_room(&x->s, 2), 6000);
        /* The host ends it: the guest gets a shutdown, then its reset frees the handle. */
        ward_vsock_close(&x->s, 2);
        while (next_pkt(x, &p) && p.op != WARD_VSOCK_OP_SHUTDOWN)
                ;
        assert_int_equal(p.op, WARD_VSOCK_OP_SHUTDOWN);
        assert_int_equal(p.flags, 3);
        assert_true(x->s.conn[2].used);
        guest_send(x, CID, 5000, (uint32_t)hport, WARD_VSOCK_OP_RST, 0, 6000, 6000, 0);
        assert_false(x->s.conn[2].used);
        assert_int_equal(x->closes, 0); /* the backend ended it itself */
}

static void guest_refuses_and_reset_ends_all(void **state)
{
        struct ctx *x = *state;
        post_rx(x, 8, 4096);
        int hport = ward_vsock_connect_guest(&x->s, 1, 7);
        guest_send(x, CID, 7, (uint32_t)hport, WARD_VSOCK_OP_RST, 0, 0, 0, 0);
        assert_int_equal(x->connected_h, 1);
        assert_int_equal(x->connected_ok, 0);
        assert_false(x->s.conn[1].used);
        /* Two open connections; a device reset ends both on the backend's side. */
        x->next_handle = 3;
        guest_send(x, CID, 10, 80, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        x->next_handle = 4;
        guest_send(x, CID, 11, 80, WARD_VSOCK_OP_REQUEST, 0, 65536, 0, 0);
        fg_mmio_write(&x->s.v, 0x070, 0);
        assert_int_equal(x->closes, 2);
        assert_false(x->s.conn[3].used || x->s.conn[4].used);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(guest_connects_and_sends, setup, teardown),
            cmocka_unit_test_setup_teardown(refused_and_stray, setup, teardown),
            cmocka_unit_test_setup_teardown(hostile_headers, setup, teardown),
            cmocka_unit_test_setup_teardown(host_connects_and_credit, setup, teardown),
            cmocka_unit_test_setup_teardown(guest_refuses_and_reset_ends_all, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
