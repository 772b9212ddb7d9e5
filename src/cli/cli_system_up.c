/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward system up` (checks the description, then runs the supervisor,
 * daemonised unless --foreground) and `ward system down` (the shutdown op).
 */
#include "ward/cli/cli_system.h"
#include "ward/cli/cli_util.h"
#include "ward/host/linux/seccomp_filter.h"
#include "ward/host/linux/vmm.h"
#include "ward/supervisor/control_api.h"
#include "ward/supervisor/supervisor.h"
#include "ward/vm/vm_arch.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Set up (its socket, regions, cgroups, the first VMMs): from here on the
 * supervisor only serves, under its allow-list (docs/security.md#seccomp).
 */
static void foreground_loop(struct ward_sup *s, const struct ward_sys_desc *d)
{
        char err[160];
        if (ward_seccomp_install(WARD_SECCOMP_SUPERVISOR,
                                 (enum ward_seccomp_mode)d->linux_opts.seccomp, false, err,
                                 sizeof(err))) {
                fprintf(stderr, "ward system up: %s\n", err);
                return;
        }
        while (!ward_sup_poll(s, 1000))
                ;
}

/* The supervisor in this process until it shuts down. */
static int run_foreground(const struct ward_sys_desc *d, const struct ward_sup_config *cfg,
                          const char *file)
{
        char err[512];
        struct ward_sup *s = ward_sup_new(d, cfg, err, sizeof(err));
        if (!s) {
                fprintf(stderr, "ward system up: %s\n", err);
                return 1;
        }
        printf("ward system up: %s: %zu VMs, control socket %s, console logs in %s\n", file,
               d->nvms, cfg->socket_path, cfg->log_dir);
        fflush(stdout);
        foreground_loop(s, d);
        ward_sup_free(s);
        return 0;
}

/* The daemon (the child of run_daemon): reports "ok PID" or the error on
 * report_fd once the supervisor is set up, then runs it. */
static _Noreturn void daemon_child(struct ward_sys_desc *d, const struct ward_sup_config *cfg,
                                   int report_fd)
{
        char err[512];
        setsid();
        if (chdir("/") != 0)
                _exit(1);
        int null = open("/dev/null", O_RDWR);
        char slog[PATH_MAX + 32];
        snprintf(slog, sizeof(slog), "%s/supervisor.log", cfg->log_dir);
        dup2(null, 0);
        dup2(null, 1);
        struct ward_sup *s = ward_sup_new(d, cfg, err, sizeof(err));
        if (!s) {
                dprintf(report_fd, "%s\n", err);
                _exit(1);
        }
        int lfd = open(slog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        dup2(lfd >= 0 ? lfd : null, 2);
        dprintf(report_fd, "ok %d\n", (int)getpid());
        close(report_fd);
        foreground_loop(s, d);
        ward_sup_free(s);
        ward_sys_free(d);
        _exit(0);
}

/* The supervisor as a daemon: returns once it is up (0) or has failed (1). */
static int run_daemon(struct ward_sys_desc *d, const struct ward_sup_config *cfg, const char *file)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC)) {
                perror("ward system up: pipe");
                return 1;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                perror("ward system up: fork");
                return 1;
        }
        if (pid == 0) {
                close(pfd[0]);
                daemon_child(d, cfg, pfd[1]);
        }
        close(pfd[1]);
        char msg[600];
        ssize_t n = 0, r;
        while ((r = read(pfd[0], msg + n, sizeof(msg) - 1 - (size_t)n)) > 0)
                n += r;
        close(pfd[0]);
        msg[n > 0 ? n : 0] = '\0';
        if (strncmp(msg, "ok ", 3) == 0) {
                printf("ward system up: %s: %zu VMs, supervisor pid %d, control socket %s, "
                       "console logs in %s\n",
                       file, d->nvms, atoi(msg + 3), cfg->socket_path, cfg->log_dir);
                return 0;
        }
        fprintf(stderr, "ward system up: %s", n > 0 ? msg : "the supervisor failed\n");
        return 1;
}

/* FILE [--foreground]: -1 when good, else the exit status. */
static int parse_up_args(int argc, char *const argv[], const char **file, bool *fg)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--foreground")) {
                        *fg = true;
                } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        fputs(ward_system_usage, stdout);
                        return 0;
                } else if (argv[i][0] == '-' || *file) {
                        fprintf(stderr, "ward system up: %s: unexpected argument\n", argv[i]);
                        return 2;
                } else {
                        *file = argv[i];
                }
        }
        if (!*file) {
                fprintf(stderr, "ward system up: which file? (ward system up FILE)\n");
                return 2;
        }
        return -1;
}

/* The control socket's and the log directory's absolute paths. */
static int linux_paths(const struct ward_sys_desc *d, const char *dir, char *sock, char *logs,
                       size_t size)
{
        return ward_sys_path_join(dir,
                                  d->linux_opts.control_socket ? d->linux_opts.control_socket
                                                               : WARD_SYS_DEFAULT_SOCKET,
                                  sock, size) ||
               ward_sys_path_join(dir,
                                  d->linux_opts.console_log_dir ? d->linux_opts.console_log_dir
                                                                : WARD_SYS_DEFAULT_LOG_DIR,
                                  logs, size);
}

int ward_cli_system_up(int argc, char *const argv[])
{
        const char *file = NULL;
        bool fg = false;
        int usage = parse_up_args(argc, argv, &file, &fg);
        if (usage >= 0)
                return usage;
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        struct ward_sys_facts facts = {.host_ram_bytes = ward_cli_host_memory(),
                                       .host_cpus = ncpu > 0 ? (unsigned)ncpu : 0,
                                       .arch = ward_sys_arch_named(ward_host_vm_arch()->name)};
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        size_t len = 0;
        int rerr = 0;
        /* One read: the text checked here is the text every VMM gets. */
        char *text = ward_sys_read(file, &len, &rerr);
        if (!text)
                ward_sys_error_add(&errs, "/", "cannot read the description: %s", strerror(rerr));
        if (!text || ward_sys_load_text(file, text, len, &facts, &d, &errs) || !d) {
                ward_sys_errors_print(&errs, file, stderr);
                ward_sys_errors_free(&errs);
                ward_sys_free(d);
                free(text);
                return 2;
        }
        ward_sys_errors_free(&errs);
        char dir[PATH_MAX], sock[PATH_MAX], logs[PATH_MAX], err[512];
        int rc = 2;
        if (ward_sys_desc_dir(file, dir, sizeof(dir))) {
                fprintf(stderr, "ward system up: %s: cannot resolve its directory\n", file);
        } else if (linux_paths(d, dir, sock, logs, PATH_MAX)) {
                fprintf(stderr, "ward system up: %s: a linux path is too long\n", file);
        } else if (ward_sup_check_runnable(d, dir, err, sizeof(err))) {
                fprintf(stderr, "ward system up: %s: %s\n", file, err);
        } else {
                struct ward_sup_config cfg = {.socket_path = sock,
                                              .log_dir = logs,
                                              .desc_dir = dir,
                                              .desc_text = text,
                                              .desc_len = len};
                rc = fg ? run_foreground(d, &cfg, file) : run_daemon(d, &cfg, file);
        }
        ward_sys_free(d);
        free(text);
        return rc;
}

int ward_cli_system_down(int argc, char *const argv[])
{
        const char *file = NULL, *sock = NULL;
        int64_t grace = -1;
        for (int i = 1; i < argc; i++) {
                if ((!strcmp(argv[i], "--socket") || !strcmp(argv[i], "--grace")) && i + 1 < argc) {
                        if (!strcmp(argv[i], "--socket"))
                                sock = argv[++i];
                        else if (ward_cli_parse_seconds_ms(argv[++i], &grace)) {
                                fprintf(stderr, "ward system down: --grace: 0 to 3600 s\n");
                                return 2;
                        }
                } else if (argv[i][0] == '-' || file) {
                        fprintf(stderr, "ward system down: %s: unexpected argument\n", argv[i]);
                        return 2;
                } else {
                        file = argv[i];
                }
        }
        char path[PATH_MAX], err[512];
        if (file) {
                if (ward_ctl_socket_of(file, path, sizeof(path), err, sizeof(err))) {
                        fprintf(stderr, "ward system down: %s\n", err);
                        return 2;
                }
                sock = path;
        }
        if (!sock) {
                fprintf(stderr, "ward system down: which file? (ward system down FILE)\n");
                return 2;
        }
        char req[128];
        if (grace >= 0)
                snprintf(req, sizeof(req), "{\"api\":1,\"op\":\"shutdown\",\"grace_ms\":%lld}",
                         (long long)grace);
        else
                snprintf(req, sizeof(req), "{\"api\":1,\"op\":\"shutdown\"}");
        char *reply = NULL;
        if (ward_ctl_call(sock, req, -1, &reply, err, sizeof(err))) {
                fprintf(stderr, "ward system down: %s\n", err);
                return 2;
        }
        free(reply);
        /* The supervisor unlinks its socket as it exits. */
        for (int i = 0; i < 300 && access(sock, F_OK) == 0; i++)
                usleep(100000);
        if (access(sock, F_OK) == 0) {
                fprintf(stderr, "ward system down: %s is still there after 30 s\n", sock);
                return 1;
        }
        printf("ward system down: stopped\n");
        return 0;
}
