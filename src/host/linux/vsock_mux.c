/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio-vsock's unix-socket side; see ward/host/linux/vsock_mux.h. */
#include "ward/host/linux/vsock_mux.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_address(struct sockaddr_un *a, const char *path)
{
        memset(a, 0, sizeof(*a));
        a->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(a->sun_path))
                return -1;
        memcpy(a->sun_path, path, strlen(path));
        return 0;
}

/*
 * m->path and m->dir: path with its directory made absolute (a jailed VMM
 * keeps that directory, at the same path, to connect to the sockets there).
 */
static int absolute(struct ward_vsock_mux *m, const char *path, char *err, size_t errlen)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        int n = slash ? (slash == path ? 1 : (int)(slash - path)) : 1;
        snprintf(dir, sizeof(dir), "%.*s", n, slash ? path : ".");
        if (!*base || !realpath(dir, m->dir)) {
                snprintf(err, errlen, "--vsock: %s: %s", path,
                         *base ? strerror(errno) : "names a directory, not a socket");
                return -1;
        }
        size_t len = strlen(m->dir);
        if (len + 1 + strlen(base) > WARD_VSOCK_MAX_PATH) { /* room for _P */
                snprintf(err, errlen, "--vsock: %s: the absolute path %s/%s is too long", path,
                         m->dir, base);
                return -1;
        }
        memcpy(m->path, m->dir, len);
        if (len > 1)
                m->path[len++] = '/';
        memcpy(m->path + len, base, strlen(base) + 1);
        return 0;
}

int ward_vsock_mux_open(struct ward_vsock_mux *m, const struct ward_vsock_config *cfg, char *err,
                        size_t errlen)
{
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++)
                m->c[i] = (struct ward_vsock_mux_conn){.fd = -1};
        if (absolute(m, cfg->path, err, errlen))
                return -1;
        struct sockaddr_un a;
        m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (m->listen_fd < 0 || unix_address(&a, m->path)) {
                snprintf(err, errlen, "--vsock: %s: %s", m->path,
                         m->listen_fd < 0 ? strerror(errno) : "path too long");
                return -1;
        }
        unlink(m->path); /* a socket left by an earlier run */
        if (bind(m->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(m->listen_fd, 16) < 0) {
                snprintf(err, errlen, "--vsock: %s: %s", m->path, strerror(errno));
                return -1;
        }
        return 0;
}

void ward_vsock_mux_close(struct ward_vsock_mux *m)
{
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++) {
                if (m->c[i].fd >= 0)
                        close(m->c[i].fd);
                free(m->c[i].in);
                free(m->c[i].out);
                m->c[i] = (struct ward_vsock_mux_conn){.fd = -1};
        }
        /* The socket file stays: under its allow-list the VMM may not unlink, and the
         * next run on the same path replaces it. */
        if (m->listen_fd >= 0)
                close(m->listen_fd);
        m->listen_fd = -1;
}

/* ---- connections ---- */

/* A slot free on both sides: here, and in the device (a closing connection holds its handle). */
static int free_slot(struct ward_vsock_mux *m)
{
        for (int i = 0; i < WARD_VSOCK_MAX_CONNS; i++)
                if (m->c[i].fd < 0 && (!m->dev || !m->dev->conn[i].used))
                        return i;
        return -1;
}

static int take(struct ward_vsock_mux *m, int h, int fd)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        *c = (struct ward_vsock_mux_conn){.fd = fd};
        c->in = malloc(WARD_VSOCK_BUF);
        c->out = malloc(WARD_VSOCK_BUF);
        if (!c->in || !c->out) {
                free(c->in);
                free(c->out);
                *c = (struct ward_vsock_mux_conn){.fd = -1};
                close(fd);
                return -1;
        }
        return h;
}

static void drop(struct ward_vsock_mux *m, int h)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        if (c->fd >= 0)
                close(c->fd);
        free(c->in);
        free(c->out);
        *c = (struct ward_vsock_mux_conn){.fd = -1};
}

/* The program is gone or broke the protocol: the guest's side ends too. */
static void end(struct ward_vsock_mux *m, int h)
{
        drop(m, h);
        if (m->dev)
                ward_vsock_close(m->dev, h);
}

/* Writes what the guest sent; what the program took is the guest's new credit. */
static void flush_out(struct ward_vsock_mux *m, int h)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                end(m, h);
                        return;
                }
                c->out_off += (uint32_t)n;
                ward_vsock_forwarded(m->dev, h, (uint32_t)n);
        }
        c->out_off = c->out_len = 0;
}

/* Sends the program's bytes as the guest's credit and buffers allow. */
static void flush_in(struct ward_vsock_mux *m, int h)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        while (c->in_off < c->in_len) {
                uint32_t n = ward_vsock_send(m->dev, h, c->in + c->in_off, c->in_len - c->in_off);
                if (n == 0)
                        return; /* rx_ready says when */
                c->in_off += n;
        }
        c->in_off = c->in_len = 0;
        if (c->eof) {
                drop(m, h); /* all delivered: the guest sees the end after it */
                ward_vsock_close(m->dev, h);
        }
}

/* ---- the device's calls ---- */

static int mux_connect(void *opaque, uint32_t port)
{
        struct ward_vsock_mux *m = opaque;
        char path[sizeof(m->path) + 12];
        struct sockaddr_un a;
        int h = free_slot(m);
        snprintf(path, sizeof(path), "%s_%u", m->path, port);
        if (h < 0 || unix_address(&a, path))
                return -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
                close(fd); /* nobody listens on PATH_P: the guest gets a reset */
                return -1;
        }
        return take(m, h, fd);
}

