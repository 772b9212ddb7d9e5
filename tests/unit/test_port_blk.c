/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remote block port in one process: a real virtio-blk device driven by
 * the fake guest, the port client as its backend, and the port server over
 * a RAM disk, sharing a plain heap buffer. Then each side alone against a
 * hostile peer that the test plays by hand through raw rings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/port/port_blk.h"

#define SECTORS 64
#define DISK_BYTES (SECTORS * WARD_BLK_SECTOR)
#define QSIZE 16
#define GUARD 64

struct ram_disk {
        uint8_t data[DISK_BYTES];
        int fail; /* nonzero: every operation fails */
        unsigned reads, writes, flushes;
};

static int ram_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        struct ram_disk *d = o;
        /* The server must only pass requests it has checked. */
        assert_true(off <= DISK_BYTES && len <= DISK_BYTES - off);
        d->reads++;
        if (d->fail)
                return -1;
        memcpy(buf, d->data + off, len);
        return 0;
}

static int ram_write(void *o, uint64_t off, const void *buf, uint32_t len)
{
        struct ram_disk *d = o;
        assert_true(off <= DISK_BYTES && len <= DISK_BYTES - off);
        d->writes++;
        if (d->fail)
                return -1;
        memcpy(d->data + off, buf, len);
        return 0;
}

static int ram_flush(void *o)
{
        struct ram_disk *d = o;
        d->flushes++;
        return d->fail ? -1 : 0;
}

static const struct ward_blk_port_disk_ops ram_ops = {ram_read, ram_write, ram_flush};

struct ctx {
        struct fake_guest g;
        struct ward_vblk b;
        struct ward_blk_port_config cfg;
        struct ward_blk_port_layout lay;
        uint8_t *region;
        struct ward_blk_port_client cl;
        struct ward_blk_port_server sv;
        struct ram_disk disk;
        unsigned server_woken, client_woken;
        uint16_t next_desc;
        /* Raw ends for playing a hostile peer. */
        struct ward_ring raw_req, raw_resp;
};

static uint8_t pattern(unsigned i)
{
        return (uint8_t)(i * 13 + i / 512);
}

static void wake_server(void *opaque)
{
        struct ctx *x = opaque;
        x->server_woken++;
}

static void wake_client(void *opaque)
{
        struct ctx *x = opaque;
        x->client_woken++;
}

/* Small on purpose: 4 buffers of 1 KiB, so requests split and wait. */
static const struct ward_blk_port_config small_cfg = {
    .ring_slots = 8, .nbufs = 4, .buf_bytes = 1024};

/* A device with the port client as its backend; with_server adds the real server. */
static struct ctx *new_ctx(const struct ward_blk_port_config *cfg, bool with_server)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        x->cfg = *cfg;
        assert_int_equal(ward_blk_port_layout(cfg, &x->lay), WARD_OK);
        /* Exact size: ASan sees any access past the region. */
        x->region = malloc(x->lay.total);
        memset(x->region, 0x5c, x->lay.total);
        assert_int_equal(ward_blk_port_format(x->region, x->lay.total, cfg), WARD_OK);
        for (unsigned i = 0; i < DISK_BYTES; i++)
                x->disk.data[i] = pattern(i);
        struct ward_port_notify to_server = {wake_server, x}, to_client = {wake_client, x};
        assert_int_equal(
            ward_blk_port_client_init(&x->cl, x->region, x->lay.total, cfg, &to_server), WARD_OK);
        if (with_server) {
                assert_int_equal(ward_blk_port_server_init(&x->sv, x->region, x->lay.total, cfg,
                                                           DISK_BYTES, &ram_ops, &x->disk,
                                                           &to_client),
                                 WARD_OK);
        } else {
                /* The test is the server. */
                assert_int_equal(ward_ring_attach(&x->raw_req, x->region + x->lay.req_ring,
                                                  x->lay.req_ring_bytes, cfg->ring_slots,
                                                  sizeof(struct ward_blk_port_msg_req),
                                                  WARD_RING_CONSUMER),
                                 WARD_OK);
                assert_int_equal(ward_ring_attach(&x->raw_resp, x->region + x->lay.resp_ring,
                                                  x->lay.resp_ring_bytes, cfg->ring_slots,
                                                  sizeof(struct ward_blk_port_msg_resp),
                                                  WARD_RING_PRODUCER),
                                 WARD_OK);
        }
        struct ward_blk_backend be = ward_blk_port_client_backend(&x->cl);
        ward_vblk_setup(&x->b, &be, DISK_BYTES, false, "port-test");
        ward_virtio_init(&x->b.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        return x;
}

