/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The supervisor: one `ward run` process per VM (fork + exec, its own
 * process group, stdin /dev/null, stdout and stderr to DIR/NAME.log), the
 * restart policy, and the control API's server. One thread, one poll loop:
 * the listening socket, the clients, and a signalfd for SIGCHLD (and for
 * SIGTERM, SIGINT, SIGHUP, which shut the system down).
 */
#include "ward/supervisor/supervisor.h"

#include "ward/cgroup_cpu.h"
#include "ward/supervisor/control_api.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define CLIENT_TIMEOUT_MS 10000 /* to send a whole request */
#define DRAIN_MS 2000           /* reading what is left after the reply */
#define MAX_ARGS 64
#define MAX_IPC (WARD_MAX_SHM + WARD_MAX_DOORBELLS) /* inherited fds per VMM */
/* The checker promises what ward run takes. */
_Static_assert(WARD_SYS_LINUX_MAX_SHM == WARD_MAX_SHM, "shared-region limits differ");
_Static_assert(WARD_SYS_LINUX_MAX_DOORBELLS == WARD_MAX_DOORBELLS, "doorbell limits differ");

enum vm_state { ST_STOPPED, ST_RUNNING, ST_PAUSED, ST_STOPPING, ST_FAILED, ST_RESTARTING };
static const char *const state_names[] = {"stopped",  "running", "paused",
                                          "stopping", "failed",  "restarting"};

struct vm_rt {
        const struct ward_sys_vm *d;
        enum vm_state state;
        pid_t pid;
        long long restarts;
        int last_kind; /* 0 none, 1 exit status, 2 signal */
        int last_val;
        bool stop_requested, start_after_stop;
        int64_t kill_at, restart_at;
        int in_fd;             /* the supervisor's end of the VMM's stdin (console input), -1 */
        char cgroup[PATH_MAX]; /* the VM's cgroup (cpu_max_us), "" none */
        char log[PATH_MAX];
        char launch_error[256];
};

enum client_phase { C_READ, C_WAIT, C_WRITE, C_DRAIN };

struct client {
        int fd;
        enum client_phase phase;
        char *in;
        size_t n;
        char *out;
        size_t outn, outoff;
        int wait_vm; /* C_WAIT: the VM whose stop or restart ends the request, -1 */
        bool wait_shutdown;
        int64_t deadline;
};

struct ward_sup {
        const struct ward_sys_desc *d;
        struct ward_sup_config cfg;
        char socket_path[PATH_MAX], log_dir[PATH_MAX], desc_dir[PATH_MAX], exe[PATH_MAX];
        int lfd, sfd;
        sigset_t oldmask;
        struct vm_rt *vms;
        size_t nvms;
        struct client clients[MAX_CLIENTS];
        size_t nclients;
        bool shutting_down, done;
        int64_t shutdown_grace_ms;
        int *shm_fd;           /* one memfd per shared region, -1: none */
        int (*db_fd)[2];       /* one socketpair per doorbell: [0] from, [1] to */
        char cg_dir[PATH_MAX]; /* ROOT/ward/sup-PID when a VM has cpu_max_us, else "" */
};

/* --- the command line of one VMM ------------------------------------------ */

static const char *put(char **p, char *end, const char *fmt, const char *a)
{
        int n = snprintf(*p, (size_t)(end - *p), fmt, a);
        if (n < 0 || n >= end - *p)
                return NULL;
        const char *s = *p;
        *p += n + 1;
        return s;
}

