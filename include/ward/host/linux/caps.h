/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dropping every capability: a VMM that runs as root (under `ward system
 * up`) keeps root's uid but none of its privileges once its VM is built
 * (docs/security.md).
 */
#ifndef WARD_HOST_LINUX_CAPS_H
#define WARD_HOST_LINUX_CAPS_H

#include <stddef.h>

/*
 * Empties the bounding set (where this process may, i.e. it holds
 * CAP_SETPCAP) and the effective, permitted and inheritable sets, for every
 * thread of the process. Returns 0, or -1 with the reason in err.
 */
int ward_caps_drop_all(char *err, size_t errlen);

#endif
