/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Opening what is behind a NIC (see net_link.h): a tap interface, or passt,
 * the user-mode network stack, started on one end of a socket pair. passt
 * runs outside the VMM, as its own process that sandboxes itself: a guest
 * that breaks the TCP/IP stack it talks to has broken passt, not ward.
 */
#include "ward/host/linux/net_link.h"
#include "ward/host/linux/port_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PASST_FD 3

static int open_tap(struct ward_net_link *l, const struct ward_net_config *cfg, char *err,
                    size_t errlen)
{
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "--net tap=%s: /dev/net/tun: %s", cfg->tap, strerror(errno));
                return -1;
        }
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        memcpy(ifr.ifr_name, cfg->tap, strnlen(cfg->tap, IFNAMSIZ - 1));
        int hdr = WARD_VNET_HDR_LEN;
        const char *step = "TUNSETIFF";
        int rc = ioctl(fd, TUNSETIFF, &ifr);
        if (rc == 0) {
                step = "TUNSETVNETHDRSZ";
                rc = ioctl(fd, TUNSETVNETHDRSZ, &hdr);
        }
        if (rc == 0) {
                step = "TUNSETOFFLOAD";
                rc = ioctl(fd, TUNSETOFFLOAD, 0); /* until the guest's driver says */
        }
        if (rc < 0) {
                int e = errno;
                snprintf(err, errlen, "--net tap=%s: %s: %s%s", cfg->tap, step, strerror(e),
                         e == EPERM ? " (attaching a tap needs CAP_NET_ADMIN, or a tap made for "
                                      "this user: ip tuntap add NAME mode tap user USER)"
                                    : "");
                close(fd);
                return -1;
        }
        l->fd = fd;
        return 0;
}

int ward_net_user_argv(const struct ward_net_config *cfg, int fd, const char **argv, unsigned max,
                       char *buf, size_t buflen)
{
        unsigned n = 0;
        size_t used = 0;
#define ARG(s)                                                                                     \
        do {                                                                                       \
                if (n + 1 >= max)                                                                  \
                        return -1;                                                                 \
                argv[n++] = (s);                                                                   \
        } while (0)
        /* -f: stay in the foreground, our child; -q: only errors, to stderr (-e). */
        ARG("passt");
        ARG("-f");
        ARG("-q");
        ARG("-e");
        ARG("--fd");
        int k = snprintf(buf, buflen, "%d", fd);
        if (k < 0 || (size_t)k >= buflen)
                return -1;
        ARG(buf);
        used = (size_t)k + 1;
        for (unsigned i = 0; i < cfg->nfwd; i++) {
                const struct ward_net_fwd *f = &cfg->fwd[i];
                ARG(f->udp ? "-u" : "-t");
                /* passt's spec: [ADDR/]HOST:GUEST */
                k = snprintf(buf + used, buflen - used, "%s%s%u:%u", f->addr, f->addr[0] ? "/" : "",
                             f->host, f->guest);
                if (k < 0 || (size_t)k >= buflen - used)
                        return -1;
                ARG(buf + used);
                used += (size_t)k + 1;
        }
        argv[n] = NULL;
#undef ARG
        return (int)n;
}

/*
 * Starts passt on one end of a socket pair and keeps the other. A pipe that
 * closes on exec tells us whether passt could be run at all, so a missing
 * passt is a clear error now, not a silent link later.
 */
