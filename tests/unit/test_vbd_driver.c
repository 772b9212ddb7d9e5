/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio-blk driver (src/driver/virtio_blk_driver.c) against ward's own
 * virtio-blk device model, through its MMIO registers, with the DMA region
 * in a fake guest's RAM: set-up, reads and writes that reach the disk, a
 * flush, refusals, a failing disk, and a device that answers what it was
 * never asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_guest.h"
#include "ward/driver/virtio_blk_driver.h"
#include "ward/virtio/virtio_blk.h"
#include "ward/virtio/virtio_console.h"

#define SECTORS 2048 /* a 1 MiB disk */
#define DISK_BYTES (SECTORS * 512u)
#define DMA_GPA FG_RAM_BASE

_Static_assert(WARD_VBD_DMA_BYTES <= FG_RAM_SIZE, "the DMA region must fit the fake RAM");

struct ctx {
        struct fake_guest g;
        struct ward_vblk dev;
        struct ward_vbd drv;
        uint8_t *disk;
        int fail; /* what the disk answers */
        unsigned done_count;
        int last_status;
        void *last_cookie;
};

static int disk_submit(void *opaque, const struct ward_blk_io *r)
{
        struct ctx *x = opaque;
        uint64_t pos = r->offset;
        for (unsigned i = 0; i < r->niov; i++) {
                if (r->type == WARD_VIRTIO_BLK_T_IN)
                        memcpy(r->iov[i].base, x->disk + pos, r->iov[i].len);
                else if (r->type == WARD_VIRTIO_BLK_T_OUT)
                        memcpy(x->disk + pos, r->iov[i].base, r->iov[i].len);
                pos += r->iov[i].len;
        }
        ward_blk_io_complete(r, x->fail);
        return 0;
}

static uint32_t dev_read32(void *c, uint32_t off)
{
        return fg_mmio_read(c, off);
}

static void dev_write32(void *c, uint32_t off, uint32_t v)
{
        fg_mmio_write(c, off, v);
}

static const struct ward_vbd_ops ops = {dev_read32, dev_write32};

static struct ctx *setup(bool read_only)
{
        struct ctx *x = calloc(1, sizeof(*x));
        x->disk = calloc(1, DISK_BYTES);
        fg_init(&x->g);
        struct ward_blk_backend be = {disk_submit, x};
        ward_vblk_setup(&x->dev, &be, DISK_BYTES, read_only, "vbd-test");
        ward_virtio_init(&x->dev.v, &x->g.gm, fg_irq, &x->g);
        char err[128] = "";
        assert_int_equal(ward_vbd_init(&x->drv, &ops, &x->dev.v, fg_ptr(&x->g, DMA_GPA), DMA_GPA,
                                       err, sizeof(err)),
                         0);
        assert_string_equal(err, "");
        return x;
}

static void teardown(struct ctx *x)
{
        fg_free(&x->g);
        free(x->disk);
        free(x);
}

static void on_done(void *cookie, int status)
{
        struct ctx *x = *(struct ctx **)cookie;
        x->done_count++;
        x->last_status = status;
        x->last_cookie = cookie;
}

static void finds_and_starts_the_device(void **state)
{
        (void)state;
        struct ctx *x = setup(false);
        assert_true(ward_vbd_probe(&ops, &x->dev.v));
        assert_int_equal(x->drv.capacity, SECTORS);
        assert_true(x->drv.flush);
        assert_false(x->drv.read_only);
        /* The device runs: DRIVER_OK, queue 0 ready. */
        assert_int_equal(fg_mmio_read(&x->dev.v, 0x070), 1 | 2 | 4 | 8);
        assert_int_equal(fg_mmio_read(&x->dev.v, 0x044), 1);
        teardown(x);
}

static void writes_and_reads_reach_the_disk(void **state)
{
        (void)state;
        struct ctx *x = setup(false);
        struct ctx *cookie = x;
        int slot = ward_vbd_free_slot(&x->drv);
        assert_true(slot >= 0);
        uint8_t *buf = ward_vbd_buffer(&x->drv, (unsigned)slot);
        for (unsigned i = 0; i < 8192; i++)
                buf[i] = (uint8_t)(i * 7 + 1);
        assert_int_equal(
            ward_vbd_submit(&x->drv, (unsigned)slot, WARD_VIRTIO_BLK_T_OUT, 100, 8192, &cookie), 0);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 1);
        assert_int_equal(x->last_status, 0);
        assert_memory_equal(x->disk + 100 * 512, buf, 8192);
        /* Read it back through another slot: the same bytes. */
        memset(x->disk + 100 * 512 + 4096, 0x5a, 512);
        int s2 = ward_vbd_free_slot(&x->drv);
        uint8_t *b2 = ward_vbd_buffer(&x->drv, (unsigned)s2);
        memset(b2, 0, 8192);
        assert_int_equal(
            ward_vbd_submit(&x->drv, (unsigned)s2, WARD_VIRTIO_BLK_T_IN, 100, 8192, &cookie), 0);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 1);
        assert_memory_equal(b2, x->disk + 100 * 512, 8192);
        assert_int_equal(b2[4096], 0x5a);
        /* A flush, and the last sector of the disk. */
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, &cookie), 0);
        assert_int_equal(
            ward_vbd_submit(&x->drv, 1, WARD_VIRTIO_BLK_T_IN, SECTORS - 1, 512, &cookie), 0);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 2);
        assert_int_equal(x->done_count, 4);
        assert_int_equal(x->drv.bad_answers, 0);
        teardown(x);
}

