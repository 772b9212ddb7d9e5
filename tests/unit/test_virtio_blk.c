/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio-blk against an in-memory disk, with synchronous and deferred completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"
#include "ward/virtio/virtio_blk.h"

#define SECTORS 64
#define DISK_BYTES (SECTORS * WARD_BLK_SECTOR)
#define QSIZE 16
#define F_NEXT WARD_VRING_DESC_F_NEXT
#define F_WRITE WARD_VRING_DESC_F_WRITE
#define F_INDIRECT WARD_VRING_DESC_F_INDIRECT
#define DISK_ID "ward-test-disk"

struct fake_disk {
        uint8_t data[DISK_BYTES];
        bool defer;
        int fail; /* status the backend reports */
        unsigned submits, flushes;
        const struct ward_blk_io *last;
        const struct ward_blk_io *pending[QSIZE];
        unsigned npending;
};

/* Does the transfer on the request's iovs, straight from and to guest memory. */
static void disk_transfer(struct fake_disk *d, const struct ward_blk_io *r)
{
        /* The device must only hand over requests it has checked. */
        assert_true(r->offset <= DISK_BYTES && r->len <= DISK_BYTES - r->offset);
        uint64_t pos = r->offset;
        uint32_t total = 0;
        for (unsigned i = 0; i < r->niov; i++) {
                if (r->type == WARD_VIRTIO_BLK_T_IN)
                        memcpy(r->iov[i].base, d->data + pos, r->iov[i].len);
                else
                        memcpy(d->data + pos, r->iov[i].base, r->iov[i].len);
                pos += r->iov[i].len;
                total += r->iov[i].len;
        }
        assert_int_equal(total, r->len);
}

static int disk_submit(void *opaque, const struct ward_blk_io *r)
{
        struct fake_disk *d = opaque;
        d->submits++;
        d->last = r;
        if (r->type == WARD_VIRTIO_BLK_T_FLUSH)
                d->flushes++;
        else
                disk_transfer(d, r);
        if (d->defer) {
                assert_true(d->npending < QSIZE);
                d->pending[d->npending++] = r;
                return 0;
        }
        ward_blk_io_complete(r, d->fail);
        return 0;
}

/* Completes the oldest deferred request. */
static void disk_complete_one(struct fake_disk *d, int status)
{
        assert_true(d->npending > 0);
        const struct ward_blk_io *r = d->pending[0];
        memmove(d->pending, d->pending + 1, (d->npending - 1) * sizeof(d->pending[0]));
        d->npending--;
        ward_blk_io_complete(r, status);
}

struct ctx {
        struct fake_guest g;
        struct fake_disk disk;
        struct ward_vblk b;
        uint16_t next_desc;
};

static struct ctx *new_ctx(bool read_only)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        for (unsigned i = 0; i < DISK_BYTES; i++)
                x->disk.data[i] = (uint8_t)(i * 7 + i / 512);
        struct ward_blk_backend be = {.submit = disk_submit, .opaque = &x->disk};
        ward_vblk_setup(&x->b, &be, DISK_BYTES + 100, read_only, DISK_ID);
        ward_virtio_init(&x->b.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        assert_true(ward_virtio_is_live(&x->b.v));
        return x;
}

static int setup(void **state)
{
        *state = new_ctx(false);
        return 0;
}

