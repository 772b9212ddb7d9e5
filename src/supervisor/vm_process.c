/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The supervisor's VMM processes: one `ward run --system-fd` process per VM
 * (fork + exec, its own process group, stdin a socket for console input,
 * stdout and stderr to DIR/NAME.log, the inherited description text,
 * shared-memory and doorbell descriptors, host CPU pinning and the
 * cgroup), stopping them, and the restart policy when they exit.
 */
#include "supervisor_internal.h"
#include "ward/host/linux/cgroup.h"
#include "ward/host/linux/jail.h"
#include "ward/desc/vm_config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_from(int lowfd)
{
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
                return;
#endif
        for (int fd = lowfd; fd < 4096; fd++)
                close(fd);
}

void ward_sup_pass_fds(const int *src, size_t nsrc)
{
        int tmp[MAX_IPC > MAX_SWITCH_IPC ? MAX_IPC : MAX_SWITCH_IPC];
        for (size_t k = 0; k < nsrc; k++) {
                /* First out of the way of the targets, so no dup2 hits a source. */
                tmp[k] = fcntl(src[k], F_DUPFD_CLOEXEC, 3 + (int)nsrc);
                if (tmp[k] < 0)
                        _exit(126);
        }
        for (size_t k = 0; k < nsrc; k++)
                if (dup2(tmp[k], 3 + (int)k) < 0)
                        _exit(126);
        close_from(3 + (int)nsrc);
}

bool ward_sup_jailed(const struct ward_sup *s, const struct vm_rt *v)
{
        /* Tests' stand-in VMMs (fake_argv) are not jailed. */
        return !s->cfg.fake_argv && s->d && ward_sys_vm_jail(s->d, (size_t)(v->d - s->d->vms)).on;
}

/* The VM's /linux/vms/NAME entry, or NULL. */
const struct ward_sys_linux_vm *ward_sup_linux_vm(const struct ward_sup *s, const char *name)
{
        for (size_t i = 0; i < s->d->linux_opts.nvms; i++)
                if (s->d->linux_opts.vms[i].vm && !strcmp(s->d->linux_opts.vms[i].vm, name))
                        return &s->d->linux_opts.vms[i];
        return NULL;
}

/*
 * host_cpus: the child pins itself before exec, so the VMM's vCPU and I/O
 * threads inherit the mask (the checker has kept the numbers in range).
 */
static void pin_child(const struct ward_sys_linux_vm *lv, const char *name)
{
        if (!lv || !lv->host_cpus_set)
                return;
        cpu_set_t set;
        CPU_ZERO(&set);
        for (size_t k = 0; k < lv->nhost_cpus; k++)
                if (lv->host_cpus[k].ok && lv->host_cpus[k].cpu >= 0 &&
                    lv->host_cpus[k].cpu < CPU_SETSIZE)
                        CPU_SET((int)lv->host_cpus[k].cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set)) {
                dprintf(2, "ward supervisor: vm %s: linux host_cpus: %s\n", name, strerror(errno));
                _exit(126);
        }
}

/*
 * The argv to exec for v, and the descriptors it inherits in src (src[k]
 * becomes fd 3 + k): the description's text, then the shared regions and
 * doorbells and the NICs' ports in the order ward_sys_vm_config() gives them. The VMM builds
 * its VM config from the same text with the same function: nothing is
 * re-encoded as `ward run` options. NULL with the reason in v->launch_error.
 */
