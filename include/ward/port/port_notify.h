/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Waking the other side of a remote port: an eventfd write on Linux,
 * microkit_notify() on seL4. The core only ever calls it; what it does is
 * the host's business, which keeps the port code free of system calls.
 */
#ifndef WARD_PORT_NOTIFY_H
#define WARD_PORT_NOTIFY_H

#include "ward/util/util.h"

struct ward_port_notify {
        void (*notify)(void *opaque);
        void *opaque;
};

/* A port without a notify op (NULL) is polled by its peer instead. */
static inline void ward_port_notify(const struct ward_port_notify *n)
{
        if (n->notify)
                n->notify(n->opaque);
}

/* Which end of a port a side is: the VMM (device) end, or the backend server. */
enum ward_port_side {
        WARD_PORT_CLIENT,
        WARD_PORT_SERVER,
};

#endif
