/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward switch --system-fd FD --network NAME [--seccomp on|log|off]`: the
 * switch of network NAME of the description on FD (the supervisor's sealed
 * copy), over the ports inherited after it (switch_process.h). Started by
 * ward system up, not by hand.
 */
#include "ward/cli/cli_run_system.h"
#include "ward/desc/switch_config.h"
#include "ward/desc/system_desc.h"
#include "ward/host/linux/switch_process.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ward_cli_switch(int argc, char *const argv[])
{
        static const struct option opts[] = {
            {"system-fd", required_argument, NULL, 'f'},
            {"network", required_argument, NULL, 'n'},
            {"seccomp", required_argument, NULL, 's'},
            {"jail", required_argument, NULL, 'j'},
            {NULL, 0, NULL, 0},
        };
        struct ward_jail_config jail = {0};
        int fd = -1;
        const char *name = NULL;
        enum ward_seccomp_mode mode = WARD_SECCOMP_ON;
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                if (c == 'f')
                        fd = atoi(optarg);
                else if (c == 'j')
                        jail = (struct ward_jail_config){.on = true,
                                                         .uid = (uint32_t)atol(optarg),
                                                         .gid = (uint32_t)atol(optarg)};
                else if (c == 'n')
                        name = optarg;
                else if (c == 's' && strcmp(optarg, "log") == 0)
                        mode = WARD_SECCOMP_LOG;
                else if (c == 's' && strcmp(optarg, "off") == 0)
                        mode = WARD_SECCOMP_OFF;
                else if (!(c == 's' && strcmp(optarg, "on") == 0))
                        fd = -1, optind = argc + 1;
        }
        if (fd < 3 || !name || optind != argc || (jail.on && jail.uid == 0)) {
                fprintf(stderr, "usage: ward switch --system-fd FD --network NAME "
                                "[--seccomp on|log|off] [--jail UID] (started by ward system "
                                "up)\n");
                return 2;
        }
        size_t len;
        char *text = ward_cli_read_desc_fd(fd, &len);
        close(fd);
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        if (text)
                ward_sys_load_text("description", text, len, NULL, &d, &errs);
        free(text);
        const struct ward_sys_network *n = NULL;
        for (size_t i = 0; d && i < d->nnetworks; i++)
                if (d->networks[i].name && strcmp(d->networks[i].name, name) == 0)
                        n = &d->networks[i];
        static struct ward_vswitch_port_config ports[WARD_VSWITCH_MAX_PORTS];
        int rc = 2;
        if (ward_sys_errors_count(&errs))
                ward_sys_errors_print(&errs, "ward switch", stderr);
        else if (!n || ward_sys_switch_config(n, ports))
                fprintf(stderr, "ward switch: no network %s with 1 to %d ports\n", name,
                        WARD_VSWITCH_MAX_PORTS);
        else
                rc = ward_switch_run(name, ports, (unsigned)n->nports, fd + 1, &jail, mode);
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
        return rc;
}
