/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Setting up the supervisor (the control socket, the log directory, the
 * shared memory and doorbells, the cgroups, the autostart VMs) and tearing
 * it down.
 */
#include "supervisor_internal.h"
#include "ward/desc/vm_config.h"
#include "ward/host/linux/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* open_to_all: others may connect (the peer check in event_loop.c decides). */
static int listen_on(const char *path, bool open_to_all, char *err, size_t errlen)
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
        mode_t old = umask(open_to_all ? 0 : 077);
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
/* The description's text in a sealed memfd: what every VMM reads its config from. */
static int make_desc_fd(struct ward_sup *s, char *err, size_t errlen)
{
        s->desc_fd = -1;
        if (!s->cfg.desc_text)
                return 0;
        int fd = memfd_create("ward-description", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        s->desc_fd = fd;
        size_t done = 0;
        while (fd >= 0 && done < s->cfg.desc_len) {
                ssize_t n = write(fd, s->cfg.desc_text + done, s->cfg.desc_len - done);
                if (n <= 0)
                        break;
                done += (size_t)n;
        }
        if (fd < 0 || done != s->cfg.desc_len ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
                snprintf(err, errlen, "the description's copy for the VMMs: %s", strerror(errno));
                return -1;
        }
        return 0;
}

static int make_ipc(struct ward_sup *s, char *err, size_t errlen)
{
        if (make_desc_fd(s, err, errlen))
                return -1;
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

/* What VM v's cgroup holds it to: its cpu_max_us budget, and for a jailed
 * VMM its memory (guest memory plus the overhead cgroup.h documents). */
static struct ward_cgroup_limits vm_limits(struct ward_sup *s, struct vm_rt *v)
{
        struct ward_cgroup_limits lim = {0};
        const struct ward_sys_linux_vm *lv = ward_sup_linux_vm(s, v->d->name);
        if (lv && lv->cpu_max_set)
                lim = (struct ward_cgroup_limits){true, lv->cpu_max_us, lv->cpu_period_us, 0};
        static struct ward_sys_vm_config vc;
        char why[256];
        if (ward_sup_jailed(s, v) &&
            !ward_sys_vm_config(s->d, v->d->name, s->desc_dir, 4, &vc, why, sizeof(why))) {
                uint64_t guest = vc.cfg.mem_bytes;
                for (unsigned k = 0; k < vc.cfg.nram; k++)
                        guest += vc.cfg.ram[k].size;
                for (unsigned k = 0; k < vc.cfg.nshm; k++)
                        guest += vc.cfg.shm[k].size;
                lim.memory_max = ward_cgroup_vmm_memory_max(guest);
        }
        return lim;
}

/*
 * One cgroup per VM with a budget (cpu_max_us) or a jail (memory) under
 * ROOT/ward/sup-PID (include/ward/host/linux/cgroup.h); the VMM joins it
 * between fork and exec.
 */
static int make_cgroups(struct ward_sup *s, char *err, size_t errlen)
{
        char root[PATH_MAX], why[768], name[32], controllers[16] = "";
        struct ward_cgroup_limits lim[WARD_SYS_MAX_VMS];
        bool cpu = false, memory = false;
        for (size_t i = 0; i < s->nvms && i < WARD_SYS_MAX_VMS; i++) {
                lim[i] = vm_limits(s, &s->vms[i]);
                cpu |= lim[i].cpu;
                memory |= lim[i].memory_max != 0;
        }
        snprintf(controllers, sizeof(controllers), "%s%s%s", cpu ? "cpu" : "",
                 cpu && memory ? " " : "", memory ? "memory" : "");
        for (size_t i = 0; i < s->nvms && i < WARD_SYS_MAX_VMS; i++) {
                struct vm_rt *v = &s->vms[i];
                if (!lim[i].cpu && !lim[i].memory_max)
                        continue;
                const char *what = lim[i].cpu ? "linux cpu_max_us" : "the jail's memory cgroup";
                if (!s->cg_dir[0]) {
                        snprintf(name, sizeof(name), "sup-%d", (int)getpid());
                        if (s->cfg.cgroup_root)
                                snprintf(root, sizeof(root), "%s", s->cfg.cgroup_root);
                        if ((!s->cfg.cgroup_root &&
                             ward_cgroup_find_root("/proc/self/mountinfo", root, sizeof(root), why,
                                                   sizeof(why))) ||
                            ward_cgroup_make_system(root, name, controllers, s->cg_dir,
                                                    sizeof(s->cg_dir), why, sizeof(why))) {
                                s->cg_dir[0] = '\0';
                                snprintf(err, errlen, "vm %s: %s: %s", v->d->name, what, why);
                                return -1;
                        }
                }
                if (ward_cgroup_make_vm(s->cg_dir, v->d->name, &lim[i], v->cgroup,
                                        sizeof(v->cgroup), why, sizeof(why))) {
                        v->cgroup[0] = '\0';
                        snprintf(err, errlen, "vm %s: %s: %s", v->d->name, what, why);
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
        s->lfd = s->sfd = s->desc_fd = -1;
        s->shutdown_grace_ms = WARD_CTL_DEFAULT_GRACE_MS;
        snprintf(s->socket_path, sizeof(s->socket_path), "%s", cfg->socket_path);
        snprintf(s->log_dir, sizeof(s->log_dir), "%s", cfg->log_dir);
        snprintf(s->desc_dir, sizeof(s->desc_dir), "%s", cfg->desc_dir ? cfg->desc_dir : "/");
        snprintf(s->exe, sizeof(s->exe), "%s", cfg->exe ? cfg->exe : "/proc/self/exe");
        s->cfg.socket_path = s->socket_path;
        s->cfg.log_dir = s->log_dir;
        s->cfg.desc_dir = s->desc_dir;
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
        s->lfd = listen_on(s->socket_path,
                           d->linux_opts.ncontrol_uids || d->linux_opts.ncontrol_gids, err, errlen);
        if (s->lfd < 0)
                goto fail;
        if (make_ipc(s, err, errlen) || make_cgroups(s, err, errlen) ||
            ward_sup_make_networks(s, err, errlen))
                goto fail;
        for (size_t i = 0; i < s->nvms; i++)
                if (s->vms[i].d->policy.autostart)
                        ward_sup_launch(s, &s->vms[i]);
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
                ward_sup_close_input(v);
        }
        ward_sup_free_networks(s);
        for (size_t i = 0; i < s->nvms; i++)
                if (s->vms[i].cgroup[0])
                        ward_cgroup_remove(s->vms[i].cgroup);
        if (s->cg_dir[0])
                ward_cgroup_remove(s->cg_dir);
        while (s->nclients)
                ward_sup_client_close(s, 0);
        if (s->lfd >= 0) {
                close(s->lfd);
                unlink(s->socket_path);
        }
        if (s->sfd >= 0) {
                close(s->sfd);
                sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
        }
        if (s->desc_fd >= 0)
                close(s->desc_fd);
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
