/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The process that starts a VMM's disk backends (`ward backend blk`) for
 * it, so that the VMM itself never forks or executes a program: its
 * allow-list has no clone, no exec and no open (docs/security.md#seccomp).
 *
 * The VMM forks it first thing, before it maps guest memory or opens
 * anything of its VM's. It holds the ward binary open, enters the VMM's
 * jail shape (its own mount, IPC, UTS and network namespaces and root, the
 * same uid), drops its capabilities, installs its own allow-list and then
 * only serves one socket: each message carries the server end of a block
 * port the VMM made and the disk, as descriptors, and it answers with the
 * new backend's pid. It reaps its children; it exits when the VMM closes
 * the socket (or dies: it goes with its parent).
 */
#ifndef WARD_HOST_LINUX_BLK_STARTER_H
#define WARD_HOST_LINUX_BLK_STARTER_H

#include "ward/vm/vm_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How many backends one starter starts, at most (first ones and restarts). */
#define WARD_BLK_STARTER_MAX_STARTS 256

struct ward_blk_starter {
        int sock; /* -1: none */
        pid_t pid;
};

/*
 * Forks the starter, which runs the ward binary exe for each backend. It
 * is jailed like a VMM of cfg (cfg->jail, cfg->name; exec allowed) and
 * filtered by cfg->seccomp. Only for a single-threaded caller. Returns 0,
 * or -1 with the reason in err.
 */
int ward_blk_starter_fork(struct ward_blk_starter *st, const char *exe,
                          const struct ward_vm_config *cfg, char *err, size_t errlen);

/*
 * Starts a backend on the port whose server end is fds[0..3] (region,
 * to_server, to_client, the server's socket end) for the disk open as
 * fds[4] (named path in messages). The descriptors stay the caller's.
 * Returns the backend's pid, or -1 with the reason in err.
 */
pid_t ward_blk_starter_start(struct ward_blk_starter *st, const int fds[5], bool read_only,
                             const char *path, enum ward_seccomp_mode seccomp, char *err,
                             size_t errlen);

/* Closes the socket (the starter exits) and reaps it. */
void ward_blk_starter_close(struct ward_blk_starter *st);

#endif
