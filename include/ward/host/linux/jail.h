/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The jail a VMM runs in on Linux (docs/security.md#jail): its own PID,
 * mount, IPC, UTS and network namespaces, a root of its own in which none
 * of the host's files are (the VMM holds what it needs as descriptors,
 * opened while it built its VM), limits, and an unprivileged uid and gid.
 * Its capabilities and its system calls are bounded after this by caps.h
 * and seccomp_filter.h.
 */
#ifndef WARD_HOST_LINUX_JAIL_H
#define WARD_HOST_LINUX_JAIL_H

#include "ward/vm/vm_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * fork(), with the child as process 1 of a new PID namespace: it sees no
 * other process, and when it exits every process it started dies with it.
 * Only for a single-threaded caller. -1 with errno when refused (not root).
 */
pid_t ward_jail_fork_pid_ns(void);

/*
 * For a VMM started outside a PID namespace of its own (`ward run --jail`):
 * returns 0 in a child that is process 1 of a new one, while this process
 * waits for it, passes on SIGINT, SIGTERM and SIGHUP, and exits as it
 * exited (never returns). Returns 0 at once when already process 1; -1 with
 * err when the namespace is refused.
 */
int ward_jail_become_init(char *err, size_t errlen);

/*
 * Enters the jail: new mount, IPC, UTS and network namespaces; an empty
 * read-only root (with the host's /usr and library directories read-only
 * when exec is true: a VMM that starts disk backend processes runs the ward
 * binary again, through a descriptor, and its loader needs them) and with
 * j->shared_dir, when set, bound read-write at its own path; host name
 * hostname; no core dumps, no locked memory and no descriptors above what
 * is open now and a few more; then j->gid and j->uid, with no
 * supplementary groups and an empty capability bounding set. Only for a
 * single-threaded caller that is root. Returns 0, or -1 with the step that
 * failed in err.
 */
int ward_jail_enter(const struct ward_jail_config *j, const char *hostname, bool exec, char *err,
                    size_t errlen);

#endif