static int start_passt(struct ward_net_link *l, const struct ward_net_config *cfg, char *err,
                       size_t errlen)
{
        const char *argv[8 + 2 * WARD_MAX_NET_FWDS];
        char buf[64 + 48 * WARD_MAX_NET_FWDS];
        if (ward_net_user_argv(cfg, PASST_FD, argv, 8 + 2 * WARD_MAX_NET_FWDS, buf, sizeof(buf)) <
            0) {
                snprintf(err, errlen, "--net user: internal: passt's command line is too long");
                return -1;
        }
        int sv[2], report[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                snprintf(err, errlen, "--net user: socketpair: %s", strerror(errno));
                return -1;
        }
        if (pipe2(report, O_CLOEXEC) < 0) {
                snprintf(err, errlen, "--net user: pipe: %s", strerror(errno));
                close(sv[0]);
                close(sv[1]);
                return -1;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
                /* passt ends with ward: at its socket's end, or at this signal. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent)
                        _exit(127);
                setpgid(0, 0); /* out of the terminal's process group: Ctrl-C is the guest's */
                sigset_t none; /* the VMM blocks the signals it reads from a signalfd */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(sv[1], PASST_FD) == PASST_FD) {
                        close_range(PASST_FD + 1, ~0u, CLOSE_RANGE_CLOEXEC);
                        fcntl(report[1], F_SETFD, FD_CLOEXEC);
                        execvp("passt", (char *const *)argv);
                }
                int e = errno;
                if (write(report[1], &e, sizeof(e)) < 0)
                        _exit(127);
                _exit(127);
        }
        close(sv[1]);
        close(report[1]);
        int e = 0;
        ssize_t got = pid < 0 ? -1 : read(report[0], &e, sizeof(e));
        close(report[0]);
        if (pid < 0 || got != 0) {
                int why = pid < 0 ? errno : e;
                snprintf(err, errlen, "--net user: cannot run passt: %s%s", strerror(why),
                         why == ENOENT ? " (install Debian's passt package)" : "");
                if (pid > 0)
                        waitpid(pid, NULL, 0);
                close(sv[0]);
                return -1;
        }
        int fl = fcntl(sv[0], F_GETFL);
        fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
        l->fd = sv[0];
        l->pid = pid;
        return 0;
}

static void port_down(void *ctx)
{
        struct ward_net_link *l = ctx;
        fprintf(stderr,
                "\r\nward: net %u: the switch broke its port; the guest's frames are dropped from "
                "now on\r\n",
                l->index);
}

/* The port the supervisor made: the memfd at port_fd, the eventfds after it. */
static int open_port(struct ward_net_link *l, const struct ward_net_config *cfg, char *err,
                     size_t errlen)
{
        char why[160];
        if (ward_net_port_linux_attach(&l->port.port, cfg->port_fd, WARD_PORT_CLIENT, &l->port_mem,
                                       &l->fd, &l->kick, why, sizeof(why))) {
                snprintf(err, errlen, "net %u: %s", l->index, why);
                return -1;
        }
        l->port_size = ward_net_port_region_bytes(WARD_NET_PORT_RING);
        l->port.on_down = port_down;
        l->port.ctx = l;
        return 0;
}

int ward_net_link_open(struct ward_net_link *l, const struct ward_net_config *cfg, unsigned index,
                       char *err, size_t errlen)
{
        l->fd = -1;
        l->kick = -1;
        l->pid = -1;
        l->index = index;
        if (cfg->kind == WARD_NET_PORT) {
                l->kind = WARD_NET_LINK_PORT;
                return open_port(l, cfg, err, errlen);
        }
        if (cfg->kind == WARD_NET_TAP) {
                l->kind = WARD_NET_LINK_TAP;
                return open_tap(l, cfg, err, errlen);
        }
        l->kind = WARD_NET_LINK_STREAM;
        return start_passt(l, cfg, err, errlen);
}

void ward_net_link_close(struct ward_net_link *l)
{
        /* passt ends when its socket does (or by its parent-death signal): a
         * VMM under its allow-list may neither signal nor wait. */
        if (l->fd >= 0)
                close(l->fd);
        if (l->kind == WARD_NET_LINK_PORT && l->kick >= 0)
                close(l->kick);
        if (l->port_mem)
                munmap(l->port_mem, l->port_size);
        l->fd = l->kick = -1;
        l->port_mem = NULL;
}
