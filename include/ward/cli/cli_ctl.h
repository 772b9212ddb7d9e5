/* SPDX-License-Identifier: BSD-2-Clause */
/* `ward ctl`: the command-line client of the control API (docs/control-api.md). */
#ifndef WARD_CLI_CTL_H
#define WARD_CLI_CTL_H

#include <stdint.h>

/* `ward ctl ...` (argv[0] is "ctl"): returns the exit status. */
int ward_cli_ctl(int argc, char *const argv[]);

/*
 * `ward ctl console VM --attach`: prints the VM's console log from its last
 * `bytes` bytes on and follows it, and sends standard input to the VM's
 * console. Ends at Ctrl-] (a terminal) or a second after standard input's
 * end, or when the VM stops. Returns the exit status.
 */
int ward_ctl_attach(const char *sock, const char *vm, int64_t bytes);

#endif
