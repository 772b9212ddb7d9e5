/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vmmstat: runs a VMM (or any command) and measures it for tools/bench.
 *
 *   vmmstat [--marker STR] [--exclude-size BYTES]... [--log FILE] [--stamp]
 *           [--smaps-copy FILE] [--timeout SECONDS] -- COMMAND [ARG...]
 *
 * The command's stdin is /dev/null; its stdout and stderr go through one
 * pipe, which vmmstat copies to the log file (with --stamp, each line
 * prefixed by the time it began to arrive). Times are CLOCK_MONOTONIC
 * milliseconds since just before the fork: when the first byte of output
 * arrives, when STR first appears in it, and when the command has exited.
 * At the moment STR appears, /proc/PID/smaps is read: the sum of Rss over
 * all mappings, and the sum over mappings whose size is none of the BYTES
 * given (the guest RAM mapping is the one of the configured memory size, or
 * that plus the VMM's alignment slack), and how much of the latter is
 * anonymous memory; --smaps-copy keeps that smaps text. Also at that moment:
 * the CPU time the command has used (utime + stime from /proc/PID/stat, in
 * clock ticks) and the exits of its KVM VMs (the "exits" files of
 * /sys/kernel/debug/kvm/PID-*, summed; -1 without debugfs).
 * Peak RSS comes from wait4's rusage. start_abs_ms is the start on the
 * CLOCK_MONOTONIC scale, so that runs started together can be lined up.
 *
 * One result line goes to stdout, keys and values without spaces except the
 * last, marker_line, which is the rest of the line that held STR:
 *
 *   vmmstat status=0 first_out_ms=.. marker_ms=.. exit_ms=.. peak_rss_kb=..
 *           rss_kb=.. rss_outside_kb=.. anon_outside_kb=.. excluded_maps=..
 *           excluded_rss_kb=.. start_abs_ms=.. cpu_ticks=.. kvm_exits=..
 *           marker_line=..
 *
 * status is the exit status, 128+N after signal N, or "timeout". Values that
 * were not measured (no marker seen) are -1. vmmstat exits 0 when it could
 * run the command, whatever the command's status; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define MAX_EXCLUDE 4

struct smaps_sample {
        long long rss_kb;
        long long outside_kb;
        long long anon_outside_kb;
        long long excluded_kb;
        int excluded_maps;
};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(void)
{
        fprintf(stderr, "usage: vmmstat [--marker STR] [--exclude-size BYTES]... [--log FILE] "
                        "[--stamp] [--smaps-copy FILE] [--timeout SECONDS] -- COMMAND [ARG...]\n");
        exit(2);
}

/*
 * Sums Rss over /proc/PID/smaps. A mapping's header line starts with its
 * range in lower-case hex ("start-end perms ..."); field lines start with an
 * upper-case name ("Rss:   123 kB").
 */
static int sample_smaps(pid_t pid, const unsigned long long *exclude, int nexclude,
                        const char *copy_path, struct smaps_sample *s)
{
        char path[64], line[1024];
        snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        FILE *copy = copy_path ? fopen(copy_path, "w") : NULL;
        memset(s, 0, sizeof(*s));
        int excluded = 0, at_start = 1;
        while (fgets(line, sizeof(line), f)) {
                if (copy)
                        fputs(line, copy);
                /* The tail of an overlong line (a long path) is no field. */
                int start = at_start;
                at_start = strchr(line, '\n') != NULL;
                if (!start)
                        continue;
                if (isxdigit((unsigned char)line[0]) && !isupper((unsigned char)line[0])) {
                        char *end;
                        unsigned long long lo = strtoull(line, &end, 16);
                        unsigned long long hi = *end == '-' ? strtoull(end + 1, NULL, 16) : lo;
                        excluded = 0;
                        for (int k = 0; k < nexclude; k++)
                                excluded |= hi - lo == exclude[k];
                        s->excluded_maps += excluded;
                } else if (strncmp(line, "Anonymous:", 10) == 0 && !excluded) {
                        s->anon_outside_kb += strtoll(line + 10, NULL, 10);
                } else if (strncmp(line, "Rss:", 4) == 0) {
                        long long kb = strtoll(line + 4, NULL, 10);
                        s->rss_kb += kb;
                        if (excluded)
                                s->excluded_kb += kb;
                        else
                                s->outside_kb += kb;
                }
        }
        fclose(f);
        if (copy)
                fclose(copy);
        return 0;
}

/* utime + stime of process pid (all its threads), in clock ticks; -1 if gone. */
static long long cpu_ticks(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields after the command name, which is in parentheses: state is field 3. */
        char *p = strrchr(buf, ')');
        if (!p)
                return -1;
        unsigned long long ut = 0, st = 0;
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        return (long long)(ut + st);
}

/* The exits of pid's KVM VMs so far (debugfs keeps one directory per VM). */
static long long kvm_exits(pid_t pid)
{
        char pattern[96];
        snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/kvm/%d-*/exits", (int)pid);
        glob_t g;
        if (glob(pattern, 0, NULL, &g) != 0)
                return -1;
        long long sum = 0;
        for (size_t k = 0; k < g.gl_pathc; k++) {
                FILE *f = fopen(g.gl_pathv[k], "r");
                long long v = 0;
                if (f && fscanf(f, "%lld", &v) == 1)
                        sum += v;
                if (f)
                        fclose(f);
        }
        globfree(&g);
        return sum;
}

/* Writes all of buf to fd; a failing log is not worth stopping the run. */
static void write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t)n;
        }
}

