/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One VM of a system description as the VM core's config: the one path
 * from the description to a running VM (no `ward run` arguments between).
 * The supervisor uses it to know which descriptors a VMM inherits; the
 * VMM (`ward run --system-fd`) uses it to build its VM.
 */
#ifndef WARD_DESC_VM_CONFIG_H
#define WARD_DESC_VM_CONFIG_H

#include "ward/desc/system_desc.h"
#include "ward/vm/vm_config.h"

#include <limits.h>

struct ward_sys_vm_config {
        struct ward_vm_config cfg;
        char kernel[PATH_MAX], initrd[PATH_MAX];
        char disk[WARD_MAX_DISKS][PATH_MAX];
        /*
         * Which descriptor each inherited fd stands for, in fd order: the
         * shared regions first (index into d->shared), then the doorbells
         * (index into d->doorbells, and which end: 0 from, 1 to).
         */
        size_t shm_src[WARD_MAX_SHM];
        size_t db_src[WARD_MAX_DOORBELLS];
        int db_end[WARD_MAX_DOORBELLS];
        /* Then three per NIC (its port's memfd and two eventfds): the
         * network (index into d->networks) and the port in it. */
        size_t net_src[WARD_MAX_NETS], net_port[WARD_MAX_NETS];
};

/*
 * Fills out for VM `name` of d. Relative paths are taken from desc_dir. The
 * shared regions and doorbells the VM takes part in get the descriptors
 * first_fd, first_fd + 1, ... (regions, then doorbells). Fails with one
 * line in err when the VM is unknown or does not fit a VMM's limits.
 */
int ward_sys_vm_config(const struct ward_sys_desc *d, const char *name, const char *desc_dir,
                       int first_fd, struct ward_sys_vm_config *out, char *err, size_t errlen);

#endif