static int setup_ro(void **state)
{
        *state = new_ctx(true);
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

/* A request as the driver lays it out: header, data, status byte. */
struct req {
        uint16_t head;
        uint64_t hdr, data, status;
};

static uint64_t make_hdr(struct ctx *x, uint32_t type, uint64_t sector, uint32_t len)
{
        uint64_t h = fg_alloc(&x->g, len, 0);
        uint8_t *p = fg_ptr(&x->g, h);
        if (len >= 4)
                ward_put_le32(p, type);
        if (len >= 16)
                ward_put_le64(p + 8, sector);
        return h;
}

static uint16_t take_desc(struct ctx *x)
{
        return x->next_desc++ % QSIZE;
}

/*
 * Builds header + one data descriptor + status byte and publishes it. The data
 * descriptor is device-writable when data_writable is true.
 */
static struct req post(struct ctx *x, uint32_t type, uint64_t sector, uint32_t data_len,
                       bool data_writable, uint8_t fill)
{
        struct req r;
        r.hdr = make_hdr(x, type, sector, 16);
        r.data = data_len ? fg_alloc(&x->g, data_len, fill) : 0;
        r.status = fg_alloc(&x->g, 1, 0xee);
        uint16_t d0 = take_desc(x), d1 = take_desc(x), d2 = take_desc(x);
        r.head = d0;
        if (data_len) {
                fg_desc(&x->g, 0, d0, r.hdr, 16, F_NEXT, d1);
                fg_desc(&x->g, 0, d1, r.data, data_len,
                        (uint16_t)(F_NEXT | (data_writable ? F_WRITE : 0)), d2);
        } else {
                fg_desc(&x->g, 0, d0, r.hdr, 16, F_NEXT, d2);
        }
        fg_desc(&x->g, 0, d2, r.status, 1, F_WRITE, 0);
        fg_avail(&x->g, 0, d0);
        return r;
}

static void kick(struct ctx *x)
{
        fg_mmio_write(&x->b.v, 0x050, 0);
}

static uint8_t status_of(struct ctx *x, const struct req *r)
{
        return *(uint8_t *)fg_ptr(&x->g, r->status);
}

/* Checks used element k: the chain's head and the bytes written. */
static void expect_used(struct ctx *x, uint16_t k, uint16_t head, uint32_t len)
{
        uint32_t id, l;
        assert_true(fg_used_idx(&x->g, 0) > k);
        fg_used_elem(&x->g, 0, k, &id, &l);
        assert_int_equal(id, head);
        assert_int_equal(l, len);
}

static void capacity_and_config(void **state)
{
        struct ctx *x = *state;
        /* 64 whole sectors; the 100 extra bytes are dropped. */
        assert_int_equal(fg_mmio_read(&x->b.v, 0x100), SECTORS);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x104), 0);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x10c), WARD_BLK_SEG_MAX); /* seg_max */
        assert_int_equal(fg_mmio_read(&x->b.v, 0x114), 512);              /* blk_size */
        assert_int_equal(fg_mmio_read(&x->b.v, 0x008), WARD_VIRTIO_ID_BLOCK);
        fg_mmio_write(&x->b.v, 0x014, 0);
        uint32_t f = fg_mmio_read(&x->b.v, 0x010);
        assert_int_equal(f & (1u << WARD_VIRTIO_BLK_F_FLUSH), 1u << WARD_VIRTIO_BLK_F_FLUSH);
        assert_int_equal(f & (1u << WARD_VIRTIO_BLK_F_RO), 0);
}

static void write_then_read_round_trip(void **state)
{
        struct ctx *x = *state;
        struct req w = post(x, WARD_VIRTIO_BLK_T_OUT, 3, 1024, false, 0x5a);
        uint8_t *wdata = fg_ptr(&x->g, w.data);
        for (int i = 0; i < 1024; i++)
                wdata[i] = (uint8_t)(i ^ 0x33);
        kick(x);
        assert_int_equal(x->disk.submits, 1);
        assert_int_equal(status_of(x, &w), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 0, w.head, 1);
        assert_memory_equal(x->disk.data + 3 * 512, wdata, 1024);
        /* Sectors around it are untouched. */
        assert_int_equal(x->disk.data[3 * 512 - 1], (uint8_t)((3 * 512 - 1) * 7 + 2));
        assert_int_equal(x->disk.data[5 * 512], (uint8_t)(5 * 512 * 7 + 5));

        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 3, 1024, true, 0);
        kick(x);
        assert_int_equal(x->disk.submits, 2);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 1, r.head, 1024 + 1);
        assert_memory_equal(fg_ptr(&x->g, r.data), wdata, 1024);
        assert_int_equal(x->g.irq_count, 2);
        assert_int_equal(x->b.bad_requests, 0);
}

