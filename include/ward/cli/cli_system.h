/* SPDX-License-Identifier: BSD-2-Clause */
/* `ward system ...`: check, sel4, up and down (docs/system-description.md). */
#ifndef WARD_CLI_SYSTEM_H
#define WARD_CLI_SYSTEM_H

#include <stdio.h>

extern const char ward_system_usage[];

/* Runs `ward system ...` (argv[0] is "system"); returns the exit status. */
int ward_cli_system(int argc, char *const argv[], FILE *out, FILE *err);

/* Runs `ward system sel4 ...` (argv[0] is "sel4"); returns the exit status. */
int ward_cli_system_sel4(int argc, char *const argv[], FILE *out, FILE *err);

/* `ward system up` and `ward system down` (argv[0] is "up" or "down"). */
int ward_cli_system_up(int argc, char *const argv[]);
int ward_cli_system_down(int argc, char *const argv[]);

#endif
