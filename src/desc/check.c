/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description checker: everything about a parsed description
 * that is not its JSON shape. A pure function of the description and the
 * facts it is given (host RAM, host CPUs, a file callback), so the same
 * description always gives the same errors, in the same order:
 *
 *   1. the version, the machine ("arch") and the number of VMs;
 *   2. each VM: name, files, command line, vCPUs, RAM regions one by one,
 *      disks, policy; then disks shared between VMs;
 *   3. shared regions: names, sizes, who maps them;
 *   4. doorbells;
 *   5. the linux section;
 *   6. the sel4 section;
 *   7. each VM's guest-physical address space: RAM regions and shared-region
 *      mappings against ward's device area (d->machine's) and against each
 *      other;
 *   8. the memory of the whole system against the host's.
 *
 * This file has the order and steps 1 to 4; check_sections.c has 5 and 6,
 * check_memory.c 7 and 8, check_util.c the helpers.
 */
#include "checker.h"

#include <string.h>

static void check_vm(struct checker *c, const struct ward_sys_vm *vm)
{
        char p[PATH_LEN], p2[PATH_LEN], b[32];
        ward_sysc_name(c, ward_sysc_kpath(p, "/vms", vm->name, "%s", ""), vm->name);
        ward_sysc_file(c, ward_sysc_kpath(p, "/vms", vm->name, "/kernel"), vm->kernel,
                       WARD_SYS_FILE_READ);
        ward_sysc_file(c, ward_sysc_kpath(p, "/vms", vm->name, "/initrd"), vm->initrd,
                       WARD_SYS_FILE_READ);
        if (vm->cmdline && strlen(vm->cmdline) > WARD_SYS_MAX_CMDLINE)
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/cmdline"), "%zu bytes, at most %d",
                     strlen(vm->cmdline), WARD_SYS_MAX_CMDLINE);
        const struct ward_sys_machine *m = c->m;
        if (vm->cpus < 1 || vm->cpus > m->max_cpus)
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/cpus"),
                     "%lld vCPUs: must be from 1 to %d", (long long)vm->cpus, m->max_cpus);

        if (!vm->memory_bad && vm->nmemory == 0)
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/memory"),
                     "no RAM regions (a VM needs at least one)");
        if (vm->nmemory > WARD_SYS_MAX_RAM_REGIONS)
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/memory"),
                     "%zu RAM regions, at most %d", vm->nmemory, WARD_SYS_MAX_RAM_REGIONS);
        for (size_t i = 0; i < ward_sysc_upto(vm->nmemory, WARD_SYS_MAX_RAM_REGIONS); i++) {
                const struct ward_sys_region *r = &vm->memory[i];
                if (!r->ok)
                        continue;
                ward_sysc_region_path(p, vm, i);
                bool ok = ward_sysc_ram_region(c, p, r->gpa, r->size);
                if (i == 0 && m->ram_base_fixed && r->gpa != m->ram_base) {
                        char base[24];
                        snprintf(base, sizeof(base), m->ram_base ? "0x%llx" : "%llu",
                                 (unsigned long long)m->ram_base);
                        cerr(c, ward_sysc_ipath(p2, "%s/gpa", p),
                             "0x%llx: on %s the first RAM region is the boot RAM, which starts "
                             "at %s (leave \"gpa\" out, or write %s)",
                             (unsigned long long)r->gpa, m->name, base, base);
                } else if (i == 0 && ok && r->gpa % WARD_SYS_KERNEL_ALIGN)
                        cerr(c, ward_sysc_ipath(p2, "%s/gpa", p),
                             "0x%llx: the first RAM region holds the kernel and must start on "
                             "a 2M boundary",
                             (unsigned long long)r->gpa);
                if (i == 0 && r->size && r->size < m->min_first_ram) {
                        char least[32];
                        cerr(c, ward_sysc_ipath(p2, "%s/size", p),
                             "%s: the first RAM region holds %s and must be at least %s%s%s",
                             ward_sysc_human(b, sizeof(b), r->size), m->first_ram_holds,
                             ward_sysc_human(least, sizeof(least), m->min_first_ram),
                             m->ram_base_fixed ? " on " : "", m->ram_base_fixed ? m->name : "");
                } else if (i == 0 && ok && r->size % m->first_ram_align) {
                        char align[32];
                        cerr(c, ward_sysc_ipath(p2, "%s/size", p),
                             "%s: on %s the first RAM region's size must be a multiple of %s",
                             ward_sysc_human(b, sizeof(b), r->size), m->name,
                             ward_sysc_human(align, sizeof(align), m->first_ram_align));
                }
                if (ok && vm->hugepages == WARD_RAM_HUGETLB &&
                    (r->gpa | r->size) % WARD_SYS_KERNEL_ALIGN)
                        cerr(c, p,
                             "%s: \"hugepages\": \"hugetlb\" needs RAM in whole 2M pages "
                             "(address and size 2M aligned)",
                             ward_sysc_span(b, sizeof(b), r->gpa, r->size));
        }

        if (vm->ndisks > WARD_MAX_DISKS)
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/disks"), "%zu disks, at most %d",
                     vm->ndisks, WARD_MAX_DISKS);
        for (size_t i = 0; i < ward_sysc_upto(vm->ndisks, WARD_MAX_DISKS); i++)
                ward_sysc_file(c, ward_sysc_kpath(p, "/vms", vm->name, "/disks/%zu/path", i),
                               vm->disks[i].path,
                               vm->disks[i].read_only ? WARD_SYS_FILE_DISK_RO
                                                      : WARD_SYS_FILE_DISK_RW);

        const struct ward_sys_policy *pol = &vm->policy;
        if (pol->restart_backoff_set) {
                ward_sysc_kpath(p, "/vms", vm->name, "/policy/restart_backoff_ms");
                if (pol->on_failure != WARD_SYS_ON_FAILURE_RESTART)
                        cerr(c, p, "only applies when on_failure is \"restart\"");
                else
                        ward_sysc_int_range(c, p, pol->restart_backoff_ms, 0,
                                            WARD_SYS_MAX_BACKOFF_MS);
        }
        if (pol->max_restarts_set) {
                ward_sysc_kpath(p, "/vms", vm->name, "/policy/max_restarts");
                if (pol->on_failure != WARD_SYS_ON_FAILURE_RESTART)
                        cerr(c, p, "only applies when on_failure is \"restart\"");
                else
                        ward_sysc_int_range(c, p, pol->max_restarts, 1, WARD_SYS_MAX_RESTARTS);
        }
        if (!pol->autostart && !(pol->allow & (1u << WARD_SYS_OP_START)))
                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/policy"),
                     "autostart is false and \"start\" is not allowed: the VM could never run");
}