int ward_sup_run_argv(const struct ward_sys_vm *vm, const char *exe, const char *desc_dir,
                      char **argv, size_t max, char *buf, size_t bufsize, char *err, size_t errlen)
{
        if (vm->nmemory < 1 || vm->nmemory > 1 + WARD_MAX_RAM_EXTRA) {
                snprintf(err, errlen, "vm %s: ward run takes 1 to %d RAM regions, not %zu",
                         vm->name, 1 + WARD_MAX_RAM_EXTRA, vm->nmemory);
                return -1;
        }
        char *p = buf, *end = buf + bufsize;
        size_t n = 0;
        char path[PATH_MAX], num[32];
#define ARG(fmt, a)                                                                                \
        do {                                                                                       \
                const char *s_ = put(&p, end, fmt, a);                                             \
                if (!s_ || n + 2 > max)                                                            \
                        goto too_long;                                                             \
                argv[n++] = (char *)s_;                                                            \
        } while (0)
#define PATHARG(a)                                                                                 \
        do {                                                                                       \
                if (ward_sys_path_join(desc_dir, a, path, sizeof(path)))                           \
                        goto too_long;                                                             \
                ARG("%s", path);                                                                   \
        } while (0)
        ARG("%s", exe);
        ARG("%s", "run");
        ARG("%s", "--kernel");
        PATHARG(vm->kernel);
        if (vm->initrd) {
                ARG("%s", "--initrd");
                PATHARG(vm->initrd);
        }
        if (vm->cmdline) {
                ARG("%s", "--cmdline");
                ARG("%s", vm->cmdline);
        }
        /* The first region is the boot RAM (the checker kept it 2M aligned). */
        ARG("%s", "--mem");
        snprintf(num, sizeof(num), "%lluK", (unsigned long long)(vm->memory[0].size >> 10));
        ARG("%s", num);
        if (vm->memory[0].gpa != WARD_SYS_DEFAULT_RAM_GPA) {
                ARG("%s", "--mem-at");
                snprintf(num, sizeof(num), "0x%llx", (unsigned long long)vm->memory[0].gpa);
                ARG("%s", num);
        }
        for (size_t i = 1; i < vm->nmemory; i++) {
                ARG("%s", "--ram");
                snprintf(num, sizeof(num), "0x%llx:%lluK", (unsigned long long)vm->memory[i].gpa,
                         (unsigned long long)(vm->memory[i].size >> 10));
                ARG("%s", num);
        }
        ARG("%s", "--cpus");
        snprintf(num, sizeof(num), "%lld", (long long)vm->cpus);
        ARG("%s", num);
        for (size_t i = 0; i < vm->ndisks; i++) {
                if (strchr(vm->disks[i].path, ',')) {
                        snprintf(err, errlen,
                                 "vm %s: disk %zu: ward run cannot take a path with a comma",
                                 vm->name, i);
                        return -1;
                }
                if (ward_sys_path_join(desc_dir, vm->disks[i].path, path, sizeof(path)))
                        goto too_long;
                ARG("%s", "--disk");
                ARG(vm->disks[i].read_only ? "%s,ro" : "%s", path);
        }
        if (vm->console == WARD_CONSOLE_VIRTIO) {
                ARG("%s", "--console");
                ARG("%s", "virtio");
        }
        if (!vm->rng)
                ARG("%s", "--no-rng");
        argv[n] = NULL;
        return (int)n;
too_long:
        snprintf(err, errlen, "vm %s: the ward run command line is too long", vm->name);
        return -1;
#undef ARG
#undef PATHARG
}

int ward_sup_check_runnable(const struct ward_sys_desc *d, const char *desc_dir, char *err,
                            size_t errlen)
{
        for (size_t i = 0; i < d->nvms; i++) {
                char *argv[MAX_ARGS];
                static char buf[65536];
                if (ward_sup_run_argv(&d->vms[i], "ward", desc_dir, argv, MAX_ARGS, buf,
                                      sizeof(buf), err, errlen) < 0)
                        return -1;
        }
        return 0;
}

/* --- VM processes ----------------------------------------------------------- */

static void close_from(int lowfd)
{
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
                return;
#endif
        for (int fd = lowfd; fd < 4096; fd++)
                close(fd);
}

/*
 * The shared regions and doorbells of one VM as `ward run` arguments. The
 * k-th inherited descriptor is fd 3 + k in the VMM; src[k] is the
 * supervisor's descriptor that becomes it. Regions come in the order of
 * the description's shared_regions (and maps), doorbells in the order of
 * its doorbells list (each one the VM is `from` or `to` of).
 */
static int ipc_args(struct ward_sup *s, struct vm_rt *v, char **argv, size_t *n, size_t max,
                    int *src, size_t *nsrc)
{
        static char buf[MAX_IPC][96];
        const struct ward_sys_desc *d = s->d;
        size_t nshm = 0, ndb = 0;
        *nsrc = 0;
        if (!s->shm_fd || !s->db_fd)
                return 0;
        for (size_t i = 0; i < d->nshared; i++)
                for (size_t j = 0; j < d->shared[i].nmaps; j++) {
                        const struct ward_sys_map *mp = &d->shared[i].maps[j];
                        if (!mp->vm || strcmp(mp->vm, v->d->name) != 0)
                                continue;
                        if (nshm == WARD_MAX_SHM || *n + 3 > max)
                                goto too_many;
                        snprintf(buf[*nsrc], sizeof(buf[0]), "%zu:0x%llx:0x%llx:%s", 3 + *nsrc,
                                 (unsigned long long)mp->gpa, (unsigned long long)d->shared[i].size,
                                 mp->access == WARD_SYS_ACCESS_RO ? "ro" : "rw");
                        argv[(*n)++] = "--shm";
                        argv[(*n)++] = buf[*nsrc];
                        src[(*nsrc)++] = s->shm_fd[i];
                        nshm++;
                }
        for (size_t i = 0; i < d->ndoorbells; i++)
                for (int end = 0; end < 2; end++) {
                        const char *who = end == 0 ? d->doorbells[i].from : d->doorbells[i].to;
                        if (!who || strcmp(who, v->d->name) != 0)
                                continue;
                        if (ndb == WARD_MAX_DOORBELLS || *n + 3 > max)
                                goto too_many;
                        snprintf(buf[*nsrc], sizeof(buf[0]), "%zu", 3 + *nsrc);
                        argv[(*n)++] = "--doorbell";
                        argv[(*n)++] = buf[*nsrc];
                        src[(*nsrc)++] = s->db_fd[i][end];
                        ndb++;
                }
        argv[*n] = NULL;
        return 0;
too_many:
        snprintf(v->launch_error, sizeof(v->launch_error),
                 "vm %s: ward run takes at most %d shared regions and %d doorbells", v->d->name,
                 WARD_MAX_SHM, WARD_MAX_DOORBELLS);
        return -1;
}

