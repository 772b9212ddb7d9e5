/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dropping every capability (see ward/host/linux/caps.h), without libcap:
 * prctl(PR_CAPBSET_DROP) for the bounding set, capset for the rest. capset
 * acts on the calling thread only, so a multi-threaded caller drops in each
 * thread (the VMM: before its vCPU threads start, which inherit the empty
 * sets).
 */
#include "ward/host/linux/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int ward_caps_drop_all(char *err, size_t errlen)
{
        /* Without CAP_SETPCAP (not root) the bounding set cannot shrink, and
         * the other sets are empty already. */
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL &&
                    errno != EPERM) {
                        snprintf(err, errlen, "cannot drop capability %d: %s", cap,
                                 strerror(errno));
                        return -1;
                }
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct none[2];
        memset(none, 0, sizeof(none));
        if (syscall(SYS_capset, &hdr, none) != 0) {
                snprintf(err, errlen, "cannot drop capabilities: %s", strerror(errno));
                return -1;
        }
        return 0;
}