static void read_last_sector(void **state)
{
        struct ctx *x = *state;
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, SECTORS - 1, 512, true, 0);
        kick(x);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 0, r.head, 513);
        assert_memory_equal(fg_ptr(&x->g, r.data), x->disk.data + (SECTORS - 1) * 512, 512);
}

static void read_scattered_over_segments(void **state)
{
        struct ctx *x = *state;
        /* Header, three data pieces (100 + 400 + 524 bytes) and a status byte. */
        uint64_t h = make_hdr(x, WARD_VIRTIO_BLK_T_IN, 10, 16);
        uint64_t a = fg_alloc(&x->g, 100, 0), b = fg_alloc(&x->g, 400, 0);
        uint64_t c = fg_alloc(&x->g, 525, 0xee); /* the last byte is the status */
        fg_desc(&x->g, 0, 0, h, 16, F_NEXT, 1);
        fg_desc(&x->g, 0, 1, a, 100, F_WRITE | F_NEXT, 2);
        fg_desc(&x->g, 0, 2, b, 400, F_WRITE | F_NEXT, 3);
        fg_desc(&x->g, 0, 3, c, 525, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        kick(x);
        assert_int_equal(x->disk.last->niov, 3);
        expect_used(x, 0, 0, 1024 + 1);
        const uint8_t *disk = x->disk.data + 10 * 512;
        assert_memory_equal(fg_ptr(&x->g, a), disk, 100);
        assert_memory_equal(fg_ptr(&x->g, b), disk + 100, 400);
        assert_memory_equal(fg_ptr(&x->g, c), disk + 500, 524);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, c + 524), WARD_VIRTIO_BLK_S_OK);
}

static void backend_error_is_ioerr(void **state)
{
        struct ctx *x = *state;
        x->disk.fail = -5;
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 0, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.submits, 1);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 0, r.head, 1); /* no data reported on failure */
}

static void flush_reaches_backend(void **state)
{
        struct ctx *x = *state;
        struct req r = post(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, false, 0);
        kick(x);
        assert_int_equal(x->disk.flushes, 1);
        assert_int_equal(x->disk.submits, 1);
        assert_int_equal(x->disk.last->niov, 0);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 0, r.head, 1);
}

static void get_id_returns_the_id(void **state)
{
        struct ctx *x = *state;
        struct req r = post(x, WARD_VIRTIO_BLK_T_GET_ID, 0, WARD_BLK_ID_BYTES, true, 0xaa);
        kick(x);
        assert_int_equal(x->disk.submits, 0);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 0, r.head, WARD_BLK_ID_BYTES + 1);
        char want[WARD_BLK_ID_BYTES] = DISK_ID; /* zero padded */
        assert_memory_equal(fg_ptr(&x->g, r.data), want, WARD_BLK_ID_BYTES);
}

static void get_id_into_a_short_buffer(void **state)
{
        struct ctx *x = *state;
        struct req r = post(x, WARD_VIRTIO_BLK_T_GET_ID, 0, 4, true, 0xaa);
        kick(x);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 0, r.head, 5);
        assert_memory_equal(fg_ptr(&x->g, r.data), "ward", 4);
}

static void unknown_type_is_unsupported(void **state)
{
        struct ctx *x = *state;
        const uint32_t types[] = {2, 3, 5, 11, 99, 0xffffffffu};
        for (uint16_t i = 0; i < WARD_ARRAY_SIZE(types); i++) {
                struct req r = post(x, types[i], 0, 512, true, 0);
                kick(x);
                assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_UNSUPP);
                expect_used(x, i, r.head, 1);
        }
        assert_int_equal(x->disk.submits, 0);
}

static void read_only_disk_refuses_writes(void **state)
{
        struct ctx *x = *state;
        fg_mmio_write(&x->b.v, 0x014, 0);
        uint32_t f = fg_mmio_read(&x->b.v, 0x010);
        assert_int_equal(f & (1u << WARD_VIRTIO_BLK_F_RO), 1u << WARD_VIRTIO_BLK_F_RO);
        uint8_t before[512];
        memcpy(before, x->disk.data, 512);
        struct req w = post(x, WARD_VIRTIO_BLK_T_OUT, 0, 512, false, 0x77);
        kick(x);
        assert_int_equal(x->disk.submits, 0);
        assert_int_equal(status_of(x, &w), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 0, w.head, 1);
        assert_memory_equal(x->disk.data, before, 512);
        /* Reads still work. */
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 0, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.submits, 1);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        assert_memory_equal(fg_ptr(&x->g, r.data), before, 512);
}

