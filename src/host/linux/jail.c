/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The jail (see ward/host/linux/jail.h), without a helper library: a few
 * system calls in an order that matters. Namespaces first (they need root),
 * then the new root (built on a tmpfs mounted at /tmp, which only this
 * mount namespace sees), limits, and the uid last, since changing it ends
 * the privileges every step before it needs.
 */
#include "ward/host/linux/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

/* Where the new root is built: any directory of the host does, as the
 * tmpfs mounted on it is private to the new mount namespace. */
#define STAGE "/tmp"

static int fail(char *err, size_t errlen, const char *what)
{
        snprintf(err, errlen, "jail: %s: %s", what, strerror(errno));
        return -1;
}

pid_t ward_jail_fork_pid_ns(void)
{
        /* clone's other arguments are all zero, so their order (which
         * differs between architectures) does not matter. */
        return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWPID | SIGCHLD), 0UL, 0UL, 0UL,
                              0UL);
}

static volatile pid_t init_pid;

static void pass_on(int sig)
{
        if (init_pid > 0)
                kill(init_pid, sig);
}

int ward_jail_become_init(char *err, size_t errlen)
{
        if (getpid() == 1)
                return 0;
        pid_t pid = ward_jail_fork_pid_ns();
        if (pid < 0)
                return fail(err, errlen, "cannot make a PID namespace (the jail needs root)");
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                return 0;
        }
        init_pid = pid;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = pass_on;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        exit(1);
        if (WIFEXITED(status))
                exit(WEXITSTATUS(status));
        /* Dies as it died, so whoever waits for this process sees the signal. */
        signal(WTERMSIG(status), SIG_DFL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, WTERMSIG(status));
        sigprocmask(SIG_UNBLOCK, &one, NULL);
        raise(WTERMSIG(status));
        exit(128 + WTERMSIG(status));
}

/*
 * The host's /usr and library directories, read-only, for the loader of
 * a ward binary run again from the jail: a directory is bound, a link (as
 * /lib is to usr/lib on Debian) is made again.
 */
static int share_binaries(char *err, size_t errlen)
{
        static const char *const dirs[] = {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                char host[32], inside[64], link[PATH_MAX];
                snprintf(host, sizeof(host), "/%s", dirs[i]);
                snprintf(inside, sizeof(inside), STAGE "/%s", dirs[i]);
                struct stat st;
                if (lstat(host, &st) != 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        ssize_t n = readlink(host, link, sizeof(link) - 1);
                        if (n < 0)
                                return fail(err, errlen, host);
                        link[n] = '\0';
                        if (symlink(link, inside))
                                return fail(err, errlen, inside);
                } else if (S_ISDIR(st.st_mode)) {
                        if (mkdir(inside, 0755) ||
                            mount(host, inside, NULL, MS_BIND | MS_REC, NULL) ||
                            mount(NULL, inside, NULL,
                                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
                                return fail(err, errlen, host);
                }
        }
        return 0;
}

/*
 * The host directory dir, bound read-write (but with no devices, set-id or
 * programs) at the same path under the new root: the mount points on the
 * way are made in the tmpfs.
 */
static int share_dir(const char *dir, int dir_fd, char *err, size_t errlen)
{
        char inside[PATH_MAX], source[64];
        if (dir[0] != '/' ||
            snprintf(inside, sizeof(inside), STAGE "%s", dir) >= (int)sizeof(inside)) {
                errno = EINVAL;
                return fail(err, errlen, dir);
        }
        for (char *p = inside + strlen(STAGE) + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(inside, 0755) && errno != EEXIST)
                        return fail(err, errlen, inside);
                *p = c;
                if (!c)
                        break;
        }
        /* By descriptor: dir may be under STAGE, hidden now by the tmpfs. */
        snprintf(source, sizeof(source), "/proc/self/fd/%d", dir_fd);
        if (mount(source, inside, NULL, MS_BIND, NULL) ||
            mount(NULL, inside, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL))
                return fail(err, errlen, dir);
        return 0;
}

/* Makes STAGE the root. pivot_root cannot move the initramfs (rootfs) a
 * host may run from: then the new root goes over it, as switch_root does. */
static int enter_root(char *err, size_t errlen)
{
        if (chdir(STAGE))
                return fail(err, errlen, STAGE);
        if (syscall(SYS_pivot_root, ".", ".") == 0) {
                /* The old root is stacked on the new one: detach it. */
                if (umount2(".", MNT_DETACH))
                        return fail(err, errlen, "detaching the host's root");
        } else if (errno == EINVAL) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot("."))
                        return fail(err, errlen, "moving the new root over the host's");
        } else {
                return fail(err, errlen, "pivot_root");
        }
        if (chdir("/") ||
            mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
                return fail(err, errlen, "making the new root read-only");
        return 0;
}

