/* SPDX-License-Identifier: BSD-2-Clause */
/* `ward run --system FILE --vm NAME` (and the supervisor's --system-fd form). */
#ifndef WARD_CLI_RUN_SYSTEM_H
#define WARD_CLI_RUN_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>

/* True when `ward run`'s arguments take the VM from a description. */
bool ward_cli_run_is_system(int argc, char *const argv[]);
/* Runs that VM; returns the exit status (2: bad arguments or description). */
int ward_cli_run_system(int argc, char *const argv[]);
/* The description text on the supervisor's sealed memfd (pread from 0:
 * every process it starts shares one file offset); malloc'd. */
char *ward_cli_read_desc_fd(int fd, size_t *len);
/* `ward switch`: a network's switch, started by ward system up (src/cli/cli_switch.c). */
int ward_cli_switch(int argc, char *const argv[]);

#endif