static void out_of_range_sectors_are_refused(void **state)
{
        struct ctx *x = *state;
        struct {
                uint32_t type;
                uint64_t sector;
                uint32_t len;
        } bad[] = {
            {WARD_VIRTIO_BLK_T_IN, SECTORS, 512},
            {WARD_VIRTIO_BLK_T_IN, SECTORS - 1, 1024},
            {WARD_VIRTIO_BLK_T_OUT, SECTORS - 1, 1024},
            {WARD_VIRTIO_BLK_T_OUT, SECTORS + 1, 0},
            {WARD_VIRTIO_BLK_T_IN, UINT64_MAX, 512},
            {WARD_VIRTIO_BLK_T_IN, UINT64_MAX - 1, 1024},
            {WARD_VIRTIO_BLK_T_IN, 1ull << 55, 512}, /* sector * 512 wraps to 0 */
            {WARD_VIRTIO_BLK_T_OUT, (1ull << 55) + 1, 512},
        };
        uint8_t before[DISK_BYTES];
        memcpy(before, x->disk.data, DISK_BYTES);
        for (uint16_t i = 0; i < WARD_ARRAY_SIZE(bad); i++) {
                bool wr = bad[i].type == WARD_VIRTIO_BLK_T_IN;
                struct req r = post(x, bad[i].type, bad[i].sector, bad[i].len, wr, 0x11);
                kick(x);
                assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_IOERR);
                expect_used(x, i, r.head, 1);
        }
        assert_int_equal(x->disk.submits, 0);
        assert_int_equal(x->b.bad_requests, WARD_ARRAY_SIZE(bad));
        assert_memory_equal(x->disk.data, before, DISK_BYTES);
}

static void length_not_whole_sectors_is_refused(void **state)
{
        struct ctx *x = *state;
        const uint32_t lens[] = {1, 100, 511, 513, 1000};
        for (uint16_t i = 0; i < WARD_ARRAY_SIZE(lens); i++) {
                struct req r = post(x, i % 2 ? WARD_VIRTIO_BLK_T_OUT : WARD_VIRTIO_BLK_T_IN, 0,
                                    lens[i], i % 2 == 0, 0);
                kick(x);
                assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_IOERR);
                expect_used(x, i, r.head, 1);
        }
        assert_int_equal(x->disk.submits, 0);
}

static void short_header_or_no_status_fails_quietly(void **state)
{
        struct ctx *x = *state;
        /* An 8-byte header. */
        uint64_t h = make_hdr(x, WARD_VIRTIO_BLK_T_IN, 0, 8);
        uint64_t d = fg_alloc(&x->g, 513, 0xee);
        fg_desc(&x->g, 0, 0, h, 8, F_NEXT, 1);
        fg_desc(&x->g, 0, 1, d, 513, F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        /* A header with no writable byte for the status. */
        uint64_t h2 = make_hdr(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 16);
        fg_desc(&x->g, 0, 2, h2, 16, 0, 0);
        fg_avail(&x->g, 0, 2);
        /* A lone writable descriptor: no header at all. */
        fg_desc(&x->g, 0, 3, d, 513, F_WRITE, 0);
        fg_avail(&x->g, 0, 3);
        kick(x);
        expect_used(x, 0, 0, 0);
        expect_used(x, 1, 2, 0);
        expect_used(x, 2, 3, 0);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, d + 512), 0xee); /* untouched */
        assert_int_equal(x->disk.submits, 0);
        assert_int_equal(x->b.bad_requests, 3);
        x->next_desc = 4;
        /* The next request works. */
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 1, 512, true, 0);
        kick(x);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 3, r.head, 513);
}

