/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remote ports across two processes, as they will be deployed: the
 * parent runs a virtio-blk device with the port client, a forked child runs
 * the port server over its own RAM disk; the region is a memfd, the
 * notifications are eventfds. The child exits when the parent closes its
 * end, and the parent ends with exactly the fds it started with. The
 * console port makes the same trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_guest.h"
#include "ward/port/port_blk.h"
#include "ward/port/port_console.h"
#include "ward/host/linux/port_linux.h"

#define QSIZE 16
#define DISK_BYTES (1u << 20)
#define WAIT_MS 5000

static const struct ward_blk_port_config cfg = {.ring_slots = 16, .nbufs = 8, .buf_bytes = 4096};

static int open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        int n = 0;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* ---- the child: a block server over a RAM disk ---- */

struct ram_disk {
        uint8_t *data;
        unsigned flushes;
};

static int ram_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        memcpy(buf, ((struct ram_disk *)o)->data + off, len);
        return 0;
}

static int ram_write(void *o, uint64_t off, const void *buf, uint32_t len)
{
        memcpy(((struct ram_disk *)o)->data + off, buf, len);
        return 0;
}

static int ram_flush(void *o)
{
        ((struct ram_disk *)o)->flushes++;
        return 0;
}

/* Serves until the client goes away. Exit status: 0 clean, else what went wrong. */
static int blk_server_main(struct ward_port_linux *lp)
{
        ward_port_linux_take_side(lp, WARD_PORT_SERVER);
        /* The disk is the child's own memory: the client only ever sees the data region. */
        struct ram_disk disk = {.data = calloc(1, DISK_BYTES)};
        if (!disk.data)
                return 10;
        static const struct ward_blk_port_disk_ops ops = {ram_read, ram_write, ram_flush};
        struct ward_blk_port_server sv;
        struct ward_port_notify n = ward_port_linux_notifier(lp, WARD_PORT_SERVER);
        if (ward_blk_port_server_init(&sv, lp->mem, lp->size, &cfg, DISK_BYTES, &ops, &disk, &n) !=
            WARD_OK)
                return 11;
        int status = 0;
        for (;;) {
                int w = ward_port_linux_wait(lp, WARD_PORT_SERVER, WAIT_MS);
                if (w < 0)
                        break; /* the client closed its end: done */
                if (w == 0) {
                        status = 12; /* the parent hung */
                        break;
                }
                while (ward_blk_port_server_poll(&sv) > 0) {
                }
                if (sv.broken) {
                        status = 13;
                        break;
                }
        }
        if (status == 0 && (sv.bad_requests != 0 || disk.flushes != 1))
                status = 14;
        free(disk.data);
        ward_port_linux_close(lp);
        return status;
}

/* ---- the parent: the VMM ---- */

struct vmm {
        struct fake_guest g;
        struct ward_vblk b;
        struct ward_blk_port_client cl;
        uint16_t next_desc;
};

static uint64_t post(struct vmm *v, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
        return fg_blk_post(&v->g, &v->b.v, &v->next_desc, QSIZE, type, sector, data, len);
}

/* The VMM's event loop, for one request: wait for the server, complete. */
static void wait_used(struct vmm *v, struct ward_port_linux *lp, uint16_t want)
{
        while (fg_used_idx(&v->g, 0) != want) {
                int w = ward_port_linux_wait(lp, WARD_PORT_CLIENT, WAIT_MS);
                assert_int_equal(w, 1);
                assert_true(ward_blk_port_client_poll(&v->cl) >= 0);
        }
}

static void blk_port_across_processes(void **state)
{
        (void)state;
        int fds_before = open_fds();
        struct ward_blk_port_layout lay;
        assert_int_equal(ward_blk_port_layout(&cfg, &lay), WARD_OK);
        struct ward_port_linux lp;
        char err[256];
        assert_int_equal(
            ward_port_linux_create(&lp, "ward-blk-port-test", lay.total, err, sizeof(err)), 0);
        assert_int_equal(ward_blk_port_format(lp.mem, lp.size, &cfg), WARD_OK);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(blk_server_main(&lp)); /* no cmocka or atexit work in the child */

        ward_port_linux_take_side(&lp, WARD_PORT_CLIENT);
        struct vmm *v = calloc(1, sizeof(*v));
        fg_init(&v->g);
        struct ward_port_notify n = ward_port_linux_notifier(&lp, WARD_PORT_CLIENT);
        assert_int_equal(ward_blk_port_client_init(&v->cl, lp.mem, lp.size, &cfg, &n), WARD_OK);
        struct ward_blk_backend be = ward_blk_port_client_backend(&v->cl);
        ward_vblk_setup(&v->b, &be, DISK_BYTES, false, "remote");
        ward_virtio_init(&v->b.v, &v->g.gm, fg_irq, &v->g);
        fg_driver_init(&v->g, &v->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);

        /* 40 KiB: more than the 32 KiB of data buffers, so it is split and waits. */
        const uint32_t len = 40 * 1024;
        uint64_t w = fg_alloc(&v->g, len, 0);
        for (uint32_t i = 0; i < len; i++)
                ((uint8_t *)fg_ptr(&v->g, w))[i] = (uint8_t)(i * 31 + i / 4096);
        uint64_t st = post(v, WARD_VIRTIO_BLK_T_OUT, 100, w, len);
        wait_used(v, &lp, 1);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);
        st = post(v, WARD_VIRTIO_BLK_T_FLUSH, 0, 0, 0);
        wait_used(v, &lp, 2);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);
        uint64_t r = fg_alloc(&v->g, len, 0);
        st = post(v, WARD_VIRTIO_BLK_T_IN, 100, r, len);
        wait_used(v, &lp, 3);
        assert_int_equal(*(uint8_t *)fg_ptr(&v->g, st), WARD_VIRTIO_BLK_S_OK);
        assert_memory_equal(fg_ptr(&v->g, r), fg_ptr(&v->g, w), len);
        /* A sector never written reads as the RAM disk's zeros. */
        uint64_t z = fg_alloc(&v->g, 512, 0x77);
        st = post(v, WARD_VIRTIO_BLK_T_IN, 0, z, 512);
        wait_used(v, &lp, 4);
        assert_int_equal(((uint8_t *)fg_ptr(&v->g, z))[0], 0);
        assert_int_equal(v->cl.bad_responses, 0);
        assert_true(v->cl.waits > 0);

        /* Closing our end tells the server to finish. */
        ward_port_linux_close(&lp);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        fg_free(&v->g);
        free(v);
        assert_int_equal(open_fds(), fds_before);
}

