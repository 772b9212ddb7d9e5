/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A disk served by a backend process of its own (`ward backend blk`, the
 * real ward binary, started by a real starter, both under their allow-lists):
 * a virtio-blk device driven by the fake guest reads and writes the disk file
 * through it; killing the backend fails the request in flight with IOERR and
 * leaves this process alone; the backend that takes over serves the next
 * requests, also when this process is under the VMM's list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_guest.h"
#include "ward/host/linux/event_loop.h"
#include "ward/host/linux/blk_process.h"
#include "ward/host/linux/seccomp_filter.h"

/* The starter forked from this test runs the sanitizers' code (a sanitized
 * fork makes calls no starter makes): its list is off in that build only.
 * The backends it starts are the plain ward binary, under their lists. */
#if defined(__SANITIZE_ADDRESS__)
#define STARTER_SECCOMP WARD_SECCOMP_OFF
#else
#define STARTER_SECCOMP WARD_SECCOMP_ON
#endif

#define QSIZE 16
#define DISK_BYTES (1u << 20)
#define WAIT_MS 10000

struct vmm {
        struct fake_guest g;
        struct ward_vblk b;
        struct ward_blk_process bp;
        struct ward_blk_starter st;
        uint16_t next_desc;
};

static uint64_t post(struct vmm *v, uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
        return fg_blk_post(&v->g, &v->b.v, &v->next_desc, QSIZE, type, sector, data, len);
}

/* A step that must hold, or the scenario returns its line. */
#define CHECK(c)                                                                                   \
        do {                                                                                       \
                if (!(c))                                                                          \
                        return __LINE__;                                                           \
        } while (0)

/* The VMM's event loop for one request: answers, or the backend going. */
static int wait_used(struct vmm *v, uint16_t want)
{
        while (fg_used_idx(&v->g, 0) != want) {
                struct pollfd p[2] = {{ward_blk_process_event_fd(&v->bp), POLLIN, 0},
                                      {ward_blk_process_gone_fd(&v->bp), POLLIN, 0}};
                CHECK(ward_poll(p, 2, WAIT_MS) > 0);
                if (p[1].revents) {
                        char err[256];
                        CHECK(ward_blk_process_restart(&v->bp, err, sizeof(err)) == 0);
                } else {
                        ward_blk_process_poll(&v->bp);
                }
        }
        return 0;
}

/*
 * Reads and writes through the backend, kills it, and goes on with the one
 * that takes over. lock: this process takes the VMM's allow-list (with
 * ports) after the first start, as a VMM does before its guest runs, so
 * the restart runs under it. 0, or the line of the step that failed.
 */
static int scenario(const char *path, const uint8_t *pattern, bool lock)
{
        struct vmm *v = calloc(1, sizeof(*v));
        char err[256];
        struct ward_vm_config cfg = {.seccomp = STARTER_SECCOMP};
        CHECK(ward_blk_starter_fork(&v->st, WARD_BIN, &cfg, err, sizeof(err)) == 0);
        v->bp.seccomp = WARD_SECCOMP_ON;
        CHECK(ward_blk_process_open(&v->bp, &v->st, path, false, err, sizeof(err)) == 0);
        CHECK(v->bp.size == DISK_BYTES && v->bp.pid > 0);
        fg_init(&v->g);
        struct ward_blk_backend be = ward_blk_process_backend(&v->bp);
        ward_vblk_setup(&v->b, &be, v->bp.size, false, "proc");
        ward_virtio_init(&v->b.v, &v->g.gm, fg_irq, &v->g);
        fg_driver_init(&v->g, &v->b.v, 1ull << WARD_VIRTIO_F_VERSION_1, QSIZE);
        if (lock)
                CHECK(ward_seccomp_install(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, true, err,
                                           sizeof(err)) == 0);

        /* A read and a write through the backend process. */
        uint64_t r = fg_alloc(&v->g, 4096, 0);
        uint64_t st = post(v, WARD_VIRTIO_BLK_T_IN, 8, r, 4096);
        CHECK(wait_used(v, 1) == 0);
        CHECK(*(uint8_t *)fg_ptr(&v->g, st) == WARD_VIRTIO_BLK_S_OK);
        CHECK(memcmp(fg_ptr(&v->g, r), pattern + 8 * 512, 4096) == 0);
        uint64_t w = fg_alloc(&v->g, 512, 0x5a);
        st = post(v, WARD_VIRTIO_BLK_T_OUT, 3, w, 512);
        CHECK(wait_used(v, 2) == 0);
        CHECK(*(uint8_t *)fg_ptr(&v->g, st) == WARD_VIRTIO_BLK_S_OK);

        /* Killed with a request on its way: that request fails, we go on.
         * (Its pid is in this process's PID namespace: the starter's child.) */
        pid_t first = v->bp.pid;
        CHECK(syscall(SYS_tgkill, first, first, SIGKILL) == 0);
        struct pollfd gone = {ward_blk_process_gone_fd(&v->bp), POLLIN, 0};
        CHECK(ward_poll(&gone, 1, WAIT_MS) == 1); /* dead for sure: its socket end closed */
        st = post(v, WARD_VIRTIO_BLK_T_IN, 0, r, 512);
        CHECK(wait_used(v, 3) == 0);
        CHECK(*(uint8_t *)fg_ptr(&v->g, st) == WARD_VIRTIO_BLK_S_IOERR);
        CHECK(v->bp.pid > 0 && v->bp.pid != first);
        CHECK(v->bp.restarts == 1);

        /* The backend that took over serves the disk, the earlier write included. */
        st = post(v, WARD_VIRTIO_BLK_T_IN, 3, r, 512);
        CHECK(wait_used(v, 4) == 0);
        CHECK(*(uint8_t *)fg_ptr(&v->g, st) == WARD_VIRTIO_BLK_S_OK);
        CHECK(((uint8_t *)fg_ptr(&v->g, r))[0] == 0x5a);

        ward_blk_process_close(&v->bp);
        CHECK(v->bp.pid == -1);
        if (!lock) { /* under the list, this process only exits */
                ward_blk_starter_close(&v->st);
                fg_free(&v->g);
                free(v);
        }
        return 0;
}