/* A writable disk image in two VMs, or one image twice in a VM. */
static void check_disk_sharing(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN], q[PATH_LEN];
        for (size_t v = 0; v < ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS); v++) {
                const struct ward_sys_vm *vm = &d->vms[v];
                for (size_t k = 0; k < ward_sysc_upto(vm->ndisks, WARD_MAX_DISKS); k++) {
                        const struct ward_sys_disk *dk = &vm->disks[k];
                        if (!dk->path || !*dk->path)
                                continue;
                        bool found = false;
                        for (size_t u = 0; u <= v && !found; u++) {
                                const struct ward_sys_vm *um = &d->vms[u];
                                size_t lim =
                                    u == v ? k : ward_sysc_upto(um->ndisks, WARD_MAX_DISKS);
                                for (size_t l = 0; l < lim && !found; l++) {
                                        const struct ward_sys_disk *o = &um->disks[l];
                                        if (!o->path || strcmp(o->path, dk->path) != 0)
                                                continue;
                                        ward_sysc_kpath(p, "/vms", vm->name, "/disks/%zu/path", k);
                                        ward_sysc_kpath(q, "/vms", um->name, "/disks/%zu", l);
                                        if (u == v) {
                                                cerr(c, p, "the same image as %s", q);
                                                found = true;
                                        } else if (!o->read_only || !dk->read_only) {
                                                cerr(c, p,
                                                     "the same image as %s; a disk of two VMs "
                                                     "must be read_only in both",
                                                     q);
                                                found = true;
                                        }
                                }
                        }
                }
        }
}

static void check_shared(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN], b[32];
        if (d->nshared > WARD_SYS_MAX_SHARED)
                cerr(c, "/shared_regions", "%zu shared regions, at most %d", d->nshared,
                     WARD_SYS_MAX_SHARED);
        for (size_t i = 0; i < ward_sysc_upto(d->nshared, WARD_SYS_MAX_SHARED); i++) {
                const struct ward_sys_shared *s = &d->shared[i];
                if (s->name) {
                        ward_sysc_ipath(p, "/shared_regions/%zu/name", i);
                        ward_sysc_name(c, p, s->name);
                        for (size_t j = 0; j < i; j++) {
                                if (d->shared[j].name && strcmp(d->shared[j].name, s->name) == 0) {
                                        cerr(c, p, "\"%s\" is also the name of /shared_regions/%zu",
                                             s->name, j);
                                        break;
                                }
                        }
                }
                if (s->size_ok) {
                        ward_sysc_ipath(p, "/shared_regions/%zu/size", i);
                        if (s->size == 0)
                                cerr(c, p, "must not be 0");
                        else if (s->size % WARD_SYS_PAGE)
                                cerr(c, p, "0x%llx is not a multiple of 4K (the page size)",
                                     (unsigned long long)s->size);
                        else if (s->size > WARD_SYS_GPA_LIMIT)
                                cerr(c, p, "%s is larger than the 40-bit guest-physical space",
                                     ward_sysc_human(b, sizeof(b), s->size));
                }
                if (!s->maps_bad && s->nmaps == 0)
                        cerr(c, ward_sysc_ipath(p, "/shared_regions/%zu/maps", i),
                             "no VM maps the region");
                if (s->nmaps > WARD_SYS_MAX_VMS)
                        cerr(c, ward_sysc_ipath(p, "/shared_regions/%zu/maps", i),
                             "%zu maps, at most %d (a VM maps a region once)", s->nmaps,
                             WARD_SYS_MAX_VMS);
                for (size_t k = 0; k < ward_sysc_upto(s->nmaps, WARD_SYS_MAX_VMS); k++) {
                        const struct ward_sys_map *m = &s->maps[k];
                        if (m->vm) {
                                ward_sysc_ipath(p, "/shared_regions/%zu/maps/%zu/vm", i, k);
                                if (ward_sys_find_vm(d, m->vm) < 0) {
                                        cerr(c, p, "no VM named \"%s\"", m->vm);
                                } else {
                                        for (size_t j = 0; j < k; j++) {
                                                if (s->maps[j].vm &&
                                                    strcmp(s->maps[j].vm, m->vm) == 0) {
                                                        cerr(c, p,
                                                             "\"%s\" maps this region already "
                                                             "(/shared_regions/%zu/maps/%zu)",
                                                             m->vm, i, j);
                                                        break;
                                                }
                                        }
                                }
                        }
                        if (m->gpa_ok && m->gpa % WARD_SYS_PAGE)
                                cerr(c,
                                     ward_sysc_ipath(p, "/shared_regions/%zu/maps/%zu/gpa", i, k),
                                     "0x%llx is not a multiple of 4K (the page size)",
                                     (unsigned long long)m->gpa);
                }
        }
}