static void free_ctx(struct ctx *x)
{
        free(x->region);
        fg_free(&x->g);
        free(x);
}

struct seg {
        uint64_t gpa;
        uint32_t len;
};

/* Posts header, data segments, status; returns the status byte's address. */
static uint64_t post(struct ctx *x, uint32_t type, uint64_t sector, const struct seg *segs,
                     unsigned nsegs)
{
        uint64_t h = fg_alloc(&x->g, 16, 0), st = fg_alloc(&x->g, 1, 0xee);
        ward_put_le32(fg_ptr(&x->g, h), type);
        ward_put_le64((uint8_t *)fg_ptr(&x->g, h) + 8, sector);
        uint16_t head = x->next_desc % QSIZE, d = head;
        uint16_t writable = type == WARD_VIRTIO_BLK_T_IN ? WARD_VRING_DESC_F_WRITE : 0;
        fg_desc(&x->g, 0, d, h, 16, WARD_VRING_DESC_F_NEXT, (uint16_t)((d + 1) % QSIZE));
        for (unsigned i = 0; i < nsegs; i++) {
                d = (uint16_t)((d + 1) % QSIZE);
                fg_desc(&x->g, 0, d, segs[i].gpa, segs[i].len,
                        (uint16_t)(WARD_VRING_DESC_F_NEXT | writable), (uint16_t)((d + 1) % QSIZE));
        }
        d = (uint16_t)((d + 1) % QSIZE);
        fg_desc(&x->g, 0, d, st, 1, WARD_VRING_DESC_F_WRITE, 0);
        x->next_desc = (uint16_t)(x->next_desc + nsegs + 2);
        fg_avail(&x->g, 0, head);
        fg_mmio_write(&x->b.v, 0x050, 0); /* notify */
        return st;
}

static uint64_t post1(struct ctx *x, uint32_t type, uint64_t sector, uint64_t gpa, uint32_t len)
{
        struct seg s = {gpa, len};
        return post(x, type, sector, &s, len ? 1 : 0);
}

/* Runs server and client until neither has anything left to do. */
static void run(struct ctx *x)
{
        for (int i = 0; i < 100; i++) {
                int s = ward_blk_port_server_poll(&x->sv);
                int c = ward_blk_port_client_poll(&x->cl);
                assert_true(s >= 0 && c >= 0);
                if (s == 0 && c == 0)
                        return;
        }
        fail_msg("port did not settle");
}

static uint8_t status_of(struct ctx *x, uint64_t st)
{
        return *(uint8_t *)fg_ptr(&x->g, st);
}

/* A guest buffer with guard bytes either side, to catch writes past it. */
static uint64_t guarded(struct ctx *x, uint32_t len, uint8_t fill)
{
        uint64_t p = fg_alloc(&x->g, len + 2 * GUARD, 0xab);
        memset(fg_ptr(&x->g, p + GUARD), fill, len);
        return p + GUARD;
}

static void assert_guards(struct ctx *x, uint64_t buf, uint32_t len)
{
        const uint8_t *b = fg_ptr(&x->g, buf);
        for (unsigned i = 1; i <= GUARD; i++)
                assert_int_equal(b[-(int)i], 0xab);
        for (unsigned i = 0; i < GUARD; i++)
                assert_int_equal(b[len + i], 0xab);
}