/* In the child: src[k] becomes fd 3 + k (without FD_CLOEXEC), the rest closes. */
static void pass_fds(const int *src, size_t nsrc)
{
        int tmp[MAX_IPC];
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

/* The VM's /linux/vms/NAME entry, or NULL. */
static const struct ward_sys_linux_vm *linux_vm(const struct ward_sup *s, const char *name)
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

static int launch(struct ward_sup *s, struct vm_rt *v)
{
        int src[MAX_IPC];
        size_t nsrc = 0;
        char *argv_buf[MAX_ARGS + 2 * MAX_IPC];
        char *const *argv = NULL;
        static char sbuf[65536];
        v->launch_error[0] = '\0';
        if (s->cfg.fake_argv) {
                argv = s->cfg.fake_argv(s->cfg.ctx, v->d->name);
        } else {
                int n = ward_sup_run_argv(v->d, s->exe, s->desc_dir, argv_buf, MAX_ARGS, sbuf,
                                          sizeof(sbuf), v->launch_error, sizeof(v->launch_error));
                size_t un = (size_t)n;
                if (n >= 0 &&
                    ipc_args(s, v, argv_buf, &un, MAX_ARGS + 2 * MAX_IPC, src, &nsrc) == 0)
                        argv = argv_buf;
        }
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
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(v->launch_error, sizeof(v->launch_error), "vm %s: fork: %s", v->d->name,
                         strerror(errno));
                close(in[0]);
                close(in[1]);
                v->state = ST_FAILED;
                return -1;
        }
        if (pid == 0) {
                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                int log = open(v->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (log < 0)
                        _exit(126);
                dup2(in[1], 0);
                dup2(log, 1);
                dup2(log, 2);
                pass_fds(src, nsrc); /* and closes everything else */
                pin_child(s->d ? linux_vm(s, v->d->name) : NULL, v->d->name);
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
        setpgid(pid, pid);
        close(in[1]);
        v->in_fd = in[0];
        v->pid = pid;
        v->state = ST_RUNNING;
        v->stop_requested = false;
        v->start_after_stop = false;
        return 0;
}

static void close_input(struct vm_rt *v)
{
        if (v->in_fd >= 0)
                close(v->in_fd);
        v->in_fd = -1;
}

static void begin_stop(struct vm_rt *v, int64_t grace_ms)
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

static void exited(struct ward_sup *s, struct vm_rt *v, int st)
{
        /* Whatever is left of its process group goes with it. */
        kill(-v->pid, SIGKILL);
        v->pid = 0;
        close_input(v);
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
                        launch(s, v);
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

static void reap(struct ward_sup *s)
{
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                int st;
                if (v->pid > 0 && waitpid(v->pid, &st, WNOHANG) == v->pid)
                        exited(s, v, st);
        }
}

/* --- replies ----------------------------------------------------------------- */

static struct json_object *vm_json(const struct vm_rt *v)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(v->d->name));
        json_object_object_add(o, "state", json_object_new_string(state_names[v->state]));
        json_object_object_add(o, "pid", v->pid > 0 ? json_object_new_int(v->pid) : NULL);
        json_object_object_add(o, "restarts", json_object_new_int64(v->restarts));
        struct json_object *le = NULL;
        if (v->last_kind) {
                le = json_object_new_object();
                json_object_object_add(le, v->last_kind == 1 ? "status" : "signal",
                                       json_object_new_int(v->last_val));
        }
        json_object_object_add(o, "last_exit", le);
        json_object_object_add(o, "console_log", json_object_new_string(v->log));
        if (v->launch_error[0])
                json_object_object_add(o, "error", json_object_new_string(v->launch_error));
        return o;
}

static struct json_object *reply_new(bool ok)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "api", json_object_new_int(WARD_CTL_API));
        json_object_object_add(o, "ok", json_object_new_boolean(ok));
        return o;
}