static char *const *launch_argv(struct ward_sup *s, struct vm_rt *v, char **argv, int *src,
                                size_t *nsrc)
{
        static struct ward_sys_vm_config vc;
        if (s->cfg.fake_argv)
                return s->cfg.fake_argv(s->cfg.ctx, v->d->name);
        if (s->desc_fd < 0) {
                snprintf(v->launch_error, sizeof(v->launch_error),
                         "vm %s: no description text to hand over", v->d->name);
                return NULL;
        }
        if (ward_sys_vm_config(s->d, v->d->name, s->desc_dir, 4, &vc, v->launch_error,
                               sizeof(v->launch_error)))
                return NULL;
        *nsrc = 0;
        src[(*nsrc)++] = s->desc_fd;
        for (unsigned k = 0; k < vc.cfg.nshm; k++)
                src[(*nsrc)++] = s->shm_fd[vc.shm_src[k]];
        for (unsigned k = 0; k < vc.cfg.ndoorbells; k++)
                src[(*nsrc)++] = s->db_fd[vc.db_src[k]][vc.db_end[k]];
        for (unsigned k = 0; k < vc.cfg.nnets; k++) {
                ward_sup_net_port_fds(s, vc.net_src[k], vc.net_port[k], src + *nsrc);
                *nsrc += 3;
        }
        size_t n = 0;
        argv[n++] = s->exe;
        argv[n++] = "run";
        argv[n++] = "--system-fd";
        argv[n++] = "3";
        argv[n++] = "--system-dir";
        argv[n++] = s->desc_dir;
        argv[n++] = "--vm";
        argv[n++] = (char *)v->d->name;
        argv[n] = NULL;
        return argv;
}

/* The child: its own process group, stdin from in_fd, output to the log,
 * the descriptors in src, host CPUs and cgroup, then the VMM. */
