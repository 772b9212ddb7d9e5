/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/host/linux/event_loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

void ward_loop_init(struct ward_loop *l, struct ward_loop_source *storage, unsigned cap)
{
        l->src = storage;
        l->n = 0;
        l->cap = cap;
}

struct ward_loop_source *ward_loop_add(struct ward_loop *l, int fd, ward_loop_ready_fn ready,
                                       ward_loop_wanted_fn wanted, void *arg, unsigned index)
{
        if (l->n == l->cap || fd < 0)
                return NULL;
        struct ward_loop_source *s = &l->src[l->n++];
        *s = (struct ward_loop_source){fd, ready, wanted, arg, index, false, POLLIN, false};
        return s;
}

int ward_loop_run_once(struct ward_loop *l, void *ctx, int timeout_ms)
{
        struct pollfd pfd[l->n ? l->n : 1];
        struct ward_loop_source *of[l->n ? l->n : 1];
        nfds_t n = 0;
        bool held_back = false;
        for (unsigned i = 0; i < l->n; i++) {
                struct ward_loop_source *s = &l->src[i];
                if (s->off)
                        continue;
                if (s->wanted && !s->wanted(ctx, s)) {
                        held_back |= !s->idle_ok;
                        continue;
                }
                of[n] = s;
                pfd[n++] = (struct pollfd){s->fd, s->events, 0};
        }
        if (held_back && (timeout_ms < 0 || timeout_ms > WARD_LOOP_RETRY_MS))
                timeout_ms = WARD_LOOP_RETRY_MS;
        int rc = ward_poll(pfd, n, timeout_ms);
        if (rc < 0)
                return errno == EINTR ? 0 : -1;
        for (nfds_t i = 0; i < n && rc > 0; i++)
                if (pfd[i].revents & (of[i]->events | POLLHUP | POLLERR))
                        of[i]->ready(ctx, of[i], pfd[i].revents);
        return 0;
}
