/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system-call allow-lists (src/host/linux/seccomp_filter.c), each in a
 * child process of its own: what the list allows still works, a call
 * outside it kills the process with SIGSYS after one line that names it,
 * log mode lets it through, and executable memory is refused; and dropping
 * every capability leaves none.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ward/host/linux/caps.h"
#include "ward/host/linux/seccomp_filter.h"

/* Runs fn in a child under the profile; returns its wait status and its stderr in err. */
static int in_child(enum ward_seccomp_profile profile, enum ward_seccomp_mode mode, bool with_ports,
                    int (*fn)(void), char *err, size_t errlen)
{
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(p[1], STDERR_FILENO);
                close(p[0]);
                char why[160];
                if (ward_seccomp_install(profile, mode, with_ports, why, sizeof(why))) {
                        fprintf(stderr, "install: %s\n", why);
                        _exit(100);
                }
                /* The raw call: under ASan, _exit() runs the sanitizer's own
                 * clean-up, whose calls are not a VMM's. */
                syscall(SYS_exit_group, fn());
        }
        close(p[1]);
        size_t n = 0;
        ssize_t r;
        while (n + 1 < errlen && (r = read(p[0], err + n, errlen - 1 - n)) > 0)
                n += (size_t)r;
        err[n] = '\0';
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
                print_message("child's stderr: %s", err); /* says which call, on a failure */
        return status;
}

static int allowed_calls(void)
{
        /* Memory, I/O on what it has, time, randomness: all on the list. */
        void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return 1;
        memset(m, 1, 1 << 20);
        munmap(m, 1 << 20);
        char *heap = malloc(10 << 20);
        if (!heap)
                return 2;
        heap[0] = 1;
        free(heap);
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
                return 3;
        uint8_t b[8];
        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                return 4;
        if (write(STDERR_FILENO, "still here\n", 11) != 11)
                return 5;
        return 0;
}

static int forbidden_call(void)
{
        syscall(SYS_getppid);
        return 0; /* not reached */
}

static int open_a_file(void)
{
        return open("/dev/null", O_RDONLY) >= 0 ? 0 : 7;
}

/* What the supervisor does: start a program and reap it. */
static int start_a_program(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(9);
        }
        int st;
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 8;
}

/* What no ward process does: trace another. */
static int trace_a_process(void)
{
        syscall(SYS_ptrace, PTRACE_PEEKDATA, getpid(), NULL, NULL);
        return 0; /* not reached */
}

static void supervisor_starts_programs_but_does_not_trace(void **state)
{
        (void)state;
        char err[512];
        int st = in_child(WARD_SECCOMP_SUPERVISOR, WARD_SECCOMP_ON, false, start_a_program, err,
                          sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        st = in_child(WARD_SECCOMP_SUPERVISOR, WARD_SECCOMP_ON, false, trace_a_process, err,
                      sizeof(err));
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
        assert_non_null(strstr(err, "system call ptrace ("));
}

static int executable_memory(void)
{
        mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return 0; /* not reached */
}

static void vmm_allows_what_it_needs(void **state)
{
        (void)state;
        char err[512];
        int st =
            in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, false, allowed_calls, err, sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_string_equal(err, "still here\n");
}

static void forbidden_call_is_named_and_kills(void **state)
{
        (void)state;
        char err[512];
        int st =
            in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, false, forbidden_call, err, sizeof(err));
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
        assert_non_null(strstr(err, "ward: seccomp: system call getppid ("));
        assert_non_null(strstr(err, ") is not on this process's allow-list: killed by SIGSYS\n"));
        /* Opening a file is not on a running VMM's list either. */
        st = in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, false, open_a_file, err, sizeof(err));
        assert_true(WIFSIGNALED(st));
        assert_non_null(strstr(err, "system call openat ("));
        /* Nor when it makes ports for disk backends: its starter starts them ... */
        st = in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, true, open_a_file, err, sizeof(err));
        assert_true(WIFSIGNALED(st));
        assert_non_null(strstr(err, "system call openat ("));
        /* ... whose list lets the new ward's loader open its libraries. */
        st = in_child(WARD_SECCOMP_STARTER, WARD_SECCOMP_ON, false, open_a_file, err, sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        /* The backend's list has no ioctl at all. */
        st = in_child(WARD_SECCOMP_BACKEND, WARD_SECCOMP_ON, false, forbidden_call, err,
                      sizeof(err));
        assert_true(WIFSIGNALED(st));
}

static void no_executable_memory(void **state)
{
        (void)state;
        char err[512];
        int st =
            in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_ON, false, executable_memory, err, sizeof(err));
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
        assert_non_null(strstr(err, "system call mmap ("));
}

static void log_and_off_let_it_through(void **state)
{
        (void)state;
        char err[512];
        int st =
            in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_LOG, false, forbidden_call, err, sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        st = in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_OFF, false, open_a_file, err, sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

/* The bound: at most 40 distinct calls for a VMM (docs/security.md). */
static void lists_are_short(void **state)
{
        (void)state;
        unsigned vmm = ward_seccomp_count(WARD_SECCOMP_VMM, false);
        unsigned ports = ward_seccomp_count(WARD_SECCOMP_VMM, true);
        unsigned backend = ward_seccomp_count(WARD_SECCOMP_BACKEND, false);
        unsigned starter = ward_seccomp_count(WARD_SECCOMP_STARTER, false);
        print_message("allow-lists: VMM %u calls, VMM with backend processes %u, backend %u, "
                      "starter %u, supervisor %u\n",
                      vmm, ports, backend, starter,
                      ward_seccomp_count(WARD_SECCOMP_SUPERVISOR, false));
        unsigned all =
            ward_seccomp_count(WARD_SECCOMP_VMM, WARD_SECCOMP_WITH_PORTS | WARD_SECCOMP_WITH_VSOCK);
        print_message("allow-lists: VMM with backend processes and vsock %u\n", all);
        assert_true(vmm <= 40);
        assert_true(ports <= 40); /* a VMM never forks, executes or opens */
        assert_true(all <= 40 && all > ports);
        assert_true(backend < vmm);
        assert_true(ports > vmm && starter > backend);
}

/* The hex value of field (CapEff, CapPrm, CapBnd ...) in /proc/self/status. */
static unsigned long long cap_field(const char *field)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        unsigned long long v = ~0ull;
        size_t n = strlen(field);
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, field, n) == 0 && line[n] == ':')
                        v = strtoull(line + n + 1, NULL, 16);
        if (f)
                fclose(f);
        return v;
}

static int drop_and_look(void)
{
        char err[160];
        if (ward_caps_drop_all(err, sizeof(err)))
                return 10;
        if (cap_field("CapEff") || cap_field("CapPrm") || cap_field("CapInh"))
                return 11;
        if (geteuid() == 0 && cap_field("CapBnd"))
                return 12; /* root may empty the bounding set, and must have */
        return 0;
}

/* ward_caps_drop_all: nothing left in any set (the bounding set too, as root). */
static void caps_dropped(void **state)
{
        (void)state;
        char err[512];
        int st =
            in_child(WARD_SECCOMP_VMM, WARD_SECCOMP_OFF, false, drop_and_look, err, sizeof(err));
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(vmm_allows_what_it_needs),
            cmocka_unit_test(forbidden_call_is_named_and_kills),
            cmocka_unit_test(no_executable_memory),
            cmocka_unit_test(log_and_off_let_it_through),
            cmocka_unit_test(lists_are_short),
            cmocka_unit_test(caps_dropped),
            cmocka_unit_test(supervisor_starts_programs_but_does_not_trace),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
