/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The jail (src/host/linux/jail.c), entered for real in child processes:
 * what a jailed process can see and be afterwards. Needs root and a machine
 * that allows namespaces and mounts (the tests skip otherwise and say why;
 * CI runs as root on a machine that does). Children leave with _exit: there is
 * no /proc in a jail for the sanitizers' exit-time checks to read.
 */
#include "ward/host/linux/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

#define UID 64123u
#define GID 64124u

/*
 * Whether this machine lets a process jail itself: root, and namespaces and
 * mounts not refused (a container without privileges refuses them). The
 * jail's test host scenarios run where they always are allowed.
 */
static bool can_jail(void)
{
        if (geteuid() != 0) {
                print_message("skipped: the jail needs root\n");
                return false;
        }
        pid_t pid = ward_jail_fork_pid_ns();
        if (pid == 0)
                _exit(unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) ? 1
                      : mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)               ? 2
                                                                                        : 0);
        int st = -1;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
                print_message("skipped: this machine refuses namespaces or mounts to root\n");
                return false;
        }
        return true;
}

/* Runs fn in a child that is process 1 of a new PID namespace; its status. */
static int in_pid_ns(int (*fn)(void))
{
        pid_t pid = ward_jail_fork_pid_ns();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(fn());
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

/* Each check that fails sets its own bit of the exit status. */
static int jailed_view(void)
{
        char err[256];
        struct ward_jail_config j = {.on = true, .uid = UID, .gid = GID};
        if (ward_jail_enter(&j, "jailtest", false, err, sizeof(err))) {
                dprintf(2, "%s\n", err);
                return 255;
        }
        int bad = 0;
        if (getpid() != 1)
                bad |= 1;
        uid_t r, e, s;
        gid_t gr, ge, gs;
        getresuid(&r, &e, &s);
        getresgid(&gr, &ge, &gs);
        if (r != UID || e != UID || s != UID || gr != GID || ge != GID || gs != GID ||
            getgroups(0, NULL) != 0)
                bad |= 2;
        /* The root is empty, read-only, and no host file is in it. */
        DIR *d = opendir("/");
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        bad |= 4;
        if (!d)
                bad |= 4;
        else
                closedir(d);
        if (open("/etc/passwd", O_RDONLY) >= 0 || errno != ENOENT || mkdir("/x", 0755) == 0)
                bad |= 8;
        char host[64] = "";
        gethostname(host, sizeof(host));
        if (strcmp(host, "jailtest"))
                bad |= 16;
        struct rlimit core, lock;
        getrlimit(RLIMIT_CORE, &core);
        getrlimit(RLIMIT_MEMLOCK, &lock);
        if (core.rlim_max != 0 || lock.rlim_max != 0)
                bad |= 32;
        /* No capability left to gain; still dies with its parent (changing
         * the uid cleared the parent-death signal: the jail sets it again). */
        int pdeath = 0;
        prctl(PR_GET_PDEATHSIG, &pdeath);
        if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 0 || prctl(PR_CAPBSET_READ, CAP_SETUID) != 0 ||
            pdeath != SIGKILL)
                bad |= 64;
        /* A network namespace of its own: only a loopback device, down. */
        struct if_nameindex *ifs = if_nameindex();
        if (!ifs || !ifs[0].if_name || strcmp(ifs[0].if_name, "lo") || ifs[1].if_name)
                bad |= 128;
        if (ifs)
                if_freenameindex(ifs);
        return bad;
}

