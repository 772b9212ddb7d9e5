/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API's client side (docs/control-api.md): one request, one
 * reply over the supervisor's socket, for `ward ctl`, `ward system down`
 * and the supervisor's own check for a running twin; and the monotonic
 * clock that the supervisor and the clients share.
 */
#include "ward/supervisor/control_api.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_to(const char *path, char *err, size_t errlen)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(a.sun_path)) {
                snprintf(err, errlen, "%s: socket path too long", path);
                return -1;
        }
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(err, errlen, "socket: %s", strerror(errno));
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
                snprintf(err, errlen, "%s: %s (is the system up?)", path, strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}

bool ward_ctl_socket_alive(const char *socket_path)
{
        char err[256];
        int fd = connect_to(socket_path, err, sizeof(err));
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int64_t ward_ctl_now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int ward_ctl_call(const char *socket_path, const char *request, int timeout_ms, char **reply,
                  char *err, size_t errlen)
{
        *reply = NULL;
        int fd = connect_to(socket_path, err, errlen);
        if (fd < 0)
                return -1;
        size_t len = strlen(request), off = 0;
        while (off < len) {
                ssize_t w = send(fd, request + off, len - off, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        snprintf(err, errlen, "%s: send: %s", socket_path, strerror(errno));
                        close(fd);
                        return -1;
                }
                off += (size_t)w;
        }
        if (len == 0 || request[len - 1] != '\n')
                (void)send(fd, "\n", 1, MSG_NOSIGNAL);
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        int64_t deadline = timeout_ms < 0 ? -1 : ward_ctl_now_ms() + timeout_ms;
        for (;;) {
                if (!buf) {
                        snprintf(err, errlen, "out of memory");
                        break;
                }
                if (n + 1 >= cap) {
                        if (cap >= (8u << 20)) {
                                snprintf(err, errlen, "%s: the reply is too large", socket_path);
                                break;
                        }
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                continue;
                        }
                        buf = nb;
                        cap *= 2;
                }
                int wait = -1;
                if (deadline >= 0) {
                        int64_t left = deadline - ward_ctl_now_ms();
                        wait = left > 0 ? (int)left : 0;
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int pr = poll(&p, 1, wait);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr == 0) {
                        snprintf(err, errlen, "%s: no reply within %d ms", socket_path, timeout_ms);
                        break;
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        snprintf(err, errlen, "%s: read: %s", socket_path, strerror(errno));
                        break;
                }
                n += (size_t)r;
                if (r == 0 || (n && buf[n - 1] == '\n')) {
                        if (n == 0) {
                                snprintf(err, errlen, "%s: the supervisor closed the connection",
                                         socket_path);
                                break;
                        }
                        buf[n] = '\0';
                        close(fd);
                        *reply = buf;
                        return 0;
                }
        }
        free(buf);
        close(fd);
        return -1;
}

int ward_ctl_socket_of(const char *file, char *buf, size_t size, char *err, size_t errlen)
{
        FILE *fp = fopen(file, "rb");
        if (!fp) {
                snprintf(err, errlen, "%s: %s", file, strerror(errno));
                return -1;
        }
        char *text = malloc(WARD_SYS_MAX_FILE + 1);
        size_t len = text ? fread(text, 1, WARD_SYS_MAX_FILE + 1, fp) : 0;
        fclose(fp);
        if (!text || len > WARD_SYS_MAX_FILE) {
                free(text);
                snprintf(err, errlen, "%s: too large or out of memory", file);
                return -1;
        }
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = ward_sys_parse(text, len, &errs);
        free(text);
        int rc = -1;
        if (!d || ward_sys_errors_count(&errs)) {
                snprintf(err, errlen, "%s: not a valid description (see ward system check %s)",
                         file, file);
        } else {
                const char *sock = d->linux_opts.control_socket ? d->linux_opts.control_socket
                                                                : WARD_SYS_DEFAULT_SOCKET;
                char *dir = strdup(file);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash)
                        *slash = '\0';
                if (ward_sys_path_join(slash ? (dir[0] ? dir : "/") : ".", sock, buf, size))
                        snprintf(err, errlen, "%s: the control socket's path is too long", file);
                else
                        rc = 0;
                free(dir);
        }
        ward_sys_free(d);
        ward_sys_errors_free(&errs);
        return rc;
}
