/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * System-call allow-lists (see ward/host/linux/seccomp_filter.h). The lists
 * are names, resolved for the architecture at install time (a name the
 * architecture does not have, such as poll on arm64, is skipped). Each entry
 * says why it is there; docs/security.md#seccomp has the same table.
 *
 * A forbidden call traps (SCMP_ACT_TRAP): the SIGSYS handler writes one
 * line naming the call and then dies by SIGSYS, so whoever waits for the
 * process (the supervisor, a shell) sees the signal and stderr says which
 * call it was. The handler uses only write and tgkill, and a table of names
 * made before the filter went in (no malloc in a signal handler).
 */
#include "ward/host/linux/seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <linux/if_tun.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/kvm.h>
#endif

/* What every ward process does once it runs: I/O on descriptors it already
 * has, waiting, memory, time, threads and signals, exit. */
static const char *const common[] = {
    "read",
    "write", /* eventfds, sockets, stdio */
    "preadv",
    "pwritev",
    "fdatasync",      /* the disk, synchronous path, and a guest's flush */
    "io_uring_enter", /* the disk, asynchronous path */
    "ppoll",          /* the event loop (ward_poll(): never poll, which x86_64 has too) */
    "recvfrom",
    "sendto", /* doorbells and port sockets (recv, send) */
    "fstat",
    "newfstatat", /* stdio's first use of a stream */
    "close",      /* teardown */
    "futex",      /* locks, condition variables, joins */
    "rt_sigreturn",
    "rt_sigprocmask",
    "restart_syscall", /* signals */
    "getpid",
    "gettid",
    "tgkill", /* kicking a vCPU out of KVM_RUN; the SIGSYS report */
    "clock_gettime",
    "clock_nanosleep", /* time */
    "brk",
    "munmap",
    "madvise",   /* malloc; thread stacks at exit */
    "getrandom", /* the entropy device */
    "exit",
    "exit_group",
};

/* A VMM whose disks are served by backend processes: making a new port
 * for one (src/host/linux/port_linux.c), handing its server end to the
 * starter (src/host/linux/blk_starter.c), and reaping the starter. */
static const char *const ports[] = {
    "memfd_create", "ftruncate", "eventfd2",
    "socketpair",   "sendmsg", /* a new port, to the starter */
    "wait4",                   /* the starter, at the end */
};

/* A VMM with a vsock device: a host program's connection on its socket, and
 * the guest's connections to PATH_P. */
static const char *const vsock[] = {
    "accept4",
    "socket",
    "connect",
};

/* The backend starter, which no guest reaches: receiving a port, fork and
 * exec; and what the new ward does before it installs its own list (it
 * inherits this one): the loader and the C library's start-up, its disk's
 * io_uring, and installing its list. */
static const char *const starter[] = {
    "recvmsg", /* a port to serve */
    "clone",           "clone3",          "execveat",       "dup3",
    "close_range",     "rt_sigaction", /* the backend's process */
    "set_tid_address", "set_robust_list", "rseq",           "prlimit64",
    "uname",           "readlinkat",      "readlink",       "arch_prctl",
    "openat",          "access",          "faccessat",      "pread64",
    "statx",           "sysinfo", /* the loader and the C library's start-up in the new ward */
    "lseek",           "eventfd2",        "io_uring_setup", "io_uring_register", /* its disk */
    "capset",          "seccomp", /* dropping capabilities; its own list, on top of this one */
};

/*
 * The supervisor (`ward system up`). It starts VMMs, which inherit its list
 * (a list can only narrow) until they install their own: so besides its
 * own calls (accepting control clients, reading console logs, forking,
 * signalling and reaping VMMs, cgroups) it has what a VMM does before its
 * list goes in: open its files, set up KVM, build its jail, start its
 * threads and its backend starter. What it keeps out is the rest of the
 * kernel's interface: ptrace, bpf, module loading, kexec, reboot, keyrings,
 * perf, userfaultfd, process_vm_*, the new mount API, and the like.
 */
