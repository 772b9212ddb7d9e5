/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The supervisor's loop: one thread, one poll over the listening socket,
 * the clients, and a signalfd for SIGCHLD (and for SIGTERM, SIGINT,
 * SIGHUP, which shut the system down); and the timers of stops and
 * restarts.
 */
#include "supervisor_internal.h"
#include "ward/host/linux/event_loop.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

void ward_sup_client_close(struct ward_sup *s, size_t k)
{
        struct client *c = &s->clients[k];
        close(c->fd);
        free(c->in);
        free(c->out);
        s->clients[k] = s->clients[--s->nclients];
}

/*
 * Who may use the control socket: the supervisor's own uid, and the uids
 * and (primary) gids the description lists, from the client's credentials
 * as the kernel saw them at connect (SO_PEERCRED).
 */
static bool peer_allowed(const struct ward_sup *s, int fd, char *why, size_t n)
{
        struct ucred cr;
        socklen_t len = sizeof(cr);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
                snprintf(why, n, "cannot read the client's credentials");
                return false;
        }
        if (cr.uid == geteuid())
                return true;
        const struct ward_sys_linux *l = &s->d->linux_opts;
        for (size_t i = 0; i < l->ncontrol_uids; i++)
                if (l->control_uids[i].ok && l->control_uids[i].cpu == (int64_t)cr.uid)
                        return true;
        for (size_t i = 0; i < l->ncontrol_gids; i++)
                if (l->control_gids[i].ok && l->control_gids[i].cpu == (int64_t)cr.gid)
                        return true;
        snprintf(why, n,
                 "uid %u (gid %u) may not use this control socket (linux.control_uids, "
                 "control_gids)",
                 (unsigned)cr.uid, (unsigned)cr.gid);
        return false;
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
                /* A client that may not use the socket gets its one error line
                 * the usual way (written, then its input drained: closing on
                 * unread input would reset the connection before it reads). */
                char why[160];
                if (!peer_allowed(s, fd, why, sizeof(why)))
                        ward_sup_client_error(&s->clients[s->nclients - 1], why);
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
                                ward_sup_handle(s, c, c->in, c->n);
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
                        ward_sup_client_error(c, e);
                        return;
                }
                char *ni = realloc(c->in, c->n + take);
                if (!ni) {
                        ward_sup_client_error(c, "out of memory");
                        return;
                }
                c->in = ni;
                memcpy(c->in + c->n, buf, take);
                c->n += take;
                if (nl) {
                        ward_sup_handle(s, c, c->in, c->n);
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
                        ward_sup_client_vms(s, c, -1);
                } else if (c->wait_vm >= 0 && s->vms[c->wait_vm].state != ST_STOPPING) {
                        struct vm_rt *v = &s->vms[c->wait_vm];
                        if (v->launch_error[0] && v->state == ST_FAILED)
                                ward_sup_client_error(c, v->launch_error);
                        else
                                ward_sup_client_vms(s, c, c->wait_vm);
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
                        ward_sup_launch(s, v);
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
        int pr = ward_poll(p, 2 + nc, wait);
        if (pr < 0 && errno != EINTR)
                return false;
        if (pr > 0 && (p[0].revents & POLLIN)) {
                struct signalfd_siginfo si;
                while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                        if (si.ssi_signo != SIGCHLD)
                                ward_sup_request_shutdown(s);
        }
        ward_sup_reap(s);
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
                                ward_sup_client_error(c, "the request did not end (no newline)");
                                client_write(c);
                                c->deadline = 0;
                        }
                        ward_sup_client_close(s, k);
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