static _Noreturn void exec_child(struct ward_sup *s, struct vm_rt *v, pid_t parent, int in_fd,
                                 const int *src, size_t nsrc, char *const *argv)
{
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The supervisor may have died before that: then the child is
         * another's. In a PID namespace of its own its parent is 0 (outside). */
        if (getppid() != parent)
                _exit(1);
        int log = open(v->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log < 0)
                _exit(126);
        dup2(in_fd, 0);
        dup2(log, 1);
        dup2(log, 2);
        ward_sup_pass_fds(src, nsrc); /* and closes everything else */
        pin_child(s->d ? ward_sup_linux_vm(s, v->d->name) : NULL, v->d->name);
        if (v->cgroup[0] && ward_cgroup_join(v->cgroup)) {
                dprintf(2, "ward supervisor: vm %s: cgroup %s: %s\n", v->d->name, v->cgroup,
                        strerror(errno));
                _exit(126);
        }
        sigset_t none;
        sigemptyset(&none);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        dprintf(2, "ward supervisor: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

int ward_sup_launch(struct ward_sup *s, struct vm_rt *v)
{
        int src[MAX_IPC];
        size_t nsrc = 0;
        char *argv_buf[MAX_ARGS];
        v->launch_error[0] = '\0';
        char *const *argv = launch_argv(s, v, argv_buf, src, &nsrc);
        if (!argv) {
                if (!v->launch_error[0])
                        snprintf(v->launch_error, sizeof(v->launch_error), "vm %s: no command",
                                 v->d->name);
                v->state = ST_FAILED;
                return -1;
        }
        /*
         * The VMM's stdin is a socket whose other end the supervisor keeps:
         * `console` requests with input write to it (MSG_NOSIGNAL, MSG_DONTWAIT,
         * so a dead or stalled VMM cannot stop the supervisor).
         */
        int in[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in)) {
                snprintf(v->launch_error, sizeof(v->launch_error), "vm %s: socketpair: %s",
                         v->d->name, strerror(errno));
                v->state = ST_FAILED;
                return -1;
        }
        shutdown(in[0], SHUT_RD);
        shutdown(in[1], SHUT_WR);
        pid_t parent = getpid();
        bool jailed = ward_sup_jailed(s, v);
        /* A jailed VMM is process 1 of a PID namespace of its own (jail.h). */
        pid_t pid = jailed ? ward_jail_fork_pid_ns() : fork();
        if (pid < 0) {
                snprintf(v->launch_error, sizeof(v->launch_error), "vm %s: fork: %s", v->d->name,
                         strerror(errno));
                close(in[0]);
                close(in[1]);
                v->state = ST_FAILED;
                return -1;
        }
        if (pid == 0)
                exec_child(s, v, jailed ? 0 : parent, in[1], src, nsrc, argv);
        setpgid(pid, pid);
        close(in[1]);
        v->in_fd = in[0];
        v->pid = pid;
        v->state = ST_RUNNING;
        v->stop_requested = false;
        v->start_after_stop = false;
        return 0;
}

void ward_sup_close_input(struct vm_rt *v)
{
        if (v->in_fd >= 0)
                close(v->in_fd);
        v->in_fd = -1;
}

void ward_sup_begin_stop(struct vm_rt *v, int64_t grace_ms)
{
        if (v->state == ST_RESTARTING || v->pid <= 0) {
                v->state = ST_STOPPED;
                return;
        }
        bool paused = v->state == ST_PAUSED;
        v->stop_requested = true;
        v->state = ST_STOPPING;
        if (grace_ms == 0) {
                kill(-v->pid, SIGKILL);
                v->kill_at = INT64_MAX;
        } else {
                kill(-v->pid, SIGTERM);
                v->kill_at = ward_ctl_now_ms() + grace_ms;
        }
        if (paused)
                kill(-v->pid, SIGCONT);
}

/*
 * The system call that a VMM killed by SIGSYS made: its allow-list's
 * handler wrote "ward: seccomp: system call NAME (NR) ..." to stderr, which
 * is the end of its log. "?" when the log does not say.
 */
static void seccomp_call(const char *log, char *out, size_t outlen)
{
        snprintf(out, outlen, "?");
        int fd = open(log, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        char tail[4097];
        off_t end = lseek(fd, 0, SEEK_END);
        off_t from = end > 4096 ? end - 4096 : 0;
        ssize_t n = end > 0 ? pread(fd, tail, sizeof(tail) - 1, from) : 0;
        close(fd);
        if (n <= 0)
                return;
        tail[n] = '\0';
        const char *key = "ward: seccomp: system call ", *p = NULL;
        for (const char *q = tail; (q = strstr(q, key)); q++)
                p = q; /* the last one */
        if (!p)
                return;
        p += strlen(key);
        size_t k = strcspn(p, ")\r\n");
        snprintf(out, outlen, "%.*s%s", (int)k, p, p[k] == ')' ? ")" : "");
}

/* One line in the supervisor's log (its stderr) for a VMM that failed. */
static void report_exit(const struct vm_rt *v, int st)
{
        if (WIFEXITED(st)) {
                if (WEXITSTATUS(st))
                        fprintf(stderr, "ward: %s: exited with status %d\n", v->d->name,
                                WEXITSTATUS(st));
        } else if (WTERMSIG(st) == SIGSYS) {
                char call[96];
                seccomp_call(v->log, call, sizeof(call));
                fprintf(stderr,
                        "ward: %s: killed by SIGSYS: system call %s is not on its seccomp "
                        "allow-list\n",
                        v->d->name, call);
        } else {
                fprintf(stderr, "ward: %s: killed by signal %d\n", v->d->name, WTERMSIG(st));
        }
}

static void exited(struct ward_sup *s, struct vm_rt *v, int st)
{
        /* Whatever is left of its process group goes with it. */
        kill(-v->pid, SIGKILL);
        v->pid = 0;
        ward_sup_close_input(v);
        if (!v->stop_requested)
                report_exit(v, st);
        if (WIFEXITED(st)) {
                v->last_kind = 1;
                v->last_val = WEXITSTATUS(st);
        } else {
                v->last_kind = 2;
                v->last_val = WTERMSIG(st);
        }
        if (v->stop_requested) {
                v->stop_requested = false;
                v->state = ST_STOPPED;
                if (v->start_after_stop && !s->shutting_down)
                        ward_sup_launch(s, v);
                return;
        }
        bool failed = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (!failed) {
                v->state = ST_STOPPED;
        } else if (v->d->policy.on_failure == WARD_SYS_ON_FAILURE_RESTART && !s->shutting_down &&
                   v->restarts < v->d->policy.max_restarts) {
                v->state = ST_RESTARTING;
                v->restart_at = ward_ctl_now_ms() + v->d->policy.restart_backoff_ms;
        } else {
                v->state = ST_FAILED;
        }
}

void ward_sup_reap(struct ward_sup *s)
{
        ward_sup_reap_switches(s);
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                int st;
                if (v->pid > 0 && waitpid(v->pid, &st, WNOHANG) == v->pid)
                        exited(s, v, st);
        }
}
