/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio-blk with the real file backend (io_uring, and the synchronous
 * fallback): bytes move between a host file and fake guest RAM, a flush
 * completes after fdatasync, and a read-only file refuses writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "fake_guest.h"
#include "ward/host/linux/host_linux.h"

#define SECTORS 64
#define DISK_BYTES (SECTORS * WARD_BLK_SECTOR)
#define QSIZE 16

struct ctx {
        struct fake_guest g;
        struct ward_blk_file file;
        struct ward_vblk b;
        char path[64];
        uint16_t next_desc;
};

static uint8_t pattern(unsigned i)
{
        return (uint8_t)(i * 13 + i / 512);
}

static struct ctx *new_ctx(bool read_only, bool use_uring)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        strcpy(x->path, "/tmp/ward-blk-file-XXXXXX");
        int fd = mkstemp(x->path);
        assert_true(fd >= 0);
        uint8_t buf[DISK_BYTES];
        for (unsigned i = 0; i < DISK_BYTES; i++)
                buf[i] = pattern(i);
        assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
        close(fd);
        char err[256];
        assert_int_equal(ward_blk_file_open(&x->file, x->path, read_only, err, sizeof(err)), 0);
        if (!use_uring && x->file.uring_ok) {
                /* Force the synchronous path. */
                io_uring_queue_exit(&x->file.ring);
                close(x->file.event_fd);
                x->file.event_fd = -1;
                x->file.uring_ok = false;
        }
        struct ward_blk_backend be = ward_blk_file_backend(&x->file);
        ward_vblk_setup(&x->b, &be, x->file.size, read_only, "file-test");
        ward_virtio_init(&x->b.v, &x->g.gm, fg_irq, &x->g);
        fg_driver_init(&x->g, &x->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        return x;
}

static int setup_uring(void **state)
{
        *state = new_ctx(false, true);
        return 0;
}
static int setup_sync(void **state)
{
        *state = new_ctx(false, false);
        return 0;
}
static int setup_ro(void **state)
{
        *state = new_ctx(true, true);
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        ward_blk_file_close(&x->file);
        unlink(x->path);
        fg_free(&x->g);
        free(x);
        return 0;
}

/* Posts header, optional data, status; returns the status byte's address. */
static uint64_t post(struct ctx *x, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                     bool writable)
{
        uint64_t h = fg_alloc(&x->g, 16, 0), st = fg_alloc(&x->g, 1, 0xee);
        ward_put_le32(fg_ptr(&x->g, h), type);
        ward_put_le64((uint8_t *)fg_ptr(&x->g, h) + 8, sector);
        uint16_t d0 = x->next_desc++ % QSIZE, d1 = x->next_desc++ % QSIZE,
                 d2 = x->next_desc++ % QSIZE;
        if (len) {
                fg_desc(&x->g, 0, d0, h, 16, WARD_VRING_DESC_F_NEXT, d1);
                fg_desc(
                    &x->g, 0, d1, data, len,
                    (uint16_t)(WARD_VRING_DESC_F_NEXT | (writable ? WARD_VRING_DESC_F_WRITE : 0)),
                    d2);
        } else {
                fg_desc(&x->g, 0, d0, h, 16, WARD_VRING_DESC_F_NEXT, d2);
        }
        fg_desc(&x->g, 0, d2, st, 1, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(&x->g, 0, d0);
        fg_mmio_write(&x->b.v, 0x050, 0); /* notify */
        ward_blk_file_flush(&x->file);
        return st;
}

/* Waits until the used ring reaches `want` entries, reaping completions. */
static void wait_used(struct ctx *x, uint16_t want)
{
        for (int i = 0; i < 500 && fg_used_idx(&x->g, 0) < want; i++) {
                if (x->file.event_fd >= 0) {
                        struct pollfd p = {x->file.event_fd, POLLIN, 0};
                        poll(&p, 1, 10);
                        uint64_t cnt;
                        if (read(x->file.event_fd, &cnt, sizeof(cnt)) < 0) {
                                /* nothing yet */
                        }
                }
                ward_blk_file_reap(&x->file);
        }
        assert_int_equal(fg_used_idx(&x->g, 0), want);
}

static void read_write_flush(void **state)
{
        struct ctx *x = *state;
        /* Read sectors 3..4 into guest memory. */
        uint64_t buf = fg_alloc(&x->g, 1024, 0);
        uint64_t st = post(x, WARD_VIRTIO_BLK_T_IN, 3, buf, 1024, true);
        wait_used(x, 1);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_OK);
        const uint8_t *got = fg_ptr(&x->g, buf);
        for (unsigned i = 0; i < 1024; i++)
                assert_int_equal(got[i], pattern(3 * 512 + i));

        /* Write sector 10 from guest memory, flush, and read the host file. */
        uint64_t w = fg_alloc(&x->g, 512, 0x5a);
        st = post(x, WARD_VIRTIO_BLK_T_OUT, 10, w, 512, false);
        wait_used(x, 2);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_OK);
        st = post(x, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
        wait_used(x, 3);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_OK);
        uint8_t host[512];
        FILE *f = fopen(x->path, "rb");
        assert_non_null(f);
        fseek(f, 10 * 512, SEEK_SET);
        assert_int_equal(fread(host, 1, sizeof(host), f), sizeof(host));
        fclose(f);
        for (unsigned i = 0; i < sizeof(host); i++)
                assert_int_equal(host[i], 0x5a);
}

static void read_only_file_refuses_writes(void **state)
{
        struct ctx *x = *state;
        uint64_t w = fg_alloc(&x->g, 512, 0x77);
        uint64_t st = post(x, WARD_VIRTIO_BLK_T_OUT, 0, w, 512, false);
        wait_used(x, 1);
        assert_int_equal(*(uint8_t *)fg_ptr(&x->g, st), WARD_VIRTIO_BLK_S_IOERR);
        uint8_t first;
        FILE *f = fopen(x->path, "rb");
        assert_int_equal(fread(&first, 1, 1, f), 1);
        fclose(f);
        assert_int_equal(first, pattern(0));
}

static void uring_is_used_when_available(void **state)
{
        struct ctx *x = *state;
        /* Documents which path the other tests took on this kernel. */
        print_message("io_uring %s\n", x->file.uring_ok ? "in use" : "unavailable: sync path");
        assert_true(x->file.uring_ok == (x->file.event_fd >= 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(uring_is_used_when_available, setup_uring, teardown),
            cmocka_unit_test_setup_teardown(read_write_flush, setup_uring, teardown),
            cmocka_unit_test_setup_teardown(read_write_flush, setup_sync, teardown),
            cmocka_unit_test_setup_teardown(read_only_file_refuses_writes, setup_ro, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
