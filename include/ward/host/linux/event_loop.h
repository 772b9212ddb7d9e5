/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A poll(2) loop over a table of event sources (Linux hosts). A source is
 * a file descriptor, what to do when it is ready, and optionally whether
 * it is wanted now: a source that is not wanted (its consumer has no room)
 * is left out of this round, and the loop looks again within
 * WARD_LOOP_RETRY_MS: back-pressure instead of loss.
 */
#ifndef WARD_EVENT_LOOP_H
#define WARD_EVENT_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <time.h>

#define WARD_LOOP_RETRY_MS 10

/*
 * poll(2) by way of ppoll(2): one system call on every architecture (x86_64's
 * C library would make poll), so the allow-lists need only ppoll.
 * timeout_ms < 0: no limit.
 */
static inline int ward_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        return ppoll(fds, n, timeout_ms < 0 ? NULL : &ts, NULL);
}

struct ward_loop_source;
typedef void (*ward_loop_ready_fn)(void *ctx, struct ward_loop_source *s, short revents);
typedef bool (*ward_loop_wanted_fn)(void *ctx, struct ward_loop_source *s);

struct ward_loop_source {
        int fd;
        ward_loop_ready_fn ready;
        ward_loop_wanted_fn wanted; /* NULL: always */
        void *arg;
        unsigned index;
        bool off;     /* set by ready() when the source is gone for good */
        short events; /* what to wait for: POLLIN, as ward_loop_add() sets, or POLLOUT */
        /* Not wanted means idle, not held back: no retry within WARD_LOOP_RETRY_MS (the
         * source becomes wanted only by work this thread does, and the loop looks again
         * after each round). */
        bool idle_ok;
};

struct ward_loop {
        struct ward_loop_source *src; /* storage handed in */
        unsigned n, cap;
};

void ward_loop_init(struct ward_loop *l, struct ward_loop_source *storage, unsigned cap);
/* Adds a source; returns it, or NULL when the table is full. */
struct ward_loop_source *ward_loop_add(struct ward_loop *l, int fd, ward_loop_ready_fn ready,
                                       ward_loop_wanted_fn wanted, void *arg, unsigned index);
/*
 * Waits up to timeout_ms (-1: no limit) and calls ready() for each source
 * with events (its own, POLLHUP or POLLERR). Returns 0, or -1 with errno
 * when poll fails other than by EINTR.
 */
int ward_loop_run_once(struct ward_loop *l, void *ctx, int timeout_ms);

#endif
