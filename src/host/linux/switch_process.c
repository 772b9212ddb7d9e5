/* SPDX-License-Identifier: BSD-2-Clause */
/* A network's switch process; see ward/host/linux/switch_process.h. */
#include "ward/host/linux/switch_process.h"
#include "ward/host/linux/event_loop.h"

#include "ward/host/linux/jail.h"
#include "ward/host/linux/port_linux.h"
#include "ward/host/linux/seccomp_filter.h"
#include "ward/net/switch_ports.h"
#include "ward/port/port_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct sw {
        const char *name;
        struct ward_switch_ports ports;
        int wake[WARD_VSWITCH_MAX_PORTS], kick[WARD_VSWITCH_MAX_PORTS]; /* from and to each VMM */
        uint8_t *stats; /* shared with the supervisor */
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int attach(struct sw *s, unsigned i, int fd, char *err, size_t errlen)
{
        void *mem;
        char why[160];
        if (ward_net_port_linux_attach(&s->ports.port[i], fd, WARD_PORT_SERVER, &mem, &s->wake[i],
                                       &s->kick[i], why, sizeof(why))) {
                snprintf(err, errlen, "port %u: %s", i, why);
                return -1;
        }
        return 0;
}

static void port_dead(void *ctx, unsigned i)
{
        struct sw *s = ctx;
        fprintf(stderr, "ward switch %s: port %u broke its framing; it is left out from now on\n",
                s->name, i);
}

static void publish_stats(struct sw *s, uint64_t rounds)
{
        memcpy(s->stats + WARD_SWITCH_STATS_HDR, s->ports.vs.stats,
               s->ports.vs.nports * sizeof(struct ward_vswitch_port_stats));
        __atomic_store_n((uint64_t *)(void *)s->stats, rounds, __ATOMIC_RELEASE);
}

static void on_signal(int sig)
{
        (void)sig; /* read from the signalfd; the handler exists for the pid-1 rule (jail.h) */
}

int ward_switch_run(const char *name, const struct ward_vswitch_port_config *ports, unsigned n,
                    int first, const struct ward_jail_config *jail, enum ward_seccomp_mode seccomp)
{
        static struct sw s;
        char err[256];
        s.name = name;
        s.ports.on_dead = port_dead;
        s.ports.ctx = &s;
        if (ward_vswitch_init(&s.ports.vs, ports, n, 0)) {
                fprintf(stderr, "ward switch %s: bad port configuration\n", name);
                return 2;
        }
        for (unsigned i = 0; i < n; i++)
                if (attach(&s, i, first + 3 * (int)i, err, sizeof(err))) {
                        fprintf(stderr, "ward switch %s: %s\n", name, err);
                        return 1;
                }
        int stats_fd = first + 3 * (int)n;
        s.stats =
            mmap(NULL, WARD_SWITCH_STATS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, stats_fd, 0);
        if (s.stats == MAP_FAILED) {
                fprintf(stderr, "ward switch %s: the stats region: %s\n", name, strerror(errno));
                return 1;
        }
        close(stats_fd);
        /* A switch started again on the same network goes on from its
         * predecessor's counters (the supervisor keeps the region). */
        if (__atomic_load_n((uint64_t *)(void *)s.stats, __ATOMIC_ACQUIRE))
                memcpy(s.ports.vs.stats, s.stats + WARD_SWITCH_STATS_HDR,
                       n * sizeof(struct ward_vswitch_port_stats));
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigprocmask(SIG_BLOCK, &sigs, NULL);
        int sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
        if (sig_fd < 0) {
                fprintf(stderr, "ward switch %s: signalfd: %s\n", name, strerror(errno));
                return 1;
        }
        /* Mapped and open: the jail hides the rest, the list bounds what is left. */
        if ((jail->on && ward_jail_enter(jail, "switch", false, err, sizeof(err))) ||
            ward_seccomp_install(WARD_SECCOMP_BACKEND, seccomp, false, err, sizeof(err))) {
                fprintf(stderr, "ward switch %s: %s\n", name, err);
                return 1;
        }
        struct pollfd pfd[WARD_VSWITCH_MAX_PORTS + 1];
        uint64_t rounds = 0;
        /* Frames may be waiting from before a restart: look once before sleeping. */
        for (;;) {
                ward_switch_ports_drain(&s.ports, now_ms());
                publish_stats(&s, ++rounds);
                for (unsigned i = 0; i < n; i++)
                        pfd[i] = (struct pollfd){s.ports.dead[i] ? -1 : s.wake[i], POLLIN, 0};
                pfd[n] = (struct pollfd){sig_fd, POLLIN, 0};
                if (ward_poll(pfd, n + 1, -1) < 0 && errno != EINTR)
                        return 1;
                if (pfd[n].revents)
                        return 0;
                for (unsigned i = 0; i < n; i++) {
                        uint64_t cnt;
                        /* An eventfd that cannot be read: its VMM's port is gone. */
                        if (pfd[i].revents && read(s.wake[i], &cnt, sizeof(cnt)) < 0 &&
                            errno != EAGAIN)
                                ward_switch_ports_leave_out(&s.ports, i);
                }
        }
}