static void malformed_chain_fails_quietly(void **state)
{
        struct ctx *x = *state;
        uint64_t h = make_hdr(x, WARD_VIRTIO_BLK_T_IN, 0, 16);
        fg_desc(&x->g, 0, 0, h, 16, F_NEXT, QSIZE); /* next out of range */
        fg_avail(&x->g, 0, 0);
        kick(x);
        expect_used(x, 0, 0, 0);
        assert_int_equal(x->b.bad_requests, 1);
        x->next_desc = 1;
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 1, 512, true, 0);
        kick(x);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_OK);
        expect_used(x, 1, r.head, 513);
}

static void data_in_the_wrong_direction_is_refused(void **state)
{
        struct ctx *x = *state;
        uint8_t before[1024];
        memcpy(before, x->disk.data, sizeof(before));
        /* A write whose data the device would have to read from a writable buffer. */
        struct req w = post(x, WARD_VIRTIO_BLK_T_OUT, 0, 512, true, 0x42);
        kick(x);
        assert_int_equal(status_of(x, &w), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 0, w.head, 1);
        /* A read whose data the device would have to write into a readable buffer. */
        struct req r = post(x, WARD_VIRTIO_BLK_T_IN, 1, 512, false, 0x42);
        kick(x);
        assert_int_equal(status_of(x, &r), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 1, r.head, 1);
        uint8_t fill[512];
        memset(fill, 0x42, sizeof(fill));
        assert_memory_equal(fg_ptr(&x->g, r.data), fill, 512);
        assert_int_equal(x->disk.submits, 0);
        assert_memory_equal(x->disk.data, before, sizeof(before));
}

/*
 * An indirect request: header, `nseg` data segments whose lengths sum to
 * 512, then the status byte. Returns the status byte's address.
 */
static uint64_t post_segments(struct ctx *x, uint32_t type, unsigned nseg, uint64_t *data)
{
        uint16_t n = (uint16_t)(nseg + 2);
        uint64_t table = fg_alloc(&x->g, 16u * n, 0);
        uint64_t h = make_hdr(x, type, 2, 16);
        *data = fg_alloc(&x->g, 512, 0x3c);
        uint64_t st = fg_alloc(&x->g, 1, 0xee);
        uint16_t dflags = type == WARD_VIRTIO_BLK_T_IN ? F_WRITE : 0;
        fg_desc_at(&x->g, table, 0, h, 16, F_NEXT, 1);
        uint32_t off = 0;
        for (unsigned i = 0; i < nseg; i++) {
                /* 512 bytes shared out as evenly as the count allows. */
                uint32_t len = 512 / nseg + (i < 512 % nseg ? 1 : 0);
                fg_desc_at(&x->g, table, (uint16_t)(1 + i), *data + off, len,
                           (uint16_t)(dflags | F_NEXT), (uint16_t)(2 + i));
                off += len;
        }
        assert_int_equal(off, 512);
        fg_desc_at(&x->g, table, (uint16_t)(n - 1), st, 1, F_WRITE, 0);
        uint16_t head = take_desc(x);
        fg_desc(&x->g, 0, head, table, 16u * n, F_INDIRECT, 0);
        fg_avail(&x->g, 0, head);
        return st;
}

static void segment_limit(void **state)
{
        struct ctx *x = *state;
        uint64_t data;
        /* Exactly WARD_BLK_SEG_MAX segments is fine. */
        uint64_t st = post_segments(x, WARD_VIRTIO_BLK_T_IN, WARD_BLK_SEG_MAX, &data);
        kick(x);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(x->disk.submits, 1);
        assert_int_equal(x->disk.last->niov, WARD_BLK_SEG_MAX);
        assert_memory_equal(fg_ptr(&x->g, data), x->disk.data + 2 * 512, 512);
        expect_used(x, 0, 0, 513);
        /* One more is refused, for reads and writes. */
        st = post_segments(x, WARD_VIRTIO_BLK_T_IN, WARD_BLK_SEG_MAX + 1, &data);
        kick(x);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 1, 1, 1);
        st = post_segments(x, WARD_VIRTIO_BLK_T_OUT, WARD_BLK_SEG_MAX + 1, &data);
        kick(x);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 2, 2, 1);
        st = post_segments(x, WARD_VIRTIO_BLK_T_OUT, 200, &data);
        kick(x);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_equal(x->disk.submits, 1);
}