static void client_send(struct client *c, struct json_object *o)
{
        const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t n = strlen(t);
        free(c->out);
        c->out = malloc(n + 1);
        if (c->out) {
                memcpy(c->out, t, n);
                c->out[n] = '\n';
                c->outn = n + 1;
        } else {
                c->outn = 0;
        }
        c->outoff = 0;
        c->phase = C_WRITE;
        json_object_put(o);
}

static void client_error(struct client *c, const char *msg)
{
        struct json_object *o = reply_new(false);
        json_object_object_add(o, "error", json_object_new_string(msg));
        client_send(c, o);
}

static void client_vms(struct ward_sup *s, struct client *c, long only)
{
        struct json_object *o = reply_new(true), *a = json_object_new_array();
        for (size_t i = 0; i < s->nvms; i++)
                if (only < 0 || (size_t)only == i)
                        json_object_array_add(a, vm_json(&s->vms[i]));
        json_object_object_add(o, "vms", a);
        client_send(c, o);
}

/* Sends a console request's input to the VMM's stdin: whole, or an error. */
static int console_input(struct vm_rt *v, const struct ward_ctl_request *req, char *err,
                         size_t errlen)
{
        if (!req->input_len)
                return 0;
        if (v->in_fd < 0 || (v->state != ST_RUNNING && v->state != ST_PAUSED)) {
                snprintf(err, errlen, "vm %s: not running (%s); the input was not sent", v->d->name,
                         state_names[v->state]);
                return -1;
        }
        ssize_t w = send(v->in_fd, req->input, req->input_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)req->input_len)
                return 0;
        /* A short send or EAGAIN: the socket's buffer is full. */
        bool full = w >= 0 || errno == EAGAIN;
        snprintf(err, errlen, "vm %s: console input: %s; %zd of %zu bytes sent", v->d->name,
                 full ? "the VM is not reading it" : strerror(errno), w < 0 ? (ssize_t)0 : w,
                 req->input_len);
        return -1;
}

/*
 * The console op: input first, then the log from `from` (or its last
 * `bytes`), at most `bytes` of it. NUL and bytes outside ASCII are shown as
 * '?' (the reply is JSON text); control characters pass, escaped.
 */
static void console_reply(struct ward_sup *s, struct client *c, struct vm_rt *v,
                          const struct ward_ctl_request *req)
{
        (void)s;
        char err[512];
        if (console_input(v, req, err, sizeof(err))) {
                client_error(c, err);
                return;
        }
        struct json_object *o = reply_new(true);
        json_object_object_add(o, "vm", json_object_new_string(v->d->name));
        json_object_object_add(o, "state", json_object_new_string(state_names[v->state]));
        json_object_object_add(o, "console_log", json_object_new_string(v->log));
        int fd = open(v->log, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf = NULL;
        ssize_t got = 0;
        off_t size = 0, from = 0;
        if (fd >= 0 && fstat(fd, &st) == 0) {
                size = st.st_size;
                if (req->from >= 0)
                        from = req->from < size ? (off_t)req->from : size;
                else
                        from = size > req->bytes ? size - (off_t)req->bytes : 0;
                off_t n = size - from < req->bytes ? size - from : (off_t)req->bytes;
                buf = malloc((size_t)n + 1);
                got = buf ? pread(fd, buf, (size_t)n, from) : -1;
        }
        if (fd >= 0)
                close(fd);
        if (got < 0)
                got = 0;
        for (ssize_t i = 0; buf && i < got; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == 0 || ch >= 0x7f)
                        buf[i] = '?';
        }
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        json_object_object_add(o, "next", json_object_new_int64((int64_t)(from + got)));
        json_object_object_add(o, "data",
                               json_object_new_string_len(buf ? buf : "", buf ? (int)got : 0));
        free(buf);
        client_send(c, o);
}

/* start, or restart of a VM that is not running: a fresh restart count. */
static void start_vm(struct ward_sup *s, struct client *c, struct vm_rt *v, long i)
{
        v->restarts = 0;
        if (launch(s, v))
                client_error(c, v->launch_error);
        else
                client_vms(s, c, i);
}

