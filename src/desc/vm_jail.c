/* SPDX-License-Identifier: BSD-2-Clause */
/* A VM's jail as its description says it (see ward/desc/system_desc.h). */
#include "ward/desc/system_desc.h"

#include <string.h>

struct ward_sys_jail ward_sys_vm_jail(const struct ward_sys_desc *d, size_t vm)
{
        struct ward_sys_jail j = {true, WARD_SYS_JAIL_ID_BASE + (int64_t)vm, 0};
        j.gid = j.uid;
        for (size_t i = 0; i < d->linux_opts.nvms; i++) {
                const struct ward_sys_linux_vm *lv = &d->linux_opts.vms[i];
                if (!lv->vm || !d->vms[vm].name || strcmp(lv->vm, d->vms[vm].name) != 0)
                        continue;
                j.on = lv->jail;
                j.uid = lv->uid_set ? lv->uid : j.uid;
                j.gid = lv->gid_set ? lv->gid : lv->uid_set ? lv->uid : j.gid;
        }
        return j;
}