static void async_completion_after_return(void **state)
{
        struct ctx *x = *state;
        x->disk.defer = true;
        struct req a = post(x, WARD_VIRTIO_BLK_T_IN, 4, 512, true, 0);
        struct req b = post(x, WARD_VIRTIO_BLK_T_OUT, 5, 512, false, 0x99);
        kick(x);
        assert_int_equal(x->disk.npending, 2);
        /* Nothing is complete yet: no used entries, no interrupt. */
        assert_int_equal(fg_used_idx(&x->g, 0), 0);
        assert_int_equal(status_of(x, &a), 0xee);
        assert_int_equal(x->g.irq_count, 0);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x060), 0);
        /* Out-of-order completion. */
        const struct ward_blk_io *rb = x->disk.pending[1];
        x->disk.npending = 1;
        ward_blk_io_complete(rb, 0);
        expect_used(x, 0, b.head, 1);
        assert_int_equal(status_of(x, &b), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(x->g.irq_count, 1);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x060), WARD_VIRTIO_INT_USED);
        fg_mmio_write(&x->b.v, 0x064, WARD_VIRTIO_INT_USED);
        struct ward_blk_io old_a = *x->disk.pending[0]; /* a's id, for later */
        disk_complete_one(&x->disk, 0);
        expect_used(x, 1, a.head, 513);
        assert_int_equal(status_of(x, &a), WARD_VIRTIO_BLK_S_OK);
        assert_memory_equal(fg_ptr(&x->g, a.data), x->disk.data + 4 * 512, 512);
        assert_int_equal(x->g.irq_count, 2);
        /* A second completion of the same request is ignored. */
        ward_blk_io_complete(rb, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 2);
        /* A new request takes a's slot; a's late completion (its id) must not end it. */
        struct req c = post(x, WARD_VIRTIO_BLK_T_IN, 6, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.npending, 1);
        assert_int_equal(x->disk.pending[0]->slot, old_a.slot);
        assert_int_not_equal(x->disk.pending[0]->id, old_a.id);
        ward_blk_io_complete(&old_a, -1);
        assert_int_equal(fg_used_idx(&x->g, 0), 2);
        disk_complete_one(&x->disk, 0);
        expect_used(x, 2, c.head, 513);
        assert_int_equal(status_of(x, &c), WARD_VIRTIO_BLK_S_OK);
}

static void async_failure_is_ioerr(void **state)
{
        struct ctx *x = *state;
        x->disk.defer = true;
        struct req a = post(x, WARD_VIRTIO_BLK_T_IN, 4, 512, true, 0);
        kick(x);
        disk_complete_one(&x->disk, -1);
        assert_int_equal(status_of(x, &a), WARD_VIRTIO_BLK_S_IOERR);
        expect_used(x, 0, a.head, 1);
}