static const char *const supervisor[] = {
    "accept4",
    "getsockopt", /* control clients (SO_PEERCRED) */
    "openat",
    "open",
    "lseek",
    "pread64",
    "getdents64",
    "unlinkat",
    "unlink",
    "rmdir",
    "mkdirat",
    "mkdir",
    "symlinkat",
    "readlinkat",
    "readlink",
    "faccessat",
    "faccessat2",
    "access",
    "statx",
    "stat",
    "lstat",
    "getcwd",
    "chdir",
    "fchdir", /* files: console logs, cgroups, a VMM's images */
    "clone",
    "clone3",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "wait4",
    "waitid",
    "kill",
    "setpgid",
    "getpgid",
    "setsid",
    "getppid",
    "prctl",
    "sched_setaffinity",
    "sched_getaffinity",
    "sched_yield", /* VMM processes */
    "dup",
    "dup2",
    "dup3",
    "close_range",
    "pipe2",
    "socketpair",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "eventfd2",
    "signalfd4",
    "memfd_create",
    "ftruncate",
    "fallocate",
    "ioctl",
    "io_uring_setup",
    "io_uring_register",
    "rt_sigaction",
    "sigaltstack",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "setrlimit",
    "getrlimit",
    "uname",
    "sysinfo",
    "arch_prctl",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setgroups",
    "setresuid",
    "setresgid",
    "capget",
    "capset",
    "seccomp",
    "unshare",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "sethostname",
    "mbind",
    "membarrier", /* a VMM's set-up: KVM, its jail, its threads */
};

/* fcntl commands (argument 1): everyone's, a port's sealing, a starter's dups. */
static const int fcntl_cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};
static const int fcntl_port_cmds[] = {F_ADD_SEALS, F_GET_SEALS};
static const int fcntl_starter_cmds[] = {F_DUPFD_CLOEXEC};

/* ioctl requests (argument 1) a running VMM makes: the vCPU's run and
 * registers (PSCI CPU_ON and resets), interrupt lines, the terminal. */
static const unsigned long vmm_ioctls[] = {
#if defined(KVM_RUN)
    KVM_RUN,
    KVM_SET_ONE_REG,
    KVM_GET_ONE_REG,
    KVM_IRQ_LINE,
#endif
#if defined(__aarch64__)
    KVM_ARM_VCPU_INIT,
#endif
#if defined(__x86_64__)
    KVM_GET_REGS, /* a failed vCPU's RIP, for its one-line reason */
#endif
    TCGETS,
    TCSETS,
    TIOCGWINSZ,
    TUNSETOFFLOAD, /* a tap NIC's offloads, once the guest's driver has chosen */
};

#define NAMES 512
#define NAME_LEN 24
static char names[NAMES][NAME_LEN];

static void fill_names(void)
{
        for (int nr = 0; nr < NAMES; nr++) {
                char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
                snprintf(names[nr], NAME_LEN, "%s", n ? n : "?");
                free(n);
        }
}

/* write() all of s, from a signal handler. */
static void say(const char *s)
{
        size_t n = strlen(s);
        while (n) {
                ssize_t w = write(STDERR_FILENO, s, n);
                if (w <= 0)
                        return;
                s += w;
                n -= (size_t)w;
        }
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
        (void)uc;
        int nr = si->si_syscall;
        char num[16];
        int k = (int)sizeof(num) - 1;
        num[k] = '\0';
        unsigned u = nr < 0 ? 0 : (unsigned)nr;
        do {
                num[--k] = (char)('0' + u % 10);
                u /= 10;
        } while (u && k > 0);
        say("\r\nward: seccomp: system call ");
        say(nr >= 0 && nr < NAMES ? names[nr] : "?");
        say(" (");
        say(num + k);
        say(") is not on this process's allow-list: killed by SIGSYS\n");
        /* SA_RESETHAND made SIGSYS's action the default again: die by it. */
        syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
        /* Process 1 of a PID namespace (a jailed VMM) ignores a signal it
         * sends itself; a call outside the list (getcpu is on none) gets a
         * SIGSYS from the kernel, which no process ignores. */
        syscall(SYS_getcpu, NULL, NULL, NULL);
        _exit(128 + sig);
}

static int add_names(scmp_filter_ctx ctx, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(list[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not a call of this architecture */
                if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
                        return -1;
        }
        return 0;
}

/* Allows call nr when its argument arg compares to a (and b) with op. Spelled
 * out: libseccomp's SCMP_A macros leave datum_b to the compiler. */
static int allow_if(scmp_filter_ctx ctx, int nr, unsigned arg, enum scmp_compare op, scmp_datum_t a,
                    scmp_datum_t b)
{
        const struct scmp_arg_cmp c = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};
        return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
}

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static int allow_cmds(scmp_filter_ctx ctx, const int *cmds, size_t n)
{
        int rc = 0;
        for (size_t i = 0; i < n; i++)
                rc |= allow_if(ctx, SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, (scmp_datum_t)cmds[i], 0);
        return rc;
}