static void handle(struct ward_sup *s, struct client *c, const char *text, size_t len)
{
        struct ward_ctl_request req;
        char err[512];
        if (ward_ctl_parse_request(text, len, &req, err, sizeof(err)) ||
            ward_ctl_validate(&req, s->d, err, sizeof(err))) {
                client_error(c, err);
                return;
        }
        long i = req.vm[0] ? ward_sys_find_vm(s->d, req.vm) : -1;
        struct vm_rt *v = i >= 0 ? &s->vms[i] : NULL;
        bool mutating = req.op == WARD_CTL_START || req.op == WARD_CTL_STOP ||
                        req.op == WARD_CTL_PAUSE || req.op == WARD_CTL_RESUME ||
                        req.op == WARD_CTL_RESTART;
        if (s->shutting_down && (mutating || req.op == WARD_CTL_SHUTDOWN) &&
            req.op != WARD_CTL_SHUTDOWN) {
                client_error(c, "the supervisor is shutting down");
                return;
        }
        if (v && mutating && v->state == ST_STOPPING) {
                snprintf(err, sizeof(err), "vm %s: a stop is in progress", v->d->name);
                client_error(c, err);
                return;
        }
        switch (req.op) {
        case WARD_CTL_LIST:
        case WARD_CTL_STATUS:
                client_vms(s, c, i);
                return;
        case WARD_CTL_START:
                if (v->pid > 0) {
                        snprintf(err, sizeof(err), "vm %s: already %s (pid %d)", v->d->name,
                                 state_names[v->state], (int)v->pid);
                        client_error(c, err);
                        return;
                }
                start_vm(s, c, v, i);
                return;
        case WARD_CTL_STOP:
        case WARD_CTL_RESTART:
                if (v->pid <= 0) {
                        if (req.op == WARD_CTL_RESTART) {
                                start_vm(s, c, v, i);
                                return;
                        }
                        if (v->state == ST_RESTARTING)
                                v->state = ST_STOPPED;
                        else {
                                snprintf(err, sizeof(err), "vm %s: not running (%s)", v->d->name,
                                         state_names[v->state]);
                                client_error(c, err);
                                return;
                        }
                        client_vms(s, c, i);
                        return;
                }
                begin_stop(v, req.grace_ms);
                v->start_after_stop = req.op == WARD_CTL_RESTART;
                if (req.op == WARD_CTL_RESTART)
                        v->restarts = 0;
                c->phase = C_WAIT;
                c->wait_vm = (int)i;
                return;
        case WARD_CTL_PAUSE:
        case WARD_CTL_RESUME: {
                enum vm_state from = req.op == WARD_CTL_PAUSE ? ST_RUNNING : ST_PAUSED;
                if (v->state != from) {
                        snprintf(err, sizeof(err), "vm %s: not %s (%s)", v->d->name,
                                 state_names[from], state_names[v->state]);
                        client_error(c, err);
                        return;
                }
                kill(-v->pid, req.op == WARD_CTL_PAUSE ? SIGSTOP : SIGCONT);
                v->state = req.op == WARD_CTL_PAUSE ? ST_PAUSED : ST_RUNNING;
                client_vms(s, c, i);
                return;
        }
        case WARD_CTL_CONSOLE:
                console_reply(s, c, v, &req);
                return;
        case WARD_CTL_SHUTDOWN:
                if (!s->shutting_down)
                        s->shutdown_grace_ms = req.grace_ms;
                ward_sup_request_shutdown(s);
                c->phase = C_WAIT;
                c->wait_shutdown = true;
                return;
        case WARD_CTL_NOPS:
                break;
        }
        client_error(c, "internal error");
}

void ward_sup_request_shutdown(struct ward_sup *s)
{
        if (s->shutting_down)
                return;
        s->shutting_down = true;
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                v->start_after_stop = false;
                if (v->state == ST_RESTARTING)
                        v->state = ST_STOPPED;
                else if (v->pid > 0 && v->state != ST_STOPPING)
                        begin_stop(v, s->shutdown_grace_ms);
        }
}

/* --- the loop ---------------------------------------------------------------- */

static void client_close(struct ward_sup *s, size_t k)
{
        struct client *c = &s->clients[k];
        close(c->fd);
        free(c->in);
        free(c->out);
        s->clients[k] = s->clients[--s->nclients];
}

static void accept_clients(struct ward_sup *s)
{
        for (;;) {
                int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                if (s->nclients == MAX_CLIENTS) {
                        static const char busy[] =
                            "{\"api\":1,\"ok\":false,\"error\":\"too many clients\"}\n";
                        (void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
                        close(fd);
                        continue;
                }
                s->clients[s->nclients++] = (struct client){
                    .fd = fd, .wait_vm = -1, .deadline = ward_ctl_now_ms() + CLIENT_TIMEOUT_MS};
        }
}

static void client_read(struct ward_sup *s, struct client *c)
{
        char buf[8192];
        for (;;) {
                ssize_t r = read(c->fd, buf, sizeof(buf));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 && errno == EAGAIN)
                        return;
                if (c->phase == C_DRAIN) {
                        if (r <= 0)
                                c->deadline = 0; /* done: closed below */
                        if (r <= 0)
                                return;
                        continue;
                }
                if (r <= 0) {
                        if (c->n == 0)
                                c->deadline = 0;
                        else
                                handle(s, c, c->in, c->n);
                        return;
                }
                size_t take = (size_t)r;
                char *nl = memchr(buf, '\n', take);
                if (nl)
                        take = (size_t)(nl - buf) + 1;
                if (c->n + take > WARD_CTL_MAX_REQUEST) {
                        char e[80];
                        snprintf(e, sizeof(e), "the request is larger than %d bytes",
                                 WARD_CTL_MAX_REQUEST);
                        client_error(c, e);
                        return;
                }
                char *ni = realloc(c->in, c->n + take);
                if (!ni) {
                        client_error(c, "out of memory");
                        return;
                }
                c->in = ni;
                memcpy(c->in + c->n, buf, take);
                c->n += take;
                if (nl) {
                        handle(s, c, c->in, c->n);
                        return;
                }
        }
}