/* The highest descriptor open now, read from /proc/self/fd (one directory
 * read, not a probe of every number); -1 when /proc cannot tell. */
static int highest_fd(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -1;
        int top = -1;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && atoi(e->d_name) > top)
                        top = atoi(e->d_name);
        closedir(d);
        return top;
}

/*
 * No core dumps (they would hold guest memory), no locked memory, and room
 * for a few descriptors besides those open when the jail began (top): a
 * VMM opens nothing new once its VM is built, except the ports of the disk
 * backends it has started again.
 */
static int limit(int top, char *err, size_t errlen)
{
        struct rlimit zero = {0, 0}, nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile))
                return fail(err, errlen, "getrlimit");
        if (top >= 0 && (rlim_t)top + 1 + 32 < nofile.rlim_max)
                nofile.rlim_cur = nofile.rlim_max = (rlim_t)top + 1 + 32;
        if (setrlimit(RLIMIT_CORE, &zero) || setrlimit(RLIMIT_MEMLOCK, &zero) ||
            setrlimit(RLIMIT_NOFILE, &nofile))
                return fail(err, errlen, "setrlimit");
        return 0;
}

/* The uid and gid, after the bounding set is emptied: that needs
 * CAP_SETPCAP, which leaving uid 0 takes away. */
static int become(const struct ward_jail_config *j, char *err, size_t errlen)
{
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
                        return fail(err, errlen, "emptying the capability bounding set");
        if (setgroups(0, NULL) || setresgid(j->gid, j->gid, j->gid))
                return fail(err, errlen, "setting the gid");
        if (setresuid(j->uid, j->uid, j->uid))
                return fail(err, errlen, "setting the uid");
        /* A new uid clears the parent-death signal: a jailed VMM still goes
         * with its supervisor (or `ward run --jail`'s waiting parent). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL))
                return fail(err, errlen, "the parent-death signal");
        return 0;
}

int ward_jail_enter(const struct ward_jail_config *j, const char *hostname, bool exec, char *err,
                    size_t errlen)
{
        if (j->uid == 0 || j->gid == 0) {
                snprintf(err, errlen,
                         "jail: uid %u, gid %u: a jailed VMM runs as neither root "
                         "nor root's group (0)",
                         j->uid, j->gid);
                return -1;
        }
        /* Read while the host's /proc is still in view. */
        int top = highest_fd();
        if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET))
                return fail(err, errlen, "unshare (the jail needs root)");
        /* Nothing mounted from here on reaches the host's namespace. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
                return fail(err, errlen, "making the mounts private");
        int dir_fd = j->shared_dir[0]
                         ? open(j->shared_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                         : -1;
        if (j->shared_dir[0] && dir_fd < 0)
                return fail(err, errlen, j->shared_dir);
        if (mount("ward-jail", STAGE, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=64k,nr_inodes=64,mode=0755")) {
                if (dir_fd >= 0)
                        close(dir_fd);
                return fail(err, errlen, "a tmpfs for the new root on " STAGE);
        }
        int bad = (exec && share_binaries(err, errlen)) ||
                  (dir_fd >= 0 && share_dir(j->shared_dir, dir_fd, err, errlen));
        if (dir_fd >= 0)
                close(dir_fd);
        if (bad || enter_root(err, errlen))
                return -1;
        if (sethostname(hostname, strlen(hostname)))
                return fail(err, errlen, "sethostname");
        return limit(top, err, errlen) || become(j, err, errlen) ? -1 : 0;
}