int main(int argc, char **argv)
{
        const char *marker = NULL, *log_path = NULL, *smaps_copy = NULL;
        unsigned long long exclude[MAX_EXCLUDE];
        int nexclude = 0;
        double timeout_s = 0;
        int stamp = 0, i = 1;
        for (; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                }
                if (strcmp(argv[i], "--stamp") == 0) {
                        stamp = 1;
                        continue;
                }
                if (i + 1 >= argc)
                        usage();
                if (strcmp(argv[i], "--marker") == 0)
                        marker = argv[++i];
                else if (strcmp(argv[i], "--exclude-size") == 0 && nexclude < MAX_EXCLUDE)
                        exclude[nexclude++] = strtoull(argv[++i], NULL, 0);
                else if (strcmp(argv[i], "--smaps-copy") == 0)
                        smaps_copy = argv[++i];
                else if (strcmp(argv[i], "--log") == 0)
                        log_path = argv[++i];
                else if (strcmp(argv[i], "--timeout") == 0)
                        timeout_s = strtod(argv[++i], NULL);
                else
                        usage();
        }
        if (i >= argc)
                usage();
        size_t mlen = marker ? strlen(marker) : 0;
        if (marker && (mlen == 0 || mlen >= LINE_MAX_LEN))
                usage();

        int log_fd = -1;
        if (log_path) {
                log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (log_fd < 0) {
                        fprintf(stderr, "vmmstat: %s: %s\n", log_path, strerror(errno));
                        return 2;
                }
        }
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC)) {
                perror("vmmstat: pipe");
                return 2;
        }

        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
                perror("vmmstat: fork");
                return 2;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
                        _exit(127);
                execvp(argv[i], argv + i);
                fprintf(stderr, "vmmstat: %s: %s\n", argv[i], strerror(errno));
                _exit(127);
        }
        close(pfd[1]);

        /* The current output line, to find the marker and keep its line. */
        static char line[LINE_MAX_LEN];
        static char marker_line[LINE_MAX_LEN];
        size_t llen = 0, mstart = 0;
        int seen = 0, captured = 0, timed_out = 0, at_line_start = 1;
        double t_first = -1, t_marker = -1;
        struct smaps_sample sm = {-1, -1, -1, -1, -1};
        long long ticks = -1, exits = -1;

        for (;;) {
                int wait_ms = -1;
                if (timeout_s > 0) {
                        double left = timeout_s * 1e3 - (now_ms() - t0);
                        if (left <= 0) {
                                timed_out = 1;
                                kill(pid, SIGKILL);
                                break;
                        }
                        wait_ms = (int)left + 1;
                }
                struct pollfd p = {pfd[0], POLLIN, 0};
                int rc = poll(&p, 1, wait_ms);
                if (rc < 0 && errno == EINTR)
                        continue;
                if (rc < 0) {
                        perror("vmmstat: poll");
                        kill(pid, SIGKILL);
                        break;
                }
                if (rc == 0)
                        continue; /* the timeout check above ends the run */
                char buf[8192];
                ssize_t n = read(pfd[0], buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* EOF: the command (and anything it started) is gone */
                double t = now_ms();
                if (t_first < 0)
                        t_first = t - t0;
                if (log_fd >= 0 && !stamp)
                        write_all(log_fd, buf, (size_t)n);
                if (log_fd >= 0 && stamp) {
                        /* Each line gets the arrival time of its first byte. */
                        static char out[sizeof(buf) * 2];
                        size_t o = 0;
                        for (ssize_t k = 0; k < n; k++) {
                                if (o + 32 > sizeof(out)) {
                                        write_all(log_fd, out, o);
                                        o = 0;
                                }
                                if (at_line_start)
                                        o += (size_t)snprintf(out + o, sizeof(out) - o, "%10.1f| ",
                                                              t - t0);
                                out[o++] = buf[k];
                                at_line_start = buf[k] == '\n';
                        }
                        write_all(log_fd, out, o);
                }
                for (ssize_t k = 0; k < n; k++) {
                        char c = buf[k];
                        if (c == '\n') {
                                if (seen && !captured) {
                                        size_t len = llen - mstart;
                                        memcpy(marker_line, line + mstart, len);
                                        marker_line[len] = '\0';
                                        captured = 1;
                                }
                                llen = 0;
                                continue;
                        }
                        if (c == '\r' || c == '\0')
                                continue;
                        if (llen + 1 >= sizeof(line)) {
                                if (seen && !captured)
                                        captured = 1; /* too long to keep: leave it empty */
                                llen = 0;
                        }
                        line[llen++] = c;
                        if (marker && !seen && llen >= mlen &&
                            memcmp(line + llen - mlen, marker, mlen) == 0) {
                                /* Sample first: the guest moves on at once. */
                                seen = 1;
                                t_marker = t - t0;
                                mstart = llen - mlen;
                                if (sample_smaps(pid, exclude, nexclude, smaps_copy, &sm))
                                        sm = (struct smaps_sample){-1, -1, -1, -1, -1};
                                ticks = cpu_ticks(pid);
                                exits = kvm_exits(pid);
                        }
                }
        }
        close(pfd[0]);

        int status;
        struct rusage ru;
        memset(&ru, 0, sizeof(ru));
        while (wait4(pid, &status, 0, &ru) < 0) {
                if (errno != EINTR) {
                        perror("vmmstat: wait4");
                        return 2;
                }
        }
        double t_exit = now_ms() - t0;
        if (log_fd >= 0)
                close(log_fd);
        if (seen && !captured) {
                size_t len = llen - mstart;
                memcpy(marker_line, line + mstart, len);
                marker_line[len] = '\0';
        }

        char st[32];
        if (timed_out)
                snprintf(st, sizeof(st), "timeout");
        else if (WIFEXITED(status))
                snprintf(st, sizeof(st), "%d", WEXITSTATUS(status));
        else
                snprintf(st, sizeof(st), "%d", 128 + WTERMSIG(status));
        printf("vmmstat status=%s first_out_ms=%.1f marker_ms=%.1f exit_ms=%.1f peak_rss_kb=%ld "
               "rss_kb=%lld rss_outside_kb=%lld anon_outside_kb=%lld excluded_maps=%d "
               "excluded_rss_kb=%lld start_abs_ms=%.1f cpu_ticks=%lld kvm_exits=%lld "
               "marker_line=%s\n",
               st, t_first, t_marker, t_exit, ru.ru_maxrss, sm.rss_kb, sm.outside_kb,
               sm.anon_outside_kb, sm.excluded_maps, sm.excluded_kb, t0, ticks, exits, marker_line);
        return 0;
}
