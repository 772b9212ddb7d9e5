/* SPDX-License-Identifier: BSD-2-Clause */
/* The disk backends' starter (see ward/host/linux/blk_starter.h). */
#include "ward/host/linux/blk_starter.h"

#include "ward/host/linux/caps.h"
#include "ward/host/linux/jail.h"
#include "ward/host/linux/seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One request: the flags and the disk's name; five descriptors ride along. */
struct request {
        uint8_t read_only;
        uint8_t seccomp; /* enum ward_seccomp_mode for the backend */
        char path[254];  /* NUL-terminated, for messages only */
};

struct answer {
        int32_t pid; /* > 0, or -errno */
};

#define NFDS 5
/* In the starter: its socket and the ward binary; in a backend: the port's
 * server end and the disk at 3..7 (blk_backend.c), the binary at 8 until exec. */
enum { STARTER_SOCK = 3, STARTER_EXE = 4, BACKEND_FD0 = 3 };

/* The backend's process: fds[] become 3..7, nothing else crosses over. */
static _Noreturn void exec_backend(const int fds[NFDS], const struct request *rq)
{
        int tmp[NFDS + 1];
        const int exe_at = BACKEND_FD0 + NFDS;
        for (int k = 0; k <= NFDS; k++) {
                int src = k < NFDS ? fds[k] : STARTER_EXE;
                if ((tmp[k] = fcntl(src, F_DUPFD_CLOEXEC, exe_at + 1)) < 0)
                        _exit(126);
        }
        for (int k = 0; k <= NFDS; k++)
                if (dup3(tmp[k], BACKEND_FD0 + k, k == NFDS ? O_CLOEXEC : 0) < 0)
                        _exit(126);
        if (syscall(SYS_close_range, exe_at + 1, ~0u, 0) != 0)
                _exit(126);
        char fd_arg[8];
        snprintf(fd_arg, sizeof(fd_arg), "%d", BACKEND_FD0 + 4);
        const char *mode = ward_seccomp_mode_names[rq->seccomp];
        char *argv[12] = {"ward",   "backend",        "blk",       "--seccomp", (char *)mode,
                          "--disk", (char *)rq->path, "--disk-fd", fd_arg};
        int n = 9;
        if (rq->read_only)
                argv[n++] = "--read-only";
        argv[n] = NULL;
        signal(SIGCHLD, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* By descriptor: in a jail the binary has no path. */
        syscall(SYS_execveat, exe_at, "", argv, environ, AT_EMPTY_PATH);
        _exit(127);
}

/* One message: the request and exactly NFDS descriptors, or -1 (EOF: 0). */
static int receive(struct request *rq, int fds[NFDS])
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * NFDS)];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = {rq, sizeof(*rq)};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(STARTER_SOCK, &msg, MSG_CMSG_CLOEXEC);
        if (n == 0)
                return 0;
        int got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
                        if (got < NFDS)
                                fds[got++] = fd;
                        else
                                close(fd);
                }
        }
        /* Anything else than one whole request with its five descriptors is refused. */
        if (n != (ssize_t)sizeof(*rq) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            got != NFDS || rq->seccomp > WARD_SECCOMP_OFF ||
            memchr(rq->path, '\0', sizeof(rq->path)) == NULL) {
                for (int i = 0; i < got; i++)
                        close(fds[i]);
                return -1;
        }
        return 1;
}

static void answer(int32_t pid)
{
        struct answer a = {pid};
        if (send(STARTER_SOCK, &a, sizeof(a), MSG_NOSIGNAL) < 0) {
                /* the VMM has gone: the next receive sees it */
        }
}

