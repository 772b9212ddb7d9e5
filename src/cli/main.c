/* SPDX-License-Identifier: BSD-2-Clause */
/* The `ward` command: dispatches sub-commands of the system layer. */
#include "ward/cli/cli_ctl.h"
#include "ward/cli/cli_dtb.h"
#include "ward/cli/cli_run_system.h"
#include "ward/cli/cli_system.h"
#include "ward/cli/cli_util.h"
#include "ward/cli/run_config.h"
#include "ward/host/linux/blk_process.h"
#include "ward/host/linux/vmm.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef WARD_VERSION
#define WARD_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: ward COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run        boot one virtual machine (ward run --help)\n"
    "  dtb        write a guest's device tree and layout (ward dtb --help)\n"
    "  system     check, start (up) and stop (down) a system of several VMs, or\n"
    "             generate its seL4 Microkit system (sel4) (ward system --help)\n"
    "  ctl        talk to a running system's supervisor (ward ctl --help)\n"
    "  backend    a device backend in a process of its own (started by a VMM:\n"
    "             ward backend blk)\n"
    "  switch     a network's switch in a process of its own (started by ward\n"
    "             system up)\n"
    "  version    print the version\n";

int main(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
                printf("ward %s\n", WARD_VERSION);
                return 0;
        }
        if (strcmp(argv[1], "run") == 0 && ward_cli_run_is_system(argc - 1, argv + 1))
                return ward_cli_run_system(argc - 1, argv + 1);
        if (strcmp(argv[1], "run") == 0) {
                static struct ward_vm_config cfg;
                char err[512];
                switch (ward_cli_parse_run(argc - 1, argv + 1, ward_cli_host_memory(), &cfg, err,
                                           sizeof(err))) {
                case WARD_CLI_HELP:
                        fputs(ward_run_usage, stdout);
                        return 0;
                case WARD_CLI_ERROR:
                        fprintf(stderr, "ward run: %s\n", err);
                        return 2;
                case WARD_CLI_OK:
                        break;
                }
                return ward_cli_run_vm(&cfg);
        }
        if (strcmp(argv[1], "dtb") == 0) {
                char err[512];
                int rc = ward_cli_dtb(argc - 1, argv + 1, stdout, err, sizeof(err));
                if (rc)
                        fprintf(stderr, "ward dtb: %s\n", err);
                return rc;
        }
        if (strcmp(argv[1], "backend") == 0)
                return ward_blk_backend_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "switch") == 0)
                return ward_cli_switch(argc - 1, argv + 1);
        if (strcmp(argv[1], "ctl") == 0)
                return ward_cli_ctl(argc - 1, argv + 1);
        if (strcmp(argv[1], "system") == 0 && argc > 2 && strcmp(argv[2], "up") == 0)
                return ward_cli_system_up(argc - 2, argv + 2);
        if (strcmp(argv[1], "system") == 0 && argc > 2 && strcmp(argv[2], "down") == 0)
                return ward_cli_system_down(argc - 2, argv + 2);
        if (strcmp(argv[1], "system") == 0)
                return ward_cli_system(argc - 1, argv + 1, stdout, stderr);
        fprintf(stderr, "ward: %s: unknown command (see ward --help)\n", argv[1]);
        return 2;
}
