/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Remote ports between Linux processes: the shared region is a memfd mapped
 * MAP_SHARED, notifications are eventfds (one per direction), and a unix
 * socket pair tells each side when the other has gone (it reads EOF). This
 * mirrors seL4 Microkit, where the region is a memory region and the
 * notifications are channels.
 *
 * Created before fork(): the child inherits the mapping and the fds. Each
 * process then calls ward_port_linux_take_side() to keep only its end of
 * the socket pair, so that a side's exit is seen by the other. (Handing the
 * fds to an unrelated process over a unix socket is the next step; the
 * struct holds every fd that would travel.)
 *
 * The memfd is sealed against shrinking and growing: a peer that could
 * truncate it would make the other side's next access fault (SIGBUS).
 */
#ifndef WARD_PORT_LINUX_H
#define WARD_PORT_LINUX_H

#include "ward/port/port_notify.h"

#include <stddef.h>

struct ward_port_linux {
        int mem_fd;
        void *mem;
        size_t size;
        int to_server; /* eventfd: the client's notifications for the server */
        int to_client; /* eventfd: the server's notifications for the client */
        int ctl[2];    /* socket pair: [WARD_PORT_CLIENT] and [WARD_PORT_SERVER] ends */
        enum ward_port_side side;
        bool sided; /* take_side() was called */
};

/*
 * Creates a zero-filled shared region of `size` bytes (rounded up to the
 * page size) and the notification fds, all close-on-exec. name shows in
 * /proc/<pid>/fd. On failure err gets one line, nothing is left open, and
 * -1 is returned.
 */
int ward_port_linux_create(struct ward_port_linux *p, const char *name, size_t size, char *err,
                           size_t errlen);
/* Unmaps and closes everything this process holds; safe to call twice. */
void ward_port_linux_close(struct ward_port_linux *p);
/* After fork(): this process is `side`; closes the other side's socket end. */
void ward_port_linux_take_side(struct ward_port_linux *p, enum ward_port_side side);

/* The notify op that wakes the peer of `side` (an eventfd write). */
struct ward_port_notify ward_port_linux_notifier(struct ward_port_linux *p,
                                                 enum ward_port_side side);
/* The eventfd that becomes readable when side's peer notifies it (for the caller's poll). */
int ward_port_linux_event_fd(const struct ward_port_linux *p, enum ward_port_side side);

/*
 * Waits up to timeout_ms (-1: forever) for a notification to `side` and
 * clears it. Returns 1 when notified, 0 on timeout, -1 when the peer has
 * gone (or on error).
 */
int ward_port_linux_wait(struct ward_port_linux *p, enum ward_port_side side, int timeout_ms);

struct ward_net_port;

/*
 * Attaches one side to a network port someone else made and handed down
 * (ward system up): its memfd at mem_fd, the eventfd that wakes the server at
 * mem_fd + 1 and the one that wakes the client at mem_fd + 2. Maps the region
 * at *mem (ward_net_port_region_bytes(WARD_NET_PORT_RING) bytes), closes
 * mem_fd, makes the eventfds non-blocking, and sets *wait_fd to the one that
 * wakes this side; the port's notify writes the other, kept in *kick_fd (the
 * notify holds its address). Returns 0, or -1 with the reason in err.
 */
int ward_net_port_linux_attach(struct ward_net_port *p, int mem_fd, enum ward_port_side side,
                               void **mem, int *wait_fd, int *kick_fd, char *err, size_t errlen);

#endif