static void many_requests_in_flight(void **state)
{
        (void)state;
        struct ctx *x = setup(false);
        struct ctx *cookie = x;
        /* Several rounds over every slot: the rings wrap. */
        for (unsigned round = 0; round < 20; round++) {
                for (unsigned k = 0; k < WARD_VBD_REQS; k++) {
                        memset(ward_vbd_buffer(&x->drv, k), (int)(round + k), 512);
                        assert_int_equal(ward_vbd_submit(&x->drv, k, WARD_VIRTIO_BLK_T_OUT,
                                                         round * WARD_VBD_REQS + k, 512, &cookie),
                                         0);
                }
                assert_int_equal(ward_vbd_free_slot(&x->drv), -1);
                assert_int_equal(ward_vbd_poll(&x->drv, on_done), WARD_VBD_REQS);
        }
        for (unsigned s = 0; s < 20 * WARD_VBD_REQS; s++)
                assert_int_equal(x->disk[s * 512],
                                 (uint8_t)(s / WARD_VBD_REQS + s % WARD_VBD_REQS));
        teardown(x);
}

static void refuses_what_the_device_cannot_take(void **state)
{
        (void)state;
        struct ctx *x = setup(true);
        struct ctx *cookie = x;
        assert_true(x->drv.read_only);
        /* Writes to a read-only disk, past the end, odd lengths, bad slots and types. */
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_OUT, 0, 512, &cookie), -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, SECTORS, 512, &cookie),
                         -1);
        assert_int_equal(
            ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, SECTORS - 1, 1024, &cookie), -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, ~0ull, 512, &cookie),
                         -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0, 100, &cookie), -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0,
                                         WARD_VBD_DATA_BYTES + 512, &cookie),
                         -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0, 0, &cookie), -1);
        assert_int_equal(
            ward_vbd_submit(&x->drv, WARD_VBD_REQS, WARD_VIRTIO_BLK_T_IN, 0, 512, &cookie), -1);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, 8, 0, 512, &cookie), -1);
        /* A busy slot is not taken twice. */
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0, 512, &cookie), 0);
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0, 512, &cookie), -1);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 1);
        teardown(x);
}

static void a_failing_disk_is_an_error(void **state)
{
        (void)state;
        struct ctx *x = setup(false);
        struct ctx *cookie = x;
        x->fail = -5;
        assert_int_equal(ward_vbd_submit(&x->drv, 2, WARD_VIRTIO_BLK_T_IN, 0, 512, &cookie), 0);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 1);
        assert_int_equal(x->last_status, -1);
        teardown(x);
}

/* A device that puts ids in the used ring that are no request in flight. */
static void answers_never_asked_are_dropped(void **state)
{
        (void)state;
        struct ctx *x = setup(false);
        struct ctx *cookie = x;
        assert_int_equal(ward_vbd_submit(&x->drv, 0, WARD_VIRTIO_BLK_T_IN, 0, 512, &cookie), 0);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 1);
        /* Forge three more used entries: slot 0 again, a middle descriptor, one out of range. */
        uint8_t *used = fg_ptr(&x->g, DMA_GPA + 0x500); /* the driver's used ring */
        uint16_t idx;
        memcpy(&idx, used + 2, 2);
        const uint32_t forged[3] = {0, 4, 3 * WARD_VBD_REQS + 3};
        for (unsigned i = 0; i < 3; i++) {
                memcpy(used + 4 + 8 * ((idx + i) % WARD_VBD_QSIZE), &forged[i], 4);
        }
        idx = (uint16_t)(idx + 3);
        memcpy(used + 2, &idx, 2);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 0);
        assert_int_equal(x->drv.bad_answers, 3);
        /* A used index far ahead of what is in flight is not believed. */
        idx = (uint16_t)(idx + 1000);
        memcpy(used + 2, &idx, 2);
        assert_int_equal(ward_vbd_poll(&x->drv, on_done), 0);
        assert_int_equal(x->done_count, 1);
        teardown(x);
}

static void drop_output(void *opaque, const void *buf, uint32_t len)
{
        (void)opaque, (void)buf, (void)len;
}

static void no_device_no_driver(void **state)
{
        (void)state;
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        /* A transport whose device is a console: not ours. */
        struct ward_vconsole con;
        memset(&con, 0, sizeof(con));
        struct ward_console_backend be = {drop_output, NULL};
        ward_vconsole_setup(&con, &be);
        ward_virtio_init(&con.v, &x->g.gm, fg_irq, &x->g);
        assert_false(ward_vbd_probe(&ops, &con.v));
        char err[128];
        assert_int_equal(
            ward_vbd_init(&x->drv, &ops, &con.v, fg_ptr(&x->g, DMA_GPA), DMA_GPA, err, sizeof(err)),
            -1);
        assert_string_equal(err, "virtio-blk: no virtio 1 block device at the transport");
        fg_free(&x->g);
        free(x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(finds_and_starts_the_device),
            cmocka_unit_test(writes_and_reads_reach_the_disk),
            cmocka_unit_test(many_requests_in_flight),
            cmocka_unit_test(refuses_what_the_device_cannot_take),
            cmocka_unit_test(a_failing_disk_is_an_error),
            cmocka_unit_test(answers_never_asked_are_dropped),
            cmocka_unit_test(no_device_no_driver),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
