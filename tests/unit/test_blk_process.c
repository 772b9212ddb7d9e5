/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A disk served by a backend process of its own (`ward backend blk`, the
 * real ward binary): a virtio-blk device driven by the fake guest reads
 * and writes the disk file through it; killing the backend fails the
 * request in flight with IOERR and leaves this process alone; the backend
 * that takes over serves the next requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "fake_guest.h"
#include "ward/host/linux/blk_process.h"

#define QSIZE 16
#define DISK_BYTES (1u << 20)
#define WAIT_MS 10000

struct vmm {
        struct fake_guest g;
        struct ward_vblk b;
        struct ward_blk_process bp;
        uint16_t next_desc;
};

static uint64_t post(struct vmm *v, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
        return fg_blk_post(&v->g, &v->b.v, &v->next_desc, QSIZE, type, sector, data, len);
}

/* The VMM's event loop for one request: answers, or the backend going. */
static void wait_used(struct vmm *v, uint16_t want)
{
        while (fg_used_idx(&v->g, 0) != want) {
                struct pollfd p[2] = {{ward_blk_process_event_fd(&v->bp), POLLIN, 0},
                                      {ward_blk_process_gone_fd(&v->bp), POLLIN, 0}};
                assert_true(poll(p, 2, WAIT_MS) > 0);
                if (p[1].revents) {
                        char err[256];
                        assert_int_equal(ward_blk_process_restart(&v->bp, err, sizeof(err)), 0);
                } else {
                        ward_blk_process_poll(&v->bp);
                }
        }
}

static void disk_in_a_backend_process(void **state)
{
        (void)state;
        char path[] = "/tmp/ward-blk-process-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        uint8_t *pattern = malloc(DISK_BYTES);
        for (uint32_t i = 0; i < DISK_BYTES; i++)
                pattern[i] = (uint8_t)(i * 7 + i / 512);
        assert_int_equal(write(fd, pattern, DISK_BYTES), DISK_BYTES);
        close(fd);

        struct vmm *v = calloc(1, sizeof(*v));
        char err[256];
        assert_int_equal(ward_blk_process_open(&v->bp, WARD_BIN, path, false, err, sizeof(err)), 0);
        assert_int_equal(v->bp.size, DISK_BYTES);
        fg_init(&v->g);
        struct ward_blk_backend be = ward_blk_process_backend(&v->bp);
        ward_vblk_setup(&v->b, &be, v->bp.size, false, "proc");
        ward_virtio_init(&v->b.v, &v->g.gm, fg_irq, &v->g);
        fg_driver_init(&v->g, &v->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);

        /* A read and a write through the backend process. */
        uint64_t r = fg_alloc(&v->g, 4096, 0);
        uint64_t st = post(v, WARD_VIRTIO_BLK_T_IN, 8, r, 4096);
        wait_used(v, 1);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);
        assert_memory_equal(fg_ptr(&v->g, r), pattern + 8 * 512, 4096);
        uint64_t w = fg_alloc(&v->g, 512, 0x5a);
        st = post(v, WARD_VIRTIO_BLK_T_OUT, 3, w, 512);
        wait_used(v, 2);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);

        /* Killed with a request on its way: that request fails, we go on. */
        pid_t first = v->bp.pid;
        assert_int_equal(kill(first, SIGKILL), 0);
        struct pollfd gone = {ward_blk_process_gone_fd(&v->bp), POLLIN, 0};
        assert_true(poll(&gone, 1, WAIT_MS) == 1); /* dead for sure: its socket end closed */
        st = post(v, WARD_VIRTIO_BLK_T_IN, 0, r, 512);
        wait_used(v, 3);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_IOERR);
        assert_int_not_equal(v->bp.pid, first);
        assert_int_equal(v->bp.restarts, 1);

        /* The backend that took over serves the disk, the earlier write included. */
        st = post(v, WARD_VIRTIO_BLK_T_IN, 3, r, 512);
        wait_used(v, 4);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);
        assert_int_equal(((uint8_t *)fg_ptr(&v->g, r))[0], 0x5a);

        ward_blk_process_close(&v->bp);
        assert_int_equal(v->bp.pid, -1);
        fg_free(&v->g);
        free(v);
        free(pattern);
        unlink(path);
}

static void refuses_a_missing_disk(void **state)
{
        (void)state;
        struct ward_blk_process bp;
        char err[256];
        assert_int_not_equal(
            ward_blk_process_open(&bp, WARD_BIN, "/nonexistent/disk.img", false, err, sizeof(err)),
            0);
        assert_string_equal(err, "--disk /nonexistent/disk.img: No such file or directory");
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(disk_in_a_backend_process),
            cmocka_unit_test(refuses_a_missing_disk),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