static void sees_nothing_of_the_host(void **state)
{
        (void)state;
        if (!can_jail())
                skip();
        int st = in_pid_ns(jailed_view);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

/*
 * A program held open from before runs in a jail entered with exec (the
 * loader finds the host's libraries), and not in one without: the jail's
 * root really is empty.
 */
static int true_fd = -1;

static int exec_held(bool exec)
{
        char err[256];
        struct ward_jail_config j = {.on = true, .uid = UID, .gid = GID};
        if (ward_jail_enter(&j, "jailtest", exec, err, sizeof(err))) {
                dprintf(2, "%s\n", err);
                return 255;
        }
        pid_t pid = fork();
        if (pid == 0) {
                char *argv[] = {"true", NULL};
                syscall(SYS_execveat, true_fd, "", argv, environ, AT_EMPTY_PATH);
                _exit(100 + errno);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
                return 254;
        return WEXITSTATUS(st);
}

static int exec_with(void)
{
        return exec_held(true);
}

static int exec_without(void)
{
        return exec_held(false);
}

static void runs_a_held_program_only_with_exec(void **state)
{
        (void)state;
        if (!can_jail())
                skip();
        true_fd = open("/bin/true", O_PATH | O_CLOEXEC);
        assert_true(true_fd >= 0);
        int st = in_pid_ns(exec_with);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        st = in_pid_ns(exec_without);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 100 + ENOENT); /* no loader in an empty root */
        close(true_fd);
}

/*
 * A shared directory (the vsock device's) is there at its own path, and
 * writable by the jail's uid where the host lets it: nothing else of the
 * host is, and the root stays read-only.
 */
static char shared[64];

static int jailed_with_shared_dir(void)
{
        char err[256], path[128];
        struct ward_jail_config j = {.on = true, .uid = UID, .gid = GID};
        snprintf(j.shared_dir, sizeof(j.shared_dir), "%s", shared);
        if (ward_jail_enter(&j, "jailtest", false, err, sizeof(err))) {
                dprintf(2, "%s\n", err);
                return 255;
        }
        int bad = 0;
        snprintf(path, sizeof(path), "%s/from-host", shared);
        int fd = open(path, O_RDONLY);
        char c = 0;
        if (fd < 0 || read(fd, &c, 1) != 1 || c != 'h')
                bad |= 1;
        if (fd >= 0)
                close(fd);
        snprintf(path, sizeof(path), "%s/from-jail", shared);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || write(fd, "j", 1) != 1)
                bad |= 2;
        if (fd >= 0)
                close(fd);
        if (open("/etc/passwd", O_RDONLY) >= 0 || mkdir("/x", 0755) == 0)
                bad |= 4;
        return bad;
}

static void keeps_only_its_shared_directory(void **state)
{
        (void)state;
        if (!can_jail())
                skip();
        snprintf(shared, sizeof(shared), "/tmp/ward-jail-shared-%d", (int)getpid());
        assert_int_equal(mkdir(shared, 0755), 0);
        assert_int_equal(chown(shared, UID, GID), 0);
        char host[128], jail[128];
        snprintf(host, sizeof(host), "%s/from-host", shared);
        snprintf(jail, sizeof(jail), "%s/from-jail", shared);
        int fd = open(host, O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "h", 1), 1);
        close(fd);
        int st = in_pid_ns(jailed_with_shared_dir);
        struct stat sb;
        int seen = stat(jail, &sb);
        unlink(host);
        unlink(jail);
        rmdir(shared);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(seen, 0); /* written through to the host */
        assert_int_equal(sb.st_uid, UID);
}

static void refuses_root_ids_before_doing_anything(void **state)
{
        (void)state;
        char err[256];
        struct ward_jail_config j = {.on = true, .uid = 0, .gid = 100};
        assert_int_equal(ward_jail_enter(&j, "x", false, err, sizeof(err)), -1);
        assert_string_equal(err, "jail: uid 0, gid 100: a jailed VMM runs as neither root nor "
                                 "root's group (0)");
        j = (struct ward_jail_config){.on = true, .uid = 100, .gid = 0};
        assert_int_equal(ward_jail_enter(&j, "x", false, err, sizeof(err)), -1);
        /* Still in the host's namespaces: its files are all there. */
        assert_int_equal(access("/proc/self/exe", F_OK), 0);
}

/* ward_jail_become_init: the waiting parent exits as its child did, and
 * passes SIGTERM on to it (a handler in the child turns it into 9). */
static void on_term(int sig)
{
        (void)sig;
        _exit(9);
}

static void init_exit_status_and_signals_pass_through(void **state)
{
        (void)state;
        if (!can_jail())
                skip();
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        pid_t waiter = fork();
        assert_true(waiter >= 0);
        if (waiter == 0) {
                char err[256];
                if (ward_jail_become_init(err, sizeof(err)))
                        _exit(200);
                /* Process 1 of the new namespace. */
                signal(SIGTERM, on_term);
                char one = getpid() == 1 ? '1' : 'x';
                if (write(pipefd[1], &one, 1) != 1)
                        _exit(201);
                pause();
                _exit(202);
        }
        char got = 0;
        assert_int_equal(read(pipefd[0], &got, 1), 1);
        assert_int_equal(got, '1');
        assert_int_equal(kill(waiter, SIGTERM), 0);
        int st;
        assert_int_equal(waitpid(waiter, &st, 0), waiter);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 9);
        close(pipefd[0]);
        close(pipefd[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(sees_nothing_of_the_host),
            cmocka_unit_test(runs_a_held_program_only_with_exec),
            cmocka_unit_test(keeps_only_its_shared_directory),
            cmocka_unit_test(refuses_root_ids_before_doing_anything),
            cmocka_unit_test(init_exit_status_and_signals_pass_through),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