static _Noreturn void serve(const struct ward_vm_config *cfg)
{
        char err[256];
        /* Backends are reaped by the kernel (SIGCHLD ignored). */
        signal(SIGCHLD, SIG_IGN);
        if ((cfg->jail.on &&
             ward_jail_enter(&cfg->jail, cfg->name ? cfg->name : "ward", true, err, sizeof(err))) ||
            ward_caps_drop_all(err, sizeof(err)) ||
            ward_seccomp_install(WARD_SECCOMP_STARTER, cfg->seccomp, false, err, sizeof(err))) {
                dprintf(2, "ward: disk backend starter: %s\n", err);
                _exit(1);
        }
        for (unsigned starts = 0;;) {
                struct request rq;
                int fds[NFDS];
                int r = receive(&rq, fds);
                if (r == 0)
                        _exit(0);
                if (r < 0) {
                        answer(-EINVAL);
                        continue;
                }
                pid_t pid = -EAGAIN;
                if (starts < WARD_BLK_STARTER_MAX_STARTS) {
                        starts++;
                        pid = fork();
                        if (pid == 0)
                                exec_backend(fds, &rq);
                        if (pid < 0)
                                pid = -errno;
                }
                for (int i = 0; i < NFDS; i++)
                        close(fds[i]);
                answer(pid);
        }
}

int ward_blk_starter_fork(struct ward_blk_starter *st, const char *exe,
                          const struct ward_vm_config *cfg, char *err, size_t errlen)
{
        st->sock = -1;
        st->pid = -1;
        int exe_fd = open(exe, O_PATH | O_CLOEXEC);
        if (exe_fd < 0) {
                snprintf(err, errlen, "the ward binary %s: %s", exe, strerror(errno));
                return -1;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
                snprintf(err, errlen, "disk backend starter: socketpair: %s", strerror(errno));
                close(exe_fd);
                return -1;
        }
        pid_t parent = getpid();
        st->pid = fork();
        if (st->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                /* Its socket and the binary at 3 and 4; nothing else of the VMM's. */
                int s = fcntl(sv[1], F_DUPFD_CLOEXEC, 10), e = fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
                if (s < 0 || e < 0 || dup3(s, STARTER_SOCK, O_CLOEXEC) < 0 ||
                    dup3(e, STARTER_EXE, O_CLOEXEC) < 0 ||
                    syscall(SYS_close_range, STARTER_EXE + 1, ~0u, 0) != 0)
                        _exit(126);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                serve(cfg);
        }
        int e = errno;
        close(exe_fd);
        close(sv[1]);
        if (st->pid < 0) {
                snprintf(err, errlen, "disk backend starter: fork: %s", strerror(e));
                close(sv[0]);
                return -1;
        }
        st->sock = sv[0];
        return 0;
}

pid_t ward_blk_starter_start(struct ward_blk_starter *st, const int fds[5], bool read_only,
                             const char *path, enum ward_seccomp_mode seccomp, char *err,
                             size_t errlen)
{
        struct request rq = {.read_only = read_only, .seccomp = (uint8_t)seccomp};
        snprintf(rq.path, sizeof(rq.path), "%s", path);
        union {
                char buf[CMSG_SPACE(sizeof(int) * NFDS)];
                struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof(ctl));
        struct iovec iov = {&rq, sizeof(rq)};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * NFDS);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * NFDS);
        struct answer a = {-EPIPE};
        if (st->sock < 0 || sendmsg(st->sock, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(rq) ||
            recv(st->sock, &a, sizeof(a), 0) != (ssize_t)sizeof(a)) {
                snprintf(err, errlen, "--disk %s: the backend starter has gone", path);
                return -1;
        }
        if (a.pid <= 0) {
                snprintf(err, errlen, "--disk %s: cannot start its backend: %s", path,
                         strerror(a.pid < 0 ? -a.pid : EINVAL));
                return -1;
        }
        return a.pid;
}

void ward_blk_starter_close(struct ward_blk_starter *st)
{
        if (st->sock >= 0)
                close(st->sock); /* it reads EOF and exits */
        if (st->pid > 0)
                waitpid(st->pid, NULL, 0);
        st->sock = -1;
        st->pid = -1;
}
