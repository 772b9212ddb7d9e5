/* SPDX-License-Identifier: BSD-2-Clause */
/* One virtual machine run by this process on Linux (the `ward run` engine). */
#ifndef WARD_VMM_H
#define WARD_VMM_H

#include "ward/vm/vm_config.h"

/*
 * Builds the VM described by cfg, runs it until the guest powers off, a
 * vCPU fails or the user quits, and releases everything. Returns the
 * process exit status: 0 guest stop, 1 failure (reason printed on stderr).
 */
int ward_vmm_run(const struct ward_vm_config *cfg);

struct ward_vm_arch;
/* The machine `ward run` builds on this host (arm64 when ward has no backend here). */
const struct ward_vm_arch *ward_host_vm_arch(void);

#endif
