/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers that several `ward` commands share. */
#ifndef WARD_CLI_UTIL_H
#define WARD_CLI_UTIL_H

#include "ward/vm/vm_config.h"

#include <stdint.h>

/* This host's RAM in bytes; 0 when unknown. */
uint64_t ward_cli_host_memory(void);

/* Parses a number of seconds (0 to 3600, fractions allowed) to
 * milliseconds, as --grace takes it. Returns 0, or -1. */
int ward_cli_parse_seconds_ms(const char *s, int64_t *ms);

/*
 * Runs the VM of cfg in this process (ward_vmm_run), in a PID namespace of
 * its own first when it is jailed (ward/host/linux/jail.h). Returns its
 * exit status, 1 when the namespace is refused.
 */
int ward_cli_run_vm(const struct ward_vm_config *cfg);

#endif