static void read_write_flush_round_trip(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&WARD_BLK_PORT_CONFIG_DEFAULT, true);
        /* Read sectors 3..4. */
        uint64_t buf = guarded(x, 1024, 0);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 3, buf, 1024);
        assert_int_equal(x->server_woken, 1);
        assert_int_equal(fg_used_idx(&x->g, 0), 0); /* waits for the server */
        run(x);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(x->client_woken, 1);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        const uint8_t *got = fg_ptr(&x->g, buf);
        for (unsigned i = 0; i < 1024; i++)
                assert_int_equal(got[i], pattern(3 * 512 + i));
        assert_guards(x, buf, 1024);
        uint32_t id, len;
        fg_used_elem(&x->g, 0, 0, &id, &len);
        assert_int_equal(len, 1025);

        /* Write sectors 10..12 from two segments, then flush. */
        uint64_t w1 = fg_alloc(&x->g, 512, 0x5a), w2 = fg_alloc(&x->g, 1024, 0x6b);
        struct seg segs[2] = {{w1, 512}, {w2, 1024}};
        st = post(x, WARD_VIRTIO_BLK_T_OUT, 10, segs, 2);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        for (unsigned i = 0; i < 1536; i++)
                assert_int_equal(x->disk.data[10 * 512 + i], i < 512 ? 0x5a : 0x6b);
        assert_int_equal(x->disk.data[13 * 512], pattern(13 * 512)); /* nothing past it */
        st = post1(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(x->disk.flushes, 1);

        /* Read the written sectors back through the device. */
        uint64_t back = guarded(x, 1536, 0);
        st = post1(x, WARD_VIRTIO_BLK_T_IN, 10, back, 1536);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        assert_memory_equal(fg_ptr(&x->g, back), x->disk.data + 10 * 512, 1536);
        assert_guards(x, back, 1536);
        assert_int_equal(fg_used_idx(&x->g, 0), 4);
        assert_int_equal(x->cl.bad_responses, 0);
        assert_int_equal(x->sv.bad_requests, 0);
        free_ctx(x);
}

/*
 * With 4 buffers of 1 KiB, an 8 KiB read is 8 chunks that go out as buffers
 * come back, and requests posted together complete in order; a flush posted
 * behind writes reaches the server after them.
 */
static void large_requests_split_and_wait(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, true);
        uint64_t rd = guarded(x, 8192, 0);
        uint64_t w = fg_alloc(&x->g, 3072, 0x33);
        uint64_t st_rd = post1(x, WARD_VIRTIO_BLK_T_IN, 0, rd, 8192);
        uint64_t st_w = post1(x, WARD_VIRTIO_BLK_T_OUT, 40, w, 3072);
        uint64_t st_f = post1(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);
        assert_int_equal(x->cl.fifo_count, 3); /* the read has 4 of 8 chunks out */
        assert_true(x->cl.waits > 0);
        run(x);
        assert_int_equal(fg_used_idx(&x->g, 0), 3);
        assert_int_equal(status_of(x, st_rd), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(status_of(x, st_w), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(status_of(x, st_f), WARD_VIRTIO_BLK_S_OK);
        for (unsigned i = 0; i < 8192; i++)
                assert_int_equal(((uint8_t *)fg_ptr(&x->g, rd))[i], pattern(i));
        assert_guards(x, rd, 8192);
        for (unsigned i = 0; i < 3072; i++)
                assert_int_equal(x->disk.data[40 * 512 + i], 0x33);
        /* Completion order is submission order here (in-order server). */
        uint32_t id[3], len;
        for (uint16_t k = 0; k < 3; k++)
                fg_used_elem(&x->g, 0, k, &id[k], &len);
        assert_true(id[0] < id[1] && id[1] < id[2]);
        assert_int_equal(x->disk.reads, 8);
        assert_int_equal(x->disk.writes, 3);
        assert_int_equal(x->disk.flushes, 1);
        /* Every buffer and chunk slot is free again. */
        assert_int_equal(x->cl.nfree_buf, small_cfg.nbufs);
        assert_int_equal(x->cl.nfree_slot, small_cfg.ring_slots);
        free_ctx(x);
}

static void disk_failure_is_an_io_error(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, true);
        x->disk.fail = 1;
        uint64_t buf = guarded(x, 2048, 0x77);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 2048);
        uint64_t st_f = post1(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_equal(status_of(x, st_f), WARD_VIRTIO_BLK_S_IOERR);
        for (unsigned i = 0; i < 2048; i++)
                assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[i], 0x77);
        /* The port itself is fine: the disk recovers, requests succeed. */
        x->disk.fail = 0;
        st = post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 512);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(x->cl.bad_responses, 0);
        free_ctx(x);
}