/* ---- console: an echo server that upper-cases ---- */

static uint32_t echo_sink(void *opaque, const void *buf, uint32_t len)
{
        struct ward_console_port *p = opaque;
        uint8_t up[256];
        uint32_t n = WARD_MIN(len, (uint32_t)sizeof(up));
        for (uint32_t i = 0; i < n; i++) {
                uint8_t c = ((const uint8_t *)buf)[i];
                up[i] = c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
        }
        /* Only what the return ring takes counts as taken: the rest stays for later. */
        return ward_console_port_write(p, up, n);
}

static int console_server_main(struct ward_port_linux *lp, uint32_t ring)
{
        ward_port_linux_take_side(lp, WARD_PORT_SERVER);
        struct ward_console_port p;
        struct ward_port_notify n = ward_port_linux_notifier(lp, WARD_PORT_SERVER);
        if (ward_console_port_init(&p, lp->mem, lp->size, ring, WARD_PORT_SERVER, &n) != WARD_OK)
                return 11;
        for (;;) {
                int w = ward_port_linux_wait(lp, WARD_PORT_SERVER, WAIT_MS);
                if (w < 0)
                        break;
                if (w == 0)
                        return 12;
                while (ward_console_port_poll(&p, echo_sink, &p) > 0) {
                }
        }
        ward_port_linux_close(lp);
        return 0;
}

static uint32_t keep(void *opaque, const void *buf, uint32_t len)
{
        uint8_t **out = opaque;
        memcpy(*out, buf, len);
        *out += len;
        return len;
}

static void console_port_across_processes(void **state)
{
        (void)state;
        int fds_before = open_fds();
        const uint32_t ring = 1024;
        struct ward_port_linux lp;
        char err[256];
        assert_int_equal(ward_port_linux_create(&lp, "ward-console-port-test",
                                                ward_console_port_region_bytes(ring), err,
                                                sizeof(err)),
                         0);
        /* memfd memory starts zeroed: a valid pair of empty rings without format. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(console_server_main(&lp, ring));
        ward_port_linux_take_side(&lp, WARD_PORT_CLIENT);
        struct ward_console_port p;
        struct ward_port_notify n = ward_port_linux_notifier(&lp, WARD_PORT_CLIENT);
        assert_int_equal(ward_console_port_init(&p, lp.mem, lp.size, ring, WARD_PORT_CLIENT, &n),
                         WARD_OK);
        static const char msg[] = "echo hello from the guest\n";
        uint8_t got[4 * sizeof(msg)], *end = got;
        for (int i = 0; i < 4; i++)
                assert_int_equal(ward_console_port_write(&p, msg, sizeof(msg) - 1),
                                 sizeof(msg) - 1);
        while (end - got < 4 * (int)(sizeof(msg) - 1)) {
                assert_int_equal(ward_port_linux_wait(&lp, WARD_PORT_CLIENT, WAIT_MS), 1);
                ward_console_port_poll(&p, keep, &end);
        }
        for (int i = 0; i < 4; i++)
                assert_memory_equal(got + i * (sizeof(msg) - 1), "ECHO HELLO FROM THE GUEST\n",
                                    sizeof(msg) - 1);
        ward_port_linux_close(&lp);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(open_fds(), fds_before);
}

static void create_failures_leave_nothing_open(void **state)
{
        (void)state;
        int fds_before = open_fds();
        struct ward_port_linux lp;
        char err[256] = "";
        assert_int_equal(ward_port_linux_create(&lp, "x", 0, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "bad size"));
        assert_int_equal(ward_port_linux_create(&lp, "x", SIZE_MAX / 2, err, sizeof(err)), -1);
        assert_int_equal(open_fds(), fds_before);
        /* Sealed: nobody can shrink the region under the other side. */
        assert_int_equal(ward_port_linux_create(&lp, "x", 100, err, sizeof(err)), 0);
        assert_int_equal(lp.size % (size_t)sysconf(_SC_PAGESIZE), 0);
        assert_int_not_equal(ftruncate(lp.mem_fd, 0), 0);
        ward_port_linux_close(&lp);
        ward_port_linux_close(&lp); /* twice is harmless */
        assert_int_equal(open_fds(), fds_before);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(blk_port_across_processes),
            cmocka_unit_test(console_port_across_processes),
            cmocka_unit_test(create_failures_leave_nothing_open),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
