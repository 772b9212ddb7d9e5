/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * System-call allow-lists (seccomp-bpf through libseccomp). A VMM installs
 * its list once the VM is built and before the guest runs; a disk backend
 * process installs its own before it serves requests. A call outside the
 * list kills the process with SIGSYS, after one line on stderr that names
 * the call (docs/security.md#seccomp lists every call and why).
 */
#ifndef WARD_HOST_LINUX_SECCOMP_FILTER_H
#define WARD_HOST_LINUX_SECCOMP_FILTER_H

#include "ward/vm/vm_config.h" /* enum ward_seccomp_mode */

#include <stdbool.h>
#include <stddef.h>

enum ward_seccomp_profile {
        WARD_SECCOMP_VMM,        /* ward run: vCPU threads and the main loop */
        WARD_SECCOMP_BACKEND,    /* ward backend blk */
        WARD_SECCOMP_STARTER,    /* a VMM's disk backend starter (blk_starter.h) */
        WARD_SECCOMP_SUPERVISOR, /* ward system up's supervisor, and what its VMMs inherit */
};

/* What a VMM's list holds besides the profile's own calls. */
#define WARD_SECCOMP_WITH_PORTS 1u /* block ports for backend processes (below) */
#define WARD_SECCOMP_WITH_VSOCK 2u /* vsock connections to and from unix sockets */

/*
 * Installs the profile's list on every thread of the process. extras
 * (WARD_SECCOMP_WITH_*): PORTS, the VMM makes block ports for backend
 * processes (a memfd, eventfds, a socket pair, sealing, and sending the
 * server end to its starter); VSOCK, it accepts host connections on its
 * vsock socket and connects to PATH_P for the guest.
 * Returns 0, or -1 with the reason in err (nothing installed).
 */
int ward_seccomp_install(enum ward_seccomp_profile profile, enum ward_seccomp_mode mode,
                         unsigned extras, char *err, size_t errlen);

/* The number of distinct system calls the profile allows on this architecture. */
unsigned ward_seccomp_count(enum ward_seccomp_profile profile, unsigned extras);

#endif