static void client_write(struct client *c)
{
        while (c->outoff < c->outn) {
                ssize_t w = send(c->fd, c->out + c->outoff, c->outn - c->outoff,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return;
                if (w <= 0) {
                        c->deadline = 0;
                        return;
                }
                c->outoff += (size_t)w;
        }
        shutdown(c->fd, SHUT_WR);
        c->phase = C_DRAIN;
        c->deadline = ward_ctl_now_ms() + DRAIN_MS;
}

static void settle_waits(struct ward_sup *s)
{
        bool all_down = true;
        for (size_t i = 0; i < s->nvms; i++)
                if (s->vms[i].pid > 0)
                        all_down = false;
        for (size_t k = 0; k < s->nclients; k++) {
                struct client *c = &s->clients[k];
                if (c->phase != C_WAIT)
                        continue;
                if (c->wait_shutdown && all_down) {
                        client_vms(s, c, -1);
                } else if (c->wait_vm >= 0 && s->vms[c->wait_vm].state != ST_STOPPING) {
                        struct vm_rt *v = &s->vms[c->wait_vm];
                        if (v->launch_error[0] && v->state == ST_FAILED)
                                client_error(c, v->launch_error);
                        else
                                client_vms(s, c, c->wait_vm);
                }
        }
}

static void timers(struct ward_sup *s, int64_t t)
{
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                if (v->state == ST_STOPPING && v->pid > 0 && t >= v->kill_at) {
                        kill(-v->pid, SIGKILL);
                        v->kill_at = INT64_MAX;
                }
                if (v->state == ST_RESTARTING && t >= v->restart_at) {
                        v->restarts++;
                        launch(s, v);
                }
        }
}

static int64_t next_deadline(struct ward_sup *s)
{
        int64_t d = INT64_MAX;
        for (size_t i = 0; i < s->nvms; i++) {
                const struct vm_rt *v = &s->vms[i];
                if (v->state == ST_STOPPING && v->kill_at < d)
                        d = v->kill_at;
                if (v->state == ST_RESTARTING && v->restart_at < d)
                        d = v->restart_at;
        }
        for (size_t k = 0; k < s->nclients; k++)
                if (s->clients[k].phase != C_WAIT && s->clients[k].deadline < d)
                        d = s->clients[k].deadline;
        return d;
}