/* A driver reset while requests are with the server: their completions are dropped. */
static void reset_with_requests_in_flight(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, true);
        uint64_t buf = guarded(x, 4096, 0);
        post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 4096);
        fg_driver_init(&x->g, &x->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        x->next_desc = 0;
        run(x);
        assert_int_equal(fg_used_idx(&x->g, 0), 0);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 1, buf, 512);
        run(x);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        free_ctx(x);
}

/* ---- hostile server: the test answers through raw rings ---- */

static struct ward_blk_port_msg_req take_request(struct ctx *x)
{
        struct ward_blk_port_msg_req m;
        assert_int_equal(ward_ring_pop(&x->raw_req, &m), 1);
        return m;
}

static void respond(struct ctx *x, uint32_t id, uint32_t status, uint32_t len)
{
        struct ward_blk_port_msg_resp r = {.id = id, .status = status, .len = len};
        assert_int_equal(ward_ring_push(&x->raw_resp, &r), 1);
}

static void hostile_server_responses_are_refused(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, false);
        uint64_t buf = guarded(x, 512, 0x11);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 2, buf, 512);
        struct ward_blk_port_msg_req m = take_request(x);
        assert_int_equal(m.op, WARD_BLK_PORT_OP_READ);
        assert_int_equal(m.offset, 2 * 512);
        assert_int_equal(m.len, 512);
        assert_true(m.data_off + m.len <= x->lay.data_bytes);
        uint8_t *data = x->region + x->lay.data + m.data_off;
        memset(data, 0xd0, 1024); /* the server wrote more than asked, into the next buffer */

        /* Unknown slot, slot out of range, wrong sequence number: refused, nothing changes. */
        respond(x, m.id ^ 1u, WARD_BLK_PORT_S_OK, 512);
        respond(x, 0xffffu, WARD_BLK_PORT_S_OK, 512);
        respond(x, m.id + (1u << 16), WARD_BLK_PORT_S_OK, 512);
        assert_int_equal(ward_blk_port_client_poll(&x->cl), 3);
        assert_int_equal(x->cl.bad_responses, 3);
        assert_int_equal(fg_used_idx(&x->g, 0), 0);

        /* Right id, but longer than requested: the request fails, guest memory untouched. */
        respond(x, m.id, WARD_BLK_PORT_S_OK, 1024);
        assert_int_equal(ward_blk_port_client_poll(&x->cl), 1);
        assert_int_equal(x->cl.bad_responses, 4);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        for (unsigned i = 0; i < 512; i++)
                assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[i], 0x11);
        assert_guards(x, buf, 512);

        /* A good answer, then the same answer again (duplicate): refused. */
        st = post1(x, WARD_VIRTIO_BLK_T_IN, 2, buf, 512);
        m = take_request(x);
        data = x->region + x->lay.data + m.data_off;
        memset(data, 0xd1, 512);
        respond(x, m.id, WARD_BLK_PORT_S_OK, 512);
        respond(x, m.id, WARD_BLK_PORT_S_OK, 512);
        assert_int_equal(ward_blk_port_client_poll(&x->cl), 2);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[0], 0xd1);
        assert_int_equal(x->cl.bad_responses, 5);
        assert_int_equal(fg_used_idx(&x->g, 0), 2);

        /*
         * A stale duplicate after the slot was reused for a new request: the
         * sequence number tells them apart, so the new request is not
         * completed by the old answer.
         */
        uint32_t old_id = m.id;
        memset(fg_ptr(&x->g, buf), 0x22, 512);
        st = post1(x, WARD_VIRTIO_BLK_T_IN, 5, buf, 512);
        m = take_request(x);
        assert_int_equal(m.id & 0xffffu, old_id & 0xffffu); /* same slot */
        assert_int_not_equal(m.id, old_id);
        respond(x, old_id, WARD_BLK_PORT_S_OK, 512);
        assert_int_equal(ward_blk_port_client_poll(&x->cl), 1);
        assert_int_equal(x->cl.bad_responses, 6);
        assert_int_equal(fg_used_idx(&x->g, 0), 2);
        assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[0], 0x22);

        /* An unknown status fails the request. */
        respond(x, m.id, 77, 512);
        assert_int_equal(ward_blk_port_client_poll(&x->cl), 1);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_equal(x->cl.bad_responses, 7);
        assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[0], 0x22);
        assert_guards(x, buf, 512);

        /* A flush answered with a length is wrong too. */
        st = post1(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);
        m = take_request(x);
        assert_int_equal(m.op, WARD_BLK_PORT_OP_FLUSH);
        respond(x, m.id, WARD_BLK_PORT_S_OK, 4096);
        ward_blk_port_client_poll(&x->cl);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_false(x->cl.broken);
        free_ctx(x);
}

