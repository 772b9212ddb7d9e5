/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The description's networks under ward system up. Each port is a net port
 * (a memfd and an eventfd each way, port_linux.h) that the supervisor makes
 * once and keeps: the VM's VMM gets one side, the network's switch the
 * other. The switch is a process of its own (`ward switch`); when it dies
 * the supervisor starts another on the same ports, so the VMs keep their
 * NICs and lose at most the frames that were in flight.
 */
#include "supervisor_internal.h"

#include "ward/host/linux/jail.h"
#include "ward/host/linux/switch_process.h"
#include "ward/port/port_net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int launch_switch(struct ward_sup *s, struct net_rt *n)
{
        int src[MAX_SWITCH_IPC];
        size_t k = 0;
        src[k++] = s->desc_fd;
        for (size_t j = 0; j < n->d->nports; j++) {
                ward_sup_net_port_fds(s, (size_t)(n - s->nets), j, src + k);
                k += 3;
        }
        src[k++] = n->stats_fd;
        const struct ward_sys_linux *lo = &s->d->linux_opts;
        /* Jailed as a VMM is (when the supervisor can: as root), with an id of its own. */
        bool jailed = geteuid() == 0;
        char uid[24];
        snprintf(uid, sizeof(uid), "%lld",
                 (long long)(WARD_SYS_JAIL_ID_BASE + WARD_SYS_MAX_VMS + (n - s->nets)));
        char *argv[] = {
            s->exe,
            "switch",
            "--system-fd",
            "3",
            "--network",
            (char *)n->d->name,
            "--seccomp",
            (char *)ward_seccomp_mode_names[lo->seccomp >= 0 && lo->seccomp < 3 ? lo->seccomp : 0],
            jailed ? "--jail" : NULL,
            uid,
            NULL};
        pid_t parent = getpid();
        pid_t pid = jailed ? ward_jail_fork_pid_ns() : fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* In a PID namespace of its own its parent is 0 (outside). */
                if (getppid() != (jailed ? 0 : parent))
                        _exit(1);
                int log = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                int null = open("/dev/null", O_RDONLY);
                if (log < 0 || null < 0)
                        _exit(126);
                dup2(null, 0);
                dup2(log, 1);
                dup2(log, 2);
                ward_sup_pass_fds(src, k);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execv(argv[0], argv);
                dprintf(2, "ward supervisor: %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        n->pid = pid;
        return 0;
}

void ward_sup_net_port_fds(const struct ward_sup *s, size_t i, size_t j, int out[3])
{
        const struct ward_port_linux *p = &s->nets[i].port[j];
        out[0] = p->mem_fd;
        out[1] = p->to_server;
        out[2] = p->to_client;
}

int ward_sup_make_networks(struct ward_sup *s, char *err, size_t errlen)
{
        const struct ward_sys_desc *d = s->d;
        if (!d || d->nnetworks == 0)
                return 0;
        s->nets = calloc(d->nnetworks, sizeof(*s->nets));
        if (!s->nets) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        s->nnets = d->nnetworks;
        size_t bytes = ward_net_port_region_bytes(WARD_NET_PORT_RING);
        for (size_t i = 0; i < s->nnets; i++) {
                struct net_rt *n = &s->nets[i];
                n->d = &d->networks[i];
                n->stats_fd = -1;
                for (size_t j = 0; j < WARD_SYS_MAX_NET_PORTS; j++)
                        n->port[j] = (struct ward_port_linux){
                            .mem_fd = -1, .to_server = -1, .to_client = -1, .ctl = {-1, -1}};
                for (size_t j = 0; j < n->d->nports && j < WARD_SYS_MAX_NET_PORTS; j++) {
                        char name[64];
                        snprintf(name, sizeof(name), "ward-net-%s-%zu", n->d->name, j);
                        if (ward_port_linux_create(&n->port[j], name, bytes, err, errlen))
                                return -1;
                }
                n->stats_fd = memfd_create("ward-net-stats", MFD_CLOEXEC);
                void *st = MAP_FAILED;
                if (n->stats_fd >= 0 && ftruncate(n->stats_fd, WARD_SWITCH_STATS_BYTES) == 0)
                        st = mmap(NULL, WARD_SWITCH_STATS_BYTES, PROT_READ, MAP_SHARED, n->stats_fd,
                                  0);
                if (st == MAP_FAILED) {
                        snprintf(err, errlen, "network %s: its counters: %s", n->d->name,
                                 strerror(errno));
                        return -1;
                }
                n->stats = st;
                if (snprintf(n->log, sizeof(n->log), "%s/switch-%s.log", s->log_dir, n->d->name) >=
                    (int)sizeof(n->log)) {
                        snprintf(err, errlen, "%s: path too long", s->log_dir);
                        return -1;
                }
                if (launch_switch(s, n)) {
                        snprintf(err, errlen, "network %s: starting its switch: %s", n->d->name,
                                 strerror(errno));
                        return -1;
                }
        }
        return 0;
}

void ward_sup_reap_switches(struct ward_sup *s)
{
        for (size_t i = 0; i < s->nnets; i++) {
                struct net_rt *n = &s->nets[i];
                int st;
                if (n->pid <= 0 || waitpid(n->pid, &st, WNOHANG) != n->pid)
                        continue;
                pid_t old = n->pid;
                n->pid = 0;
                if (s->shutting_down)
                        continue;
                if (n->restarts >= MAX_SWITCH_RESTARTS) {
                        fprintf(stderr,
                                "ward: network %s: its switch %d ended; %d restarts already, no "
                                "more: the network is down\n",
                                n->d->name, (int)old, MAX_SWITCH_RESTARTS);
                        continue;
                }
                n->restarts++;
                if (launch_switch(s, n))
                        fprintf(stderr, "ward: network %s: restarting its switch: %s\n", n->d->name,
                                strerror(errno));
                else
                        fprintf(stderr,
                                "ward: network %s: its switch %d ended (%s %d); switch %d took "
                                "over\n",
                                n->d->name, (int)old, WIFSIGNALED(st) ? "signal" : "status",
                                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), (int)n->pid);
        }
}

void ward_sup_free_networks(struct ward_sup *s)
{
        for (size_t i = 0; i < s->nnets; i++) {
                struct net_rt *n = &s->nets[i];
                if (n->pid > 0) {
                        kill(n->pid, SIGKILL);
                        waitpid(n->pid, NULL, 0);
                        n->pid = 0;
                }
                for (size_t j = 0; j < WARD_SYS_MAX_NET_PORTS; j++)
                        ward_port_linux_close(&n->port[j]);
                if (n->stats)
                        munmap((void *)(uintptr_t)n->stats, WARD_SWITCH_STATS_BYTES);
                if (n->stats_fd >= 0)
                        close(n->stats_fd);
        }
        free(s->nets);
        s->nets = NULL;
        s->nnets = 0;
}
