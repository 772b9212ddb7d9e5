/* SPDX-License-Identifier: BSD-2-Clause */
/* A description's VM as a struct ward_vm_config (see ward/desc/vm_config.h). */
#include "ward/desc/vm_config.h"

#include <stdio.h>
#include <string.h>

static const struct ward_sys_vm *find_vm(const struct ward_sys_desc *d, const char *name)
{
        for (size_t i = 0; i < d->nvms; i++)
                if (d->vms[i].name && strcmp(d->vms[i].name, name) == 0)
                        return &d->vms[i];
        return NULL;
}

static int paths(const struct ward_sys_vm *vm, const char *dir, struct ward_sys_vm_config *out,
                 char *err, size_t errlen)
{
        struct ward_vm_config *c = &out->cfg;
        if (!vm->kernel || ward_sys_path_join(dir, vm->kernel, out->kernel, sizeof(out->kernel)))
                goto bad;
        c->kernel = out->kernel;
        if (vm->initrd) {
                if (ward_sys_path_join(dir, vm->initrd, out->initrd, sizeof(out->initrd)))
                        goto bad;
                c->initrd = out->initrd;
        }
        if (vm->ndisks > WARD_MAX_DISKS) {
                snprintf(err, errlen, "vm %s: a VMM takes at most %d disks", vm->name,
                         WARD_MAX_DISKS);
                return -1;
        }
        for (size_t i = 0; i < vm->ndisks; i++) {
                if (!vm->disks[i].path ||
                    ward_sys_path_join(dir, vm->disks[i].path, out->disk[i], sizeof(out->disk[i])))
                        goto bad;
                c->disks[i] = (struct ward_disk_config){out->disk[i], vm->disks[i].read_only,
                                                        vm->disks[i].process};
        }
        c->ndisks = (unsigned)vm->ndisks;
        if (vm->vsock.set) {
                char path[sizeof(out->kernel)];
                if (!vm->vsock.path || ward_sys_path_join(dir, vm->vsock.path, path, sizeof(path)))
                        goto bad;
                if (strlen(path) > WARD_VSOCK_MAX_PATH) {
                        snprintf(err, errlen,
                                 "vm %s: vsock path %s: %zu bytes from the description's "
                                 "directory, at most %d",
                                 vm->name, path, strlen(path), WARD_VSOCK_MAX_PATH);
                        return -1;
                }
                c->vsock.cid = (uint64_t)vm->vsock.cid;
                memcpy(c->vsock.path, path, strlen(path) + 1);
        }
        return 0;
bad:
        snprintf(err, errlen, "vm %s: a path is missing or too long", vm->name);
        return -1;
}

static int memory(const struct ward_sys_vm *vm, struct ward_vm_config *c, char *err, size_t errlen)
{
        if (vm->nmemory < 1 || vm->nmemory > 1 + WARD_MAX_RAM_EXTRA) {
                snprintf(err, errlen, "vm %s: a VMM takes 1 to %d RAM regions, not %zu", vm->name,
                         1 + WARD_MAX_RAM_EXTRA, vm->nmemory);
                return -1;
        }
        /* The first region is the boot RAM (the checker kept it 2M aligned). */
        c->mem_gpa = vm->memory[0].gpa;
        c->mem_bytes = vm->memory[0].size;
        for (size_t i = 1; i < vm->nmemory; i++)
                c->ram[i - 1] = (struct ward_ram_config){vm->memory[i].gpa, vm->memory[i].size};
        c->nram = (unsigned)vm->nmemory - 1;
        return 0;
}

/* The shared regions the VM maps, the doorbells it is an end of and its
 * NICs' ports, in fd order. */
static int channels(const struct ward_sys_desc *d, const struct ward_sys_vm *vm, int first_fd,
                    struct ward_sys_vm_config *out, char *err, size_t errlen)
{
        struct ward_vm_config *c = &out->cfg;
        int fd = first_fd;
        for (size_t i = 0; i < d->nshared; i++)
                for (size_t j = 0; j < d->shared[i].nmaps; j++) {
                        const struct ward_sys_map *mp = &d->shared[i].maps[j];
                        if (!mp->vm || strcmp(mp->vm, vm->name) != 0)
                                continue;
                        if (c->nshm == WARD_MAX_SHM)
                                goto too_many;
                        out->shm_src[c->nshm] = i;
                        c->shm[c->nshm++] = (struct ward_shm_config){
                            fd++, mp->gpa, d->shared[i].size, mp->access == WARD_SYS_ACCESS_RO};
                }
        for (size_t i = 0; i < d->ndoorbells; i++)
                for (int end = 0; end < 2; end++) {
                        const char *who = end == 0 ? d->doorbells[i].from : d->doorbells[i].to;
                        if (!who || strcmp(who, vm->name) != 0)
                                continue;
                        if (c->ndoorbells == WARD_MAX_DOORBELLS)
                                goto too_many;
                        out->db_src[c->ndoorbells] = i;
                        out->db_end[c->ndoorbells] = end;
                        c->doorbell_fd[c->ndoorbells++] = fd++;
                }
        for (size_t i = 0; i < d->nnetworks; i++)
                for (size_t j = 0; j < d->networks[i].nports; j++) {
                        const struct ward_sys_net_port *np = &d->networks[i].ports[j];
                        if (!np->vm || strcmp(np->vm, vm->name) != 0)
                                continue;
                        if (c->nnets == WARD_MAX_NETS)
                                goto too_many;
                        out->net_src[c->nnets] = i;
                        out->net_port[c->nnets] = j;
                        struct ward_net_config *nc = &c->nets[c->nnets++];
                        memset(nc, 0, sizeof(*nc));
                        nc->kind = WARD_NET_PORT;
                        memcpy(nc->mac, np->mac, sizeof(nc->mac));
                        nc->port_fd = fd;
                        fd += 3;
                }
        return 0;
too_many:
        snprintf(err, errlen,
                 "vm %s: a VMM takes at most %d shared regions, %d doorbells and %d NICs", vm->name,
                 WARD_MAX_SHM, WARD_MAX_DOORBELLS, WARD_MAX_NETS);
        return -1;
}

int ward_sys_vm_config(const struct ward_sys_desc *d, const char *name, const char *desc_dir,
                       int first_fd, struct ward_sys_vm_config *out, char *err, size_t errlen)
{
        memset(out, 0, sizeof(*out));
        const struct ward_sys_vm *vm = name ? find_vm(d, name) : NULL;
        if (!vm) {
                snprintf(err, errlen, "vm %s: not in the description", name ? name : "(none)");
                return -1;
        }
        struct ward_vm_config *c = &out->cfg;
        c->cmdline = vm->cmdline;
        c->cpus = (unsigned)vm->cpus;
        c->console = vm->console;
        c->rng = vm->rng;
        c->hugepages = vm->hugepages;
        for (size_t i = 0; i < d->linux_opts.nvms; i++)
                if (strcmp(d->linux_opts.vms[i].vm, vm->name) == 0)
                        c->seccomp = (enum ward_seccomp_mode)d->linux_opts.vms[i].seccomp;
        c->name = vm->name;
        struct ward_sys_jail j = ward_sys_vm_jail(d, (size_t)(vm - d->vms));
        c->jail =
            (struct ward_jail_config){.on = j.on, .uid = (uint32_t)j.uid, .gid = (uint32_t)j.gid};
        return paths(vm, desc_dir, out, err, errlen) || memory(vm, c, err, errlen) ||
                       channels(d, vm, first_fd, out, err, errlen)
                   ? -1
                   : 0;
}