static void mux_connected(void *opaque, int h, bool ok)
{
        struct ward_vsock_mux *m = opaque;
        struct ward_vsock_mux_conn *c = &m->c[h];
        if (c->fd < 0)
                return;
        if (!ok) {
                drop(m, h); /* the guest refused: the program sees its socket close */
                return;
        }
        c->waiting = false;
        char line[32];
        int n = snprintf(line, sizeof(line), "OK %u\n", m->dev->conn[h].hport);
        /* A program that only sends may have closed its end already: its bytes still go. */
        if (send(c->fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EPIPE &&
            errno != EAGAIN)
                end(m, h);
        else
                flush_in(m, h); /* bytes the program sent right after its CONNECT line */
}

static void mux_write(void *opaque, int h, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        struct ward_vsock_mux *m = opaque;
        struct ward_vsock_mux_conn *c = &m->c[h];
        if (c->fd < 0) {
                ward_vsock_forwarded(m->dev, h, len); /* nowhere to go: count it gone */
                return;
        }
        if (c->out_off) {
                memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
                c->out_len -= c->out_off;
                c->out_off = 0;
        }
        /* The device never lets more than WARD_VSOCK_BUF be in flight. */
        uint32_t room = WARD_VSOCK_BUF - c->out_len;
        uint32_t n = ward_iov_read(iov, niov, 0, c->out + c->out_len, WARD_MIN(len, room));
        c->out_len += n;
        flush_out(m, h);
}

/* The guest ended h: what it sent still goes out, then the program sees the end. */
static void mux_close(void *opaque, int h)
{
        struct ward_vsock_mux *m = opaque;
        struct ward_vsock_mux_conn *c = &m->c[h];
        if (c->fd < 0)
                return;
        flush_out(m, h);
        if (c->fd >= 0 && c->out_off < c->out_len)
                c->draining = true;
        else if (c->fd >= 0)
                drop(m, h);
}

static void mux_rx_ready(void *opaque, int h)
{
        struct ward_vsock_mux *m = opaque;
        if (m->c[h].fd >= 0 && !m->c[h].waiting && !m->c[h].reading_cmd)
                flush_in(m, h);
}

struct ward_vsock_backend ward_vsock_mux_backend(struct ward_vsock_mux *m)
{
        return (struct ward_vsock_backend){.connect = mux_connect,
                                           .connected = mux_connected,
                                           .write = mux_write,
                                           .close = mux_close,
                                           .rx_ready = mux_rx_ready,
                                           .opaque = m};
}

/* ---- the event loop's calls ---- */

void ward_vsock_mux_accept(struct ward_vsock_mux *m)
{
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return;
        int h = free_slot(m);
        if (h < 0) {
                close(fd); /* every connection is in use */
                return;
        }
        if (take(m, h, fd) >= 0)
                m->c[h].reading_cmd = true;
}

/* "CONNECT P\n": a port, and nothing else on the line. */
static void read_cmd(struct ward_vsock_mux *m, int h)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        ssize_t n = recv(c->fd, c->cmd + c->cmd_len, sizeof(c->cmd) - 1 - c->cmd_len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                drop(m, h);
                return;
        }
        if (n < 0)
                return;
        c->cmd_len += (unsigned)n;
        c->cmd[c->cmd_len] = '\0';
        char *nl = strchr(c->cmd, '\n');
        if (!nl) {
                if (c->cmd_len == sizeof(c->cmd) - 1)
                        drop(m, h); /* no line in 31 bytes: not a CONNECT */
                return;
        }
        *nl = '\0';
        char *end_;
        unsigned long port =
            strncmp(c->cmd, "CONNECT ", 8) == 0 && c->cmd[8] >= '0' && c->cmd[8] <= '9'
                ? strtoul(c->cmd + 8, &end_, 10)
                : 0;
        if (port == 0 || port > UINT32_MAX || *end_ != '\0') {
                drop(m, h);
                return;
        }
        /* Bytes after the line are the program's first data. */
        uint32_t rest = c->cmd_len - (uint32_t)(nl + 1 - c->cmd);
        memcpy(c->in, nl + 1, rest);
        c->in_len = rest;
        c->reading_cmd = false;
        c->waiting = true;
        if (ward_vsock_connect_guest(m->dev, h, (uint32_t)port) < 0)
                drop(m, h);
}

bool ward_vsock_mux_wants_input(const struct ward_vsock_mux *m, int h)
{
        const struct ward_vsock_mux_conn *c = &m->c[h];
        return c->fd >= 0 && !c->draining &&
               (c->reading_cmd || (!c->waiting && !c->eof && c->in_off == c->in_len));
}

bool ward_vsock_mux_wants_output(const struct ward_vsock_mux *m, int h)
{
        const struct ward_vsock_mux_conn *c = &m->c[h];
        return c->fd >= 0 && c->out_off < c->out_len;
}

void ward_vsock_mux_ready(struct ward_vsock_mux *m, int h)
{
        struct ward_vsock_mux_conn *c = &m->c[h];
        if (c->fd < 0 || !m->dev)
                return;
        if (c->reading_cmd) {
                read_cmd(m, h);
                return;
        }
        if (c->draining) {
                flush_out(m, h);
                if (c->fd >= 0 && c->out_off == c->out_len)
                        drop(m, h);
                return;
        }
        if (c->out_off < c->out_len)
                flush_out(m, h);
        if (c->fd < 0 || c->waiting || c->eof || c->in_off < c->in_len)
                return;
        ssize_t n = recv(c->fd, c->in, WARD_VSOCK_BUF, MSG_DONTWAIT);
        if (n == 0) {
                c->eof = true;
                flush_in(m, h);
                return;
        }
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        end(m, h);
                return;
        }
        c->in_off = 0;
        c->in_len = (uint32_t)n;
        flush_in(m, h);
}