static const char *make_disk(char *path, uint8_t **pattern)
{
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        *pattern = malloc(DISK_BYTES);
        for (uint32_t i = 0; i < DISK_BYTES; i++)
                (*pattern)[i] = (uint8_t)(i * 7 + i / 512);
        assert_int_equal(write(fd, *pattern, DISK_BYTES), DISK_BYTES);
        close(fd);
        return path;
}

static void disk_in_a_backend_process(void **state)
{
        (void)state;
        char path[] = "/tmp/ward-blk-process-XXXXXX";
        uint8_t *pattern;
        make_disk(path, &pattern);
        assert_int_equal(scenario(path, pattern, false), 0);
        free(pattern);
        unlink(path);
}

/* The same with the restart under the VMM's allow-list, in a child. */
static void restart_under_the_vmm_list(void **state)
{
        (void)state;
        char path[] = "/tmp/ward-blk-process-XXXXXX";
        uint8_t *pattern;
        make_disk(path, &pattern);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) /* raw exit: the sanitizers' clean-up makes calls a VMM does not */
                syscall(SYS_exit_group, scenario(path, pattern, true));
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
                print_message("killed by signal %d\n", WTERMSIG(st));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0); /* else: the failing line */
        free(pattern);
        unlink(path);
}

/* Sends len bytes of buf with nfds copies of fd to the starter; its answer. */
static int32_t raw_request(struct ward_blk_starter *st, const void *buf, size_t len, int fd,
                           int nfds)
{
        union {
                char b[CMSG_SPACE(sizeof(int) * 8)];
                struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof(ctl));
        struct iovec iov = {(void *)buf, len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (nfds) {
                msg.msg_control = ctl.b;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
                for (int k = 0; k < nfds; k++)
                        memcpy(CMSG_DATA(c) + k * sizeof(int), &fd, sizeof(int));
        }
        assert_int_equal(sendmsg(st->sock, &msg, 0), (ssize_t)len);
        int32_t answer = 0;
        assert_int_equal(recv(st->sock, &answer, sizeof(answer), 0), sizeof(answer));
        return answer;
}

/* A compromised VMM against its starter: requests of the wrong size, with
 * too few descriptors, or a name without its end are refused one by one,
 * and the starter goes on serving. */
static void starter_refuses_malformed_requests(void **state)
{
        (void)state;
        char path[] = "/tmp/ward-blk-process-XXXXXX";
        uint8_t *pattern;
        make_disk(path, &pattern);
        struct ward_blk_starter st;
        struct ward_vm_config cfg = {.seccomp = STARTER_SECCOMP};
        char err[256];
        assert_int_equal(ward_blk_starter_fork(&st, WARD_BIN, &cfg, err, sizeof(err)), 0);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char req[256];
        memset(req, 0, sizeof(req));
        assert_int_equal(raw_request(&st, req, 10, fd, 0), -EINVAL);          /* short */
        assert_int_equal(raw_request(&st, req, sizeof(req), fd, 3), -EINVAL); /* 3 fds */
        assert_int_equal(raw_request(&st, req, sizeof(req), fd, 7), -EINVAL); /* 7 fds */
        memset(req, 'x', sizeof(req));
        req[0] = 0;
        req[1] = 0;
        assert_int_equal(raw_request(&st, req, sizeof(req), fd, 5), -EINVAL); /* no NUL */
        req[1] = 9;
        req[2] = 0;
        assert_int_equal(raw_request(&st, req, sizeof(req), fd, 5), -EINVAL); /* mode 9 */
        close(fd);
        /* Still serving: a real start works. */
        struct ward_blk_process bp = {.seccomp = WARD_SECCOMP_ON};
        assert_int_equal(ward_blk_process_open(&bp, &st, path, false, err, sizeof(err)), 0);
        assert_true(bp.pid > 0);
        ward_blk_process_close(&bp);
        ward_blk_starter_close(&st);
        free(pattern);
        unlink(path);
}

static void refuses_a_missing_disk(void **state)
{
        (void)state;
        struct ward_blk_process bp;
        struct ward_blk_starter st = {-1, -1};
        char err[256];
        assert_int_not_equal(
            ward_blk_process_open(&bp, &st, "/nonexistent/disk.img", false, err, sizeof(err)), 0);
        assert_string_equal(err, "--disk /nonexistent/disk.img: No such file or directory");
}

/* A starter whose socket is gone: the start fails with a reason, nothing hangs. */
static void a_gone_starter_is_an_error(void **state)
{
        (void)state;
        char path[] = "/tmp/ward-blk-process-XXXXXX";
        uint8_t *pattern;
        make_disk(path, &pattern);
        struct ward_blk_starter st = {-1, -1};
        struct ward_blk_process bp;
        char err[256];
        assert_int_equal(ward_blk_process_open(&bp, &st, path, false, err, sizeof(err)), -1);
        char want[300];
        snprintf(want, sizeof(want), "--disk %s: the backend starter has gone", path);
        assert_string_equal(err, want);
        ward_blk_process_close(&bp);
        free(pattern);
        unlink(path);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(disk_in_a_backend_process),
            cmocka_unit_test(restart_under_the_vmm_list),
            cmocka_unit_test(refuses_a_missing_disk),
            cmocka_unit_test(a_gone_starter_is_an_error),
            cmocka_unit_test(starter_refuses_malformed_requests),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