/* One chunk of a split request fails: the whole request fails, once. */
static void one_failed_chunk_fails_the_request(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, false);
        uint64_t buf = guarded(x, 2048, 0x44);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 2048);
        struct ward_blk_port_msg_req a = take_request(x), b = take_request(x);
        assert_int_equal(a.offset, 0);
        assert_int_equal(b.offset, 1024);
        memset(x->region + x->lay.data + a.data_off, 0x99, 1024);
        respond(x, b.id, WARD_BLK_PORT_S_IOERR, 0);
        ward_blk_port_client_poll(&x->cl);
        assert_int_equal(fg_used_idx(&x->g, 0), 0); /* a is still out */
        respond(x, a.id, WARD_BLK_PORT_S_OK, 1024);
        ward_blk_port_client_poll(&x->cl);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        free_ctx(x);
}

/* The server corrupts the response ring: everything in flight fails, and so does all that follows.
 */
static void broken_response_ring_fails_everything(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, false);
        uint64_t buf = guarded(x, 8192, 0x55);
        uint64_t st1 = post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 8192); /* 4 out, 4 waiting */
        uint64_t st2 = post1(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);   /* waiting */
        uint32_t *prod = (uint32_t *)(void *)(x->region + x->lay.resp_ring + WARD_RING_OFF_PROD);
        *prod += 1000;
        assert_int_equal(ward_blk_port_client_poll(&x->cl), WARD_EBROKEN);
        assert_int_equal(fg_used_idx(&x->g, 0), 2);
        assert_int_equal(status_of(x, st1), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_equal(status_of(x, st2), WARD_VIRTIO_BLK_S_IOERR);
        for (unsigned i = 0; i < 8192; i++)
                assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[i], 0x55);
        uint64_t st3 = post1(x, WARD_VIRTIO_BLK_T_IN, 0, buf, 512);
        assert_int_equal(fg_used_idx(&x->g, 0), 3);
        assert_int_equal(status_of(x, st3), WARD_VIRTIO_BLK_S_IOERR);
        free_ctx(x);
}

/* ---- hostile client: the test sends requests through raw rings ---- */

struct raw_client {
        struct ward_blk_port_layout lay;
        uint8_t *region;
        struct ward_ring req, resp;
        struct ward_blk_port_server sv;
        struct ram_disk disk;
        unsigned client_woken;
};

static void raw_wake(void *opaque)
{
        struct raw_client *c = opaque;
        c->client_woken++;
}