bool ward_sup_poll(struct ward_sup *s, int timeout_ms)
{
        if (s->done)
                return true;
        struct pollfd p[2 + MAX_CLIENTS];
        p[0] = (struct pollfd){.fd = s->sfd, .events = POLLIN};
        p[1] = (struct pollfd){.fd = s->shutting_down ? -1 : s->lfd, .events = POLLIN};
        size_t nc = s->nclients;
        for (size_t k = 0; k < nc; k++) {
                struct client *c = &s->clients[k];
                short ev = c->phase == C_WRITE ? POLLOUT : c->phase == C_WAIT ? 0 : POLLIN;
                p[2 + k] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        int64_t t = ward_ctl_now_ms(), dl = next_deadline(s);
        int wait = timeout_ms;
        if (dl != INT64_MAX) {
                int64_t left = dl > t ? dl - t : 0;
                if (wait < 0 || left < wait)
                        wait = (int)left;
        }
        if (wait < 0 || wait > 1000)
                wait = 1000; /* exits are also noticed by polling, at least once a second */
        int pr = poll(p, 2 + nc, wait);
        if (pr < 0 && errno != EINTR)
                return false;
        if (pr > 0 && (p[0].revents & POLLIN)) {
                struct signalfd_siginfo si;
                while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                        if (si.ssi_signo != SIGCHLD)
                                ward_sup_request_shutdown(s);
        }
        reap(s);
        if (pr > 0) {
                for (size_t k = 0; k < nc; k++) {
                        struct client *c = &s->clients[k];
                        if (!p[2 + k].revents)
                                continue;
                        if (c->phase == C_READ || c->phase == C_DRAIN)
                                client_read(s, c);
                        if (c->phase == C_WRITE)
                                client_write(c);
                }
                if (p[1].revents & POLLIN)
                        accept_clients(s);
        }
        t = ward_ctl_now_ms();
        timers(s, t);
        settle_waits(s);
        for (size_t k = 0; k < s->nclients;) {
                struct client *c = &s->clients[k];
                if (c->phase == C_WRITE)
                        client_write(c);
                if (c->phase != C_WAIT && t >= c->deadline) {
                        if (c->phase == C_READ && c->deadline != 0 && c->n) {
                                client_error(c, "the request did not end (no newline)");
                                client_write(c);
                                c->deadline = 0;
                        }
                        client_close(s, k);
                        continue;
                }
                k++;
        }
        if (s->shutting_down) {
                bool busy = false;
                for (size_t i = 0; i < s->nvms; i++)
                        busy |= s->vms[i].pid > 0;
                for (size_t k = 0; k < s->nclients; k++)
                        busy |= s->clients[k].phase == C_WAIT || s->clients[k].phase == C_WRITE;
                if (!busy)
                        s->done = true;
        }
        return s->done;
}

/* --- setting up and tearing down -------------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
        char p[PATH_MAX];
        if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
                return -1;
        for (char *q = p + 1; *q; q++) {
                if (*q != '/')
                        continue;
                *q = '\0';
                if (mkdir(p, mode) != 0 && errno != EEXIST)
                        return -1;
                *q = '/';
        }
        return mkdir(p, mode) != 0 && errno != EEXIST ? -1 : 0;
}

static int listen_on(const char *path, char *err, size_t errlen)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdirs(dir, 0755)) {
                        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
                        return -1;
                }
        }
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(err, errlen, "%s: exists and is not a socket", path);
                        return -1;
                }
                if (ward_ctl_socket_alive(path)) {
                        snprintf(err, errlen, "%s: a supervisor already listens there", path);
                        return -1;
                }
                unlink(path);
        }
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(a.sun_path)) {
                snprintf(err, errlen, "%s: socket path too long", path);
                return -1;
        }
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(err, errlen, "socket: %s", strerror(errno));
                return -1;
        }
        mode_t old = umask(077);
        int b = bind(fd, (struct sockaddr *)&a, sizeof(a));
        umask(old);
        if (b != 0 || listen(fd, 32) != 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}

/*
 * The shared regions (memfds, sealed at their size) and the doorbells
 * (socketpairs). They live as long as the supervisor, so a restarted VM
 * maps the same memory and rings the same doorbell.
 */
static int make_ipc(struct ward_sup *s, char *err, size_t errlen)
{
        const struct ward_sys_desc *d = s->d;
        s->shm_fd = malloc((d->nshared + 1) * sizeof(*s->shm_fd));
        s->db_fd = malloc((d->ndoorbells + 1) * sizeof(*s->db_fd));
        if (!s->shm_fd || !s->db_fd) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < d->nshared; i++)
                s->shm_fd[i] = -1;
        for (size_t i = 0; i < d->ndoorbells; i++)
                s->db_fd[i][0] = s->db_fd[i][1] = -1;
        for (size_t i = 0; i < d->nshared; i++) {
                char name[64];
                snprintf(name, sizeof(name), "ward-shm-%s", d->shared[i].name);
                int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
                s->shm_fd[i] = fd;
                if (fd < 0 || ftruncate(fd, (off_t)d->shared[i].size) != 0 ||
                    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
                        snprintf(err, errlen, "shared region %s: %s", d->shared[i].name,
                                 strerror(errno));
                        return -1;
                }
        }
        for (size_t i = 0; i < d->ndoorbells; i++)
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->db_fd[i]) != 0) {
                        s->db_fd[i][0] = s->db_fd[i][1] = -1;
                        snprintf(err, errlen, "doorbell %s: socketpair: %s", d->doorbells[i].name,
                                 strerror(errno));
                        return -1;
                }
        return 0;
}

/*
 * cpu_max_us: one cgroup per budgeted VM under ROOT/ward/sup-PID
 * (include/ward/cgroup_cpu.h); the VMM joins it between fork and exec.
 */
