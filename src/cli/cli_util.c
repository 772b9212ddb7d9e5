/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers that several `ward` commands share. */
#include "ward/cli/cli_util.h"
#include "ward/host/linux/jail.h"
#include "ward/host/linux/vmm.h"
#include "ward/supervisor/control_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

uint64_t ward_cli_host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
        return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

int ward_cli_parse_seconds_ms(const char *s, int64_t *ms)
{
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (errno || end == s || *end || !(d >= 0) || d > WARD_CTL_MAX_GRACE_MS / 1000)
                return -1;
        *ms = (int64_t)(d * 1000);
        return 0;
}

int ward_cli_run_vm(const struct ward_vm_config *cfg)
{
        char err[256];
        if (cfg->jail.on && ward_jail_become_init(err, sizeof(err))) {
                fprintf(stderr, "ward: %s\n", err);
                return 1;
        }
        return ward_vmm_run(cfg);
}