static struct raw_client *new_raw_client(void)
{
        struct raw_client *c = calloc(1, sizeof(*c));
        assert_int_equal(ward_blk_port_layout(&small_cfg, &c->lay), WARD_OK);
        c->region = calloc(1, c->lay.total);
        for (unsigned i = 0; i < DISK_BYTES; i++)
                c->disk.data[i] = pattern(i);
        struct ward_port_notify n = {raw_wake, c};
        assert_int_equal(ward_blk_port_server_init(&c->sv, c->region, c->lay.total, &small_cfg,
                                                   DISK_BYTES, &ram_ops, &c->disk, &n),
                         WARD_OK);
        assert_int_equal(ward_ring_attach(&c->req, c->region + c->lay.req_ring,
                                          c->lay.req_ring_bytes, small_cfg.ring_slots,
                                          sizeof(struct ward_blk_port_msg_req), WARD_RING_PRODUCER),
                         WARD_OK);
        assert_int_equal(ward_ring_attach(&c->resp, c->region + c->lay.resp_ring,
                                          c->lay.resp_ring_bytes, small_cfg.ring_slots,
                                          sizeof(struct ward_blk_port_msg_resp),
                                          WARD_RING_CONSUMER),
                         WARD_OK);
        return c;
}

/* Sends one request and returns the server's response to it. */
static struct ward_blk_port_msg_resp ask(struct raw_client *c, uint32_t op, uint64_t offset,
                                         uint32_t len, uint32_t data_off)
{
        static uint32_t next_id = 100;
        struct ward_blk_port_msg_req m = {
            .id = next_id++, .op = op, .offset = offset, .len = len, .data_off = data_off};
        assert_int_equal(ward_ring_push(&c->req, &m), 1);
        assert_int_equal(ward_blk_port_server_poll(&c->sv), 1);
        struct ward_blk_port_msg_resp r;
        assert_int_equal(ward_ring_pop(&c->resp, &r), 1);
        assert_int_equal(r.id, m.id);
        return r;
}

static void hostile_client_requests_get_errors(void **state)
{
        (void)state;
        struct raw_client *c = new_raw_client();
        uint32_t data = c->lay.data_bytes; /* 4 KiB */
        memset(c->region + c->lay.data, 0xee, data);
        const struct {
                uint32_t op;
                uint64_t offset;
                uint32_t len, data_off;
        } bad[] = {
            {WARD_BLK_PORT_OP_WRITE, DISK_BYTES, 512, 0},        /* at the end of the disk */
            {WARD_BLK_PORT_OP_WRITE, DISK_BYTES - 512, 1024, 0}, /* across the end */
            {WARD_BLK_PORT_OP_READ, UINT64_MAX - 511, 512, 0},   /* offset + len wraps */
            {WARD_BLK_PORT_OP_WRITE, 0, 512, data - 511},        /* past the data region */
            {WARD_BLK_PORT_OP_READ, 0, 512, UINT32_MAX},         /* data_off + len wraps */
            {WARD_BLK_PORT_OP_READ, 0, data + 512, 0},           /* larger than the region */
            {WARD_BLK_PORT_OP_READ, 0, UINT32_MAX - 511, 1024},  /* huge length */
            {WARD_BLK_PORT_OP_READ, 0, 0, 0},                    /* empty */
            {WARD_BLK_PORT_OP_WRITE, 100, 512, 0},               /* misaligned offset */
            {WARD_BLK_PORT_OP_WRITE, 0, 100, 0},                 /* partial sector */
            {0, 0, 512, 0},                                      /* op 0 (zeroed slot) */
            {99, 0, 512, 0},                                     /* unknown op */
        };
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ward_blk_port_msg_resp r =
                    ask(c, bad[i].op, bad[i].offset, bad[i].len, bad[i].data_off);
                assert_int_equal(r.status, WARD_BLK_PORT_S_BADREQ);
                assert_int_equal(r.len, 0);
        }
        assert_int_equal(c->sv.bad_requests, sizeof(bad) / sizeof(bad[0]));
        assert_int_equal(c->disk.reads + c->disk.writes, 0); /* the disk was never touched */
        for (unsigned i = 0; i < DISK_BYTES; i++)
                assert_int_equal(c->disk.data[i], pattern(i));

        /* The same server still serves good requests, at the very edges. */
        struct ward_blk_port_msg_resp r =
            ask(c, WARD_BLK_PORT_OP_WRITE, DISK_BYTES - 512, 512, data - 512);
        assert_int_equal(r.status, WARD_BLK_PORT_S_OK);
        assert_int_equal(r.len, 512);
        assert_int_equal(c->disk.data[DISK_BYTES - 1], 0xee);
        r = ask(c, WARD_BLK_PORT_OP_READ, 0, data, 0);
        assert_int_equal(r.status, WARD_BLK_PORT_S_OK);
        assert_int_equal(c->region[c->lay.data], pattern(0));
        r = ask(c, WARD_BLK_PORT_OP_FLUSH, 12345, 77, UINT32_MAX); /* flush ignores the rest */
        assert_int_equal(r.status, WARD_BLK_PORT_S_OK);
        assert_false(c->sv.broken);
        free(c->region);
        free(c);
}