static int add_args(scmp_filter_ctx ctx, enum ward_seccomp_profile profile, unsigned extras)
{
        int rc = 0;
        if (profile == WARD_SECCOMP_SUPERVISOR) {
                /* A VMM's loader and set-up: any mmap, mprotect and fcntl. */
                rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0);
                rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 0);
                rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 0);
                return rc ? -1 : 0;
        }
        if (profile == WARD_SECCOMP_STARTER) {
                /* The loader of the ward it starts maps code. */
                rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0);
                rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 0);
                rc |= allow_cmds(ctx, fcntl_starter_cmds, LEN(fcntl_starter_cmds));
                /* The new ward empties its bounding set; its libseccomp sets
                 * no_new_privs before it loads its list. */
                rc |= allow_if(ctx, SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_CAPBSET_DROP, 0);
                rc |= allow_if(ctx, SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS, 0);
        } else {
                /* No executable memory: mmap and mprotect only without PROT_EXEC. */
                rc |= allow_if(ctx, SCMP_SYS(mmap), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
                rc |= allow_if(ctx, SCMP_SYS(mprotect), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
        }
        rc |= allow_cmds(ctx, fcntl_cmds, LEN(fcntl_cmds));
        if (extras & WARD_SECCOMP_WITH_PORTS)
                rc |= allow_cmds(ctx, fcntl_port_cmds, LEN(fcntl_port_cmds));
        for (size_t i = 0; profile == WARD_SECCOMP_VMM && i < LEN(vmm_ioctls); i++)
                rc |=
                    allow_if(ctx, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, (scmp_datum_t)vmm_ioctls[i], 0);
        return rc ? -1 : 0;
}

/* The profile's filter (not loaded); NULL on failure. */
static scmp_filter_ctx build(enum ward_seccomp_profile profile, uint32_t def, unsigned extras)
{
        scmp_filter_ctx ctx = seccomp_init(def);
        if (!ctx)
                return NULL;
        if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
            add_names(ctx, common, LEN(common)) ||
            ((extras & WARD_SECCOMP_WITH_PORTS) && add_names(ctx, ports, LEN(ports))) ||
            ((extras & WARD_SECCOMP_WITH_VSOCK) && add_names(ctx, vsock, LEN(vsock))) ||
            (profile == WARD_SECCOMP_STARTER && add_names(ctx, starter, LEN(starter))) ||
            (profile == WARD_SECCOMP_SUPERVISOR && add_names(ctx, supervisor, LEN(supervisor))) ||
            add_args(ctx, profile, extras)) {
                seccomp_release(ctx);
                return NULL;
        }
        return ctx;
}

unsigned ward_seccomp_count(enum ward_seccomp_profile profile, unsigned extras)
{
        /* mmap, mprotect, fcntl; ioctl (VMM); prctl (starter) */
        unsigned n = 3 + (profile == WARD_SECCOMP_VMM) + (profile == WARD_SECCOMP_STARTER);
        const char *const *lists[5] = {common, ports, vsock, starter, supervisor};
        const size_t lens[5] = {LEN(common), extras & WARD_SECCOMP_WITH_PORTS ? LEN(ports) : 0,
                                extras & WARD_SECCOMP_WITH_VSOCK ? LEN(vsock) : 0,
                                profile == WARD_SECCOMP_STARTER ? LEN(starter) : 0,
                                profile == WARD_SECCOMP_SUPERVISOR ? LEN(supervisor) : 0};
        for (int l = 0; l < 5; l++)
                for (size_t i = 0; i < lens[l]; i++)
                        n += seccomp_syscall_resolve_name(lists[l][i]) != __NR_SCMP_ERROR;
        return n;
}

int ward_seccomp_install(enum ward_seccomp_profile profile, enum ward_seccomp_mode mode,
                         unsigned extras, char *err, size_t errlen)
{
        if (mode == WARD_SECCOMP_OFF)
                return 0;
        uint32_t def = mode == WARD_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
        if (mode == WARD_SECCOMP_ON) {
                fill_names();
                struct sigaction sa;
                memset(&sa, 0, sizeof(sa));
                sa.sa_sigaction = on_sigsys;
                sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
                sigemptyset(&sa.sa_mask);
                if (sigaction(SIGSYS, &sa, NULL) != 0) {
                        snprintf(err, errlen, "seccomp: SIGSYS handler: %s", strerror(errno));
                        return -1;
                }
        }
        scmp_filter_ctx ctx = build(profile, def, extras);
        if (!ctx) {
                snprintf(err, errlen, "seccomp: cannot build the allow-list");
                return -1;
        }
        /* no_new_privs is set by seccomp_load (SCMP_FLTATR_CTL_NNP, on by default). */
        int rc = seccomp_load(ctx);
        seccomp_release(ctx);
        if (rc != 0) {
                snprintf(err, errlen, "seccomp: cannot install the allow-list: %s", strerror(-rc));
                return -1;
        }
        return 0;
}