static int make_cgroups(struct ward_sup *s, char *err, size_t errlen)
{
        char root[PATH_MAX], why[768], name[32];
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                const struct ward_sys_linux_vm *lv = linux_vm(s, v->d->name);
                if (!lv || !lv->cpu_max_set)
                        continue;
                if (!s->cg_dir[0]) {
                        snprintf(name, sizeof(name), "sup-%d", (int)getpid());
                        if (s->cfg.cgroup_root)
                                snprintf(root, sizeof(root), "%s", s->cfg.cgroup_root);
                        if ((!s->cfg.cgroup_root &&
                             ward_cgroup_find_root("/proc/self/mountinfo", root, sizeof(root), why,
                                                   sizeof(why))) ||
                            ward_cgroup_make_system(root, name, s->cg_dir, sizeof(s->cg_dir), why,
                                                    sizeof(why))) {
                                s->cg_dir[0] = '\0';
                                snprintf(err, errlen, "vm %s: linux cpu_max_us: %s", v->d->name,
                                         why);
                                return -1;
                        }
                }
                if (ward_cgroup_make_vm(s->cg_dir, v->d->name, lv->cpu_max_us, lv->cpu_period_us,
                                        v->cgroup, sizeof(v->cgroup), why, sizeof(why))) {
                        v->cgroup[0] = '\0';
                        snprintf(err, errlen, "vm %s: linux cpu_max_us: %s", v->d->name, why);
                        return -1;
                }
        }
        return 0;
}

struct ward_sup *ward_sup_new(const struct ward_sys_desc *d, const struct ward_sup_config *cfg,
                              char *err, size_t errlen)
{
        struct ward_sup *s = calloc(1, sizeof(*s));
        if (!s || !(s->vms = calloc(d->nvms, sizeof(*s->vms)))) {
                free(s);
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        s->d = d;
        s->cfg = *cfg;
        s->nvms = d->nvms;
        s->lfd = s->sfd = -1;
        s->shutdown_grace_ms = WARD_CTL_DEFAULT_GRACE_MS;
        snprintf(s->socket_path, sizeof(s->socket_path), "%s", cfg->socket_path);
        snprintf(s->log_dir, sizeof(s->log_dir), "%s", cfg->log_dir);
        snprintf(s->desc_dir, sizeof(s->desc_dir), "%s", cfg->desc_dir ? cfg->desc_dir : "/");
        snprintf(s->exe, sizeof(s->exe), "%s", cfg->exe ? cfg->exe : "/proc/self/exe");
        s->cfg.socket_path = s->socket_path;
        s->cfg.log_dir = s->log_dir;
        if (mkdirs(s->log_dir, 0755)) {
                snprintf(err, errlen, "%s: %s", s->log_dir, strerror(errno));
                goto fail;
        }
        for (size_t i = 0; i < d->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                v->d = &d->vms[i];
                v->in_fd = -1;
                if (snprintf(v->log, sizeof(v->log), "%s/%s.log", s->log_dir, v->d->name) >=
                    (int)sizeof(v->log)) {
                        snprintf(err, errlen, "%s: path too long", s->log_dir);
                        goto fail;
                }
                int fd = open(v->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        snprintf(err, errlen, "%s: %s", v->log, strerror(errno));
                        goto fail;
                }
                close(fd);
        }
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGCHLD);
        sigaddset(&m, SIGTERM);
        sigaddset(&m, SIGINT);
        sigaddset(&m, SIGHUP);
        sigprocmask(SIG_BLOCK, &m, &s->oldmask);
        s->sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->sfd < 0) {
                snprintf(err, errlen, "signalfd: %s", strerror(errno));
                goto fail;
        }
        s->lfd = listen_on(s->socket_path, err, errlen);
        if (s->lfd < 0)
                goto fail;
        if (make_ipc(s, err, errlen) || make_cgroups(s, err, errlen))
                goto fail;
        for (size_t i = 0; i < s->nvms; i++)
                if (s->vms[i].d->policy.autostart)
                        launch(s, &s->vms[i]);
        return s;
fail:
        ward_sup_free(s);
        return NULL;
}

void ward_sup_free(struct ward_sup *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                if (v->pid > 0) {
                        kill(-v->pid, SIGKILL);
                        kill(v->pid, SIGKILL);
                        waitpid(v->pid, NULL, 0);
                        v->pid = 0;
                }
                close_input(v);
        }
        for (size_t i = 0; i < s->nvms; i++)
                if (s->vms[i].cgroup[0])
                        ward_cgroup_remove(s->vms[i].cgroup);
        if (s->cg_dir[0])
                ward_cgroup_remove(s->cg_dir);
        while (s->nclients)
                client_close(s, 0);
        if (s->lfd >= 0) {
                close(s->lfd);
                unlink(s->socket_path);
        }
        if (s->sfd >= 0) {
                close(s->sfd);
                sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
        }
        for (size_t i = 0; s->shm_fd && i < s->d->nshared; i++)
                if (s->shm_fd[i] >= 0)
                        close(s->shm_fd[i]);
        for (size_t i = 0; s->db_fd && i < s->d->ndoorbells; i++)
                for (int e = 0; e < 2; e++)
                        if (s->db_fd[i][e] >= 0)
                                close(s->db_fd[i][e]);
        free(s->shm_fd);
        free(s->db_fd);
        free(s->vms);
        free(s);
}