/* A client that does not read responses stalls only itself. */
static void client_that_never_reads_responses(void **state)
{
        (void)state;
        struct raw_client *c = new_raw_client();
        struct ward_blk_port_msg_req m = {.id = 1, .op = WARD_BLK_PORT_OP_FLUSH};
        for (unsigned i = 0; i < small_cfg.ring_slots; i++)
                assert_int_equal(ward_ring_push(&c->req, &m), 1);
        assert_int_equal(ward_blk_port_server_poll(&c->sv), (int)small_cfg.ring_slots);
        for (unsigned i = 0; i < 3; i++)
                assert_int_equal(ward_ring_push(&c->req, &m), 1);
        /* The response ring is full: requests stay queued, the server is not broken. */
        assert_int_equal(ward_blk_port_server_poll(&c->sv), 0);
        assert_false(c->sv.broken);
        struct ward_blk_port_msg_resp r;
        assert_int_equal(ward_ring_pop(&c->resp, &r), 1);
        assert_int_equal(ward_blk_port_server_poll(&c->sv), 1);
        free(c->region);
        free(c);
}

/* A client that corrupts the request ring's indices breaks only the port. */
static void hostile_client_ring_indices(void **state)
{
        (void)state;
        struct raw_client *c = new_raw_client();
        uint32_t *prod = (uint32_t *)(void *)(c->region + c->lay.req_ring + WARD_RING_OFF_PROD);
        *prod = 0x80000000u;
        assert_int_equal(ward_blk_port_server_poll(&c->sv), WARD_EBROKEN);
        assert_true(c->sv.broken);
        assert_int_equal(ward_blk_port_server_poll(&c->sv), WARD_EBROKEN);
        assert_int_equal(c->disk.reads + c->disk.writes + c->disk.flushes, 0);
        free(c->region);
        free(c);
}

/* ---- the server over a block backend that completes later, by id ---- */

struct deferred {
        struct ram_disk *disk;
        const struct ward_blk_io *pending[8];
        unsigned n;
        bool refuse;
};

static int deferred_submit(void *o, const struct ward_blk_io *io)
{
        struct deferred *d = o;
        if (d->refuse)
                return -1;
        assert_true(d->n < 8);
        assert_true(io->slot < WARD_BLK_QUEUE_SIZE);
        d->pending[d->n++] = io;
        return 0;
}

/* Does the I/O on the RAM disk and completes it. */
static void deferred_finish(struct deferred *d, unsigned k)
{
        const struct ward_blk_io *io = d->pending[k];
        uint64_t off = io->offset;
        for (unsigned i = 0; i < io->niov; i++) {
                if (io->type == WARD_VIRTIO_BLK_T_IN)
                        memcpy(io->iov[i].base, d->disk->data + off, io->iov[i].len);
                else if (io->type == WARD_VIRTIO_BLK_T_OUT)
                        memcpy(d->disk->data + off, io->iov[i].base, io->iov[i].len);
                off += io->iov[i].len;
        }
        d->pending[k] = d->pending[--d->n];
        ward_blk_io_complete(io, 0);
}

