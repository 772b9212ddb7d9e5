/* SPDX-License-Identifier: BSD-2-Clause */
/* Before anything starts: every VM fits what one VMM takes. */
#include "supervisor_internal.h"
#include "ward/desc/vm_config.h"

int ward_sup_check_runnable(const struct ward_sys_desc *d, const char *desc_dir, char *err,
                            size_t errlen)
{
        static struct ward_sys_vm_config vc;
        for (size_t i = 0; i < d->nvms; i++)
                if (ward_sys_vm_config(d, d->vms[i].name, desc_dir, 4, &vc, err, errlen))
                        return -1;
        return 0;
}