static void check_doorbells(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN];
        if (d->ndoorbells > WARD_SYS_MAX_DOORBELLS)
                cerr(c, "/doorbells", "%zu doorbells, at most %d", d->ndoorbells,
                     WARD_SYS_MAX_DOORBELLS);
        for (size_t i = 0; i < ward_sysc_upto(d->ndoorbells, WARD_SYS_MAX_DOORBELLS); i++) {
                const struct ward_sys_doorbell *b = &d->doorbells[i];
                if (b->name) {
                        ward_sysc_ipath(p, "/doorbells/%zu/name", i);
                        ward_sysc_name(c, p, b->name);
                        for (size_t j = 0; j < i; j++) {
                                if (d->doorbells[j].name &&
                                    strcmp(d->doorbells[j].name, b->name) == 0) {
                                        cerr(c, p, "\"%s\" is also the name of /doorbells/%zu",
                                             b->name, j);
                                        break;
                                }
                        }
                }
                if (b->from && ward_sys_find_vm(d, b->from) < 0)
                        cerr(c, ward_sysc_ipath(p, "/doorbells/%zu/from", i), "no VM named \"%s\"",
                             b->from);
                if (b->to && ward_sys_find_vm(d, b->to) < 0)
                        cerr(c, ward_sysc_ipath(p, "/doorbells/%zu/to", i), "no VM named \"%s\"",
                             b->to);
                else if (b->to && b->from && strcmp(b->from, b->to) == 0)
                        cerr(c, ward_sysc_ipath(p, "/doorbells/%zu/to", i),
                             "the same VM as from (a doorbell connects two VMs)");
        }
}

/* A description that names its machine runs on that machine only. */
static void check_arch(struct checker *c)
{
        enum ward_sys_arch arch = c->d->arch, host = c->f->arch;
        if (arch == WARD_SYS_ARCH_UNSET)
                return;
        if (c->f->target == WARD_SYS_TARGET_SEL4) {
                if (arch != WARD_SYS_ARCH_ARM64)
                        cerr(c, "/arch",
                             "this description is for %s; ward system sel4 builds seL4 systems "
                             "of arm64 VMs only",
                             ward_sys_machine(arch)->name);
        } else if (host != WARD_SYS_ARCH_UNSET && host != arch) {
                cerr(c, "/arch", "this description is for %s; this host runs %s VMs",
                     ward_sys_machine(arch)->name, ward_sys_machine(host)->name);
        }
}

size_t ward_sys_check(const struct ward_sys_desc *d, const struct ward_sys_facts *f,
                      struct ward_sys_errors *errs)
{
        static const struct ward_sys_facts none;
        struct checker c = {d, f ? f : &none, errs, ward_sys_machine(d->machine)};
        size_t before = ward_sys_errors_count(errs);
        if (d->version != WARD_SYS_VERSION)
                cerr(&c, "/ward_system", "unknown version %lld (this ward reads version %d)",
                     (long long)d->version, WARD_SYS_VERSION);
        check_arch(&c);
        if (d->vms && d->nvms == 0)
                cerr(&c, "/vms", "no VMs (a system needs at least one)");
        if (d->nvms > WARD_SYS_MAX_VMS)
                cerr(&c, "/vms", "%zu VMs, at most %d", d->nvms, WARD_SYS_MAX_VMS);
        size_t nvms = ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS);
        for (size_t i = 0; i < nvms; i++)
                check_vm(&c, &d->vms[i]);
        check_disk_sharing(&c);
        check_shared(&c);
        check_doorbells(&c);
        ward_sysc_networks(&c);
        ward_sysc_linux(&c);
        ward_sysc_linux_limits(&c);
        ward_sysc_sel4(&c);
        for (size_t i = 0; i < nvms; i++)
                ward_sysc_address_space(&c, &d->vms[i]);
        ward_sysc_host_memory(&c);
        return ward_sys_errors_count(errs) - before;
}