static void server_over_a_block_backend(void **state)
{
        (void)state;
        struct ctx *x = new_ctx(&small_cfg, true);
        struct deferred d = {.disk = &x->disk};
        struct ward_blk_backend be = {deferred_submit, &d};
        struct ward_port_notify to_client = {wake_client, x};
        assert_int_equal(ward_blk_port_server_init_backend(&x->sv, x->region, x->lay.total,
                                                           &small_cfg, DISK_BYTES, &be, &to_client),
                         WARD_OK);
        /* 2 KiB: two chunks, both with the backend before either answers. */
        uint64_t buf = guarded(x, 2048, 0);
        uint64_t st = post1(x, WARD_VIRTIO_BLK_T_IN, 2, buf, 2048);
        run(x);
        assert_int_equal(d.n, 2);
        assert_int_equal(status_of(x, st), 0xee);
        /* Answers in any order; the request completes with the last. */
        struct ward_blk_io late = *d.pending[1];
        deferred_finish(&d, 1);
        run(x);
        assert_int_equal(status_of(x, st), 0xee);
        deferred_finish(&d, 0);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_OK);
        for (unsigned i = 0; i < 2048; i++)
                assert_int_equal(((uint8_t *)fg_ptr(&x->g, buf))[i], pattern(2 * 512 + i));
        assert_guards(x, buf, 2048);
        /* A completion that comes again, by an old id, answers nothing. */
        uint64_t served = x->sv.served;
        ward_blk_io_complete(&late, 0);
        assert_int_equal(x->sv.served, served);
        /* A backend that refuses an I/O: the guest sees an I/O error. */
        d.refuse = true;
        uint64_t w = guarded(x, 512, 0x33);
        st = post1(x, WARD_VIRTIO_BLK_T_OUT, 5, w, 512);
        run(x);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        /* A request outside the disk never reaches the backend. */
        d.refuse = false;
        st = post1(x, WARD_VIRTIO_BLK_T_IN, SECTORS, buf, 512);
        run(x);
        assert_int_equal(d.n, 0);
        assert_int_equal(status_of(x, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_equal(x->cl.bad_responses, 0);
        free_ctx(x);
}

static void bad_configurations_are_refused(void **state)
{
        (void)state;
        struct ward_blk_port_layout l;
        const struct ward_blk_port_config bad[] = {
            {0, 4, 1024},   {3, 4, 1024}, {512, 4, 1024}, {8, 0, 1024},
            {8, 257, 1024}, {8, 4, 0},    {8, 4, 1000},   {8, 256, 1u << 24},
        };
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(ward_blk_port_layout(&bad[i], &l), WARD_EINVAL);
        assert_int_equal(ward_blk_port_layout(&small_cfg, &l), WARD_OK);
        assert_int_equal(l.data % WARD_BLK_PORT_ALIGN, 0);
        assert_true(l.resp_ring >= l.req_ring + l.req_ring_bytes);
        assert_true(l.data >= l.resp_ring + l.resp_ring_bytes);
        assert_int_equal(l.total, l.data + 4096);
        /* A region smaller than the layout is refused, and the client stays unusable. */
        uint8_t *mem = calloc(1, l.total);
        struct ward_blk_port_client *cl = calloc(1, sizeof(*cl));
        struct ward_port_notify n = {NULL, NULL};
        assert_int_equal(ward_blk_port_client_init(cl, mem, l.total - 1, &small_cfg, &n),
                         WARD_EINVAL);
        assert_true(cl->broken);
        free(cl);
        free(mem);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(read_write_flush_round_trip),
            cmocka_unit_test(large_requests_split_and_wait),
            cmocka_unit_test(disk_failure_is_an_io_error),
            cmocka_unit_test(reset_with_requests_in_flight),
            cmocka_unit_test(hostile_server_responses_are_refused),
            cmocka_unit_test(one_failed_chunk_fails_the_request),
            cmocka_unit_test(broken_response_ring_fails_everything),
            cmocka_unit_test(hostile_client_requests_get_errors),
            cmocka_unit_test(client_that_never_reads_responses),
            cmocka_unit_test(hostile_client_ring_indices),
            cmocka_unit_test(server_over_a_block_backend),
            cmocka_unit_test(bad_configurations_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
