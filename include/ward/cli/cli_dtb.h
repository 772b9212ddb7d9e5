/* SPDX-License-Identifier: BSD-2-Clause */
/* `ward dtb`: a guest's device tree and layout, made on the build host. */
#ifndef WARD_CLI_DTB_H
#define WARD_CLI_DTB_H

#include <stddef.h>
#include <stdio.h>

extern const char ward_dtb_usage[];

/*
 * Runs `ward dtb` (argv[0] is "dtb"). Layout lines go to info. Returns the
 * exit status: 0, or 2 with err holding one line naming the problem.
 */
int ward_cli_dtb(int argc, char *const argv[], FILE *info, char *err, size_t errlen);

#endif