static void reset_with_request_in_flight(void **state)
{
        struct ctx *x = *state;
        x->disk.defer = true;
        struct req a = post(x, WARD_VIRTIO_BLK_T_IN, 4, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.npending, 1);
        /* The driver resets the device and sets it up on fresh rings. */
        fg_mmio_write(&x->b.v, 0x070, 0);
        memset(fg_ptr(&x->g, FG_RING_BASE(0)), 0, 0x10000);
        fg_driver_init(&x->g, &x->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        unsigned irqs = x->g.irq_count;
        /* The old request completes now: nothing of it reaches the new rings. */
        disk_complete_one(&x->disk, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 0);
        assert_int_equal(status_of(x, &a), 0xee);
        assert_int_equal(x->g.irq_count, irqs);
        /* The new driver's requests are served. */
        x->next_desc = 0;
        struct req b = post(x, WARD_VIRTIO_BLK_T_IN, 6, 512, true, 0);
        kick(x);
        disk_complete_one(&x->disk, 0);
        expect_used(x, 0, b.head, 513);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(status_of(x, &b), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(x->g.irq_count, irqs + 1);
}

/*
 * A queue reset (QueueReady 0) retires what is in flight on that queue, as a
 * device reset does: after the driver sets the queue up again, smaller, the
 * old requests' completions write no status and push no used entry (their
 * heads would be out of range for the new ring).
 */
static void queue_reset_with_request_in_flight(void **state)
{
        struct ctx *x = *state;
        x->disk.defer = true;
        post(x, WARD_VIRTIO_BLK_T_IN, 1, 512, true, 0);
        post(x, WARD_VIRTIO_BLK_T_IN, 2, 512, true, 0);
        struct req a = post(x, WARD_VIRTIO_BLK_T_IN, 4, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.npending, 3);
        assert_int_equal(a.head, 6);
        fg_mmio_write(&x->b.v, 0x030, 0);
        fg_mmio_write(&x->b.v, 0x044, 0);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x044), 0);
        memset(fg_ptr(&x->g, FG_RING_BASE(0)), 0, 0x10000);
        fg_mmio_write(&x->b.v, 0x038, 4);
        fg_mmio_write(&x->b.v, 0x044, 1);
        x->g.num[0] = 4;
        x->g.avail_idx[0] = 0;
        x->next_desc = 0;
        unsigned irqs = x->g.irq_count;
        while (x->disk.npending)
                disk_complete_one(&x->disk, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 0);
        assert_int_equal(status_of(x, &a), 0xee);
        assert_int_equal(x->g.irq_count, irqs);
        assert_true(ward_virtio_is_live(&x->b.v));
        /* The new queue serves the driver's next request. */
        struct req b = post(x, WARD_VIRTIO_BLK_T_IN, 6, 512, true, 0);
        kick(x);
        disk_complete_one(&x->disk, 0);
        expect_used(x, 0, b.head, 513);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(status_of(x, &b), WARD_VIRTIO_BLK_S_OK);
}

static void broken_ring_then_late_completion(void **state)
{
        struct ctx *x = *state;
        x->disk.defer = true;
        struct req a = post(x, WARD_VIRTIO_BLK_T_IN, 4, 512, true, 0);
        kick(x);
        assert_int_equal(x->disk.npending, 1);
        /* The driver claims more buffers than the ring holds. */
        fg_set_avail_idx(&x->g, 0, (uint16_t)(x->g.avail_idx[0] + QSIZE + 1));
        kick(x);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x070) & WARD_VIRTIO_S_NEEDS_RESET,
                         WARD_VIRTIO_S_NEEDS_RESET);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x060), WARD_VIRTIO_INT_CONFIG);
        fg_mmio_write(&x->b.v, 0x064, WARD_VIRTIO_INT_CONFIG);
        unsigned irqs = x->g.irq_count;
        /* The request taken before the ring broke still completes and is signalled. */
        disk_complete_one(&x->disk, 0);
        expect_used(x, 0, a.head, 513);
        assert_int_equal(status_of(x, &a), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(fg_mmio_read(&x->b.v, 0x060), WARD_VIRTIO_INT_USED);
        assert_int_equal(x->g.irq_count, irqs + 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(capacity_and_config),
            T(write_then_read_round_trip),
            T(read_last_sector),
            T(read_scattered_over_segments),
            T(backend_error_is_ioerr),
            T(flush_reaches_backend),
            T(get_id_returns_the_id),
            T(get_id_into_a_short_buffer),
            T(unknown_type_is_unsupported),
            cmocka_unit_test_setup_teardown(read_only_disk_refuses_writes, setup_ro, teardown),
            T(out_of_range_sectors_are_refused),
            T(length_not_whole_sectors_is_refused),
            T(short_header_or_no_status_fails_quietly),
            T(malformed_chain_fails_quietly),
            T(data_in_the_wrong_direction_is_refused),
            T(segment_limit),
            T(async_completion_after_return),
            T(async_failure_is_ioerr),
            T(reset_with_request_in_flight),
            T(queue_reset_with_request_in_flight),
            T(broken_ring_then_late_completion),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
