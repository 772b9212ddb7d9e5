/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's steps 5 and 6 (check.c): the linux and the sel4 sections. */
#include "checker.h"

#include <string.h>

/*
 * A budget's period at SECTION/VM/FIELD (when set): in range, and only with
 * its budget (BUDGET_FIELD). True when it is usable for the budget's check.
 */
static bool check_period(struct checker *c, const char *section, const char *vm, const char *field,
                         bool set, int64_t period, bool budget_set, const char *budget_field)
{
        char p[PATH_LEN];
        if (!set)
                return true;
        ward_sysc_kpath(p, section, vm, "/%s", field);
        if (!budget_set)
                cerr(c, p, "has no effect without %s", budget_field);
        if (period < WARD_SYS_MIN_PERIOD_US || period > WARD_SYS_MAX_PERIOD_US) {
                ward_sysc_int_range(c, p, period, WARD_SYS_MIN_PERIOD_US, WARD_SYS_MAX_PERIOD_US);
                return false;
        }
        return true;
}

/*
 * ward system up hands each VMM its regions and doorbells as inherited
 * descriptors, at most WARD_SYS_LINUX_MAX_* of each. seL4 has other limits
 * (channel ids), which `ward system sel4` checks.
 */
void ward_sysc_linux_limits(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        if (c->f->target != WARD_SYS_TARGET_LINUX)
                return;
        char p[PATH_LEN];
        for (size_t v = 0; v < ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS); v++) {
                const char *name = d->vms[v].name;
                size_t nshm = 0, ndb = 0;
                for (size_t i = 0; i < ward_sysc_upto(d->nshared, WARD_SYS_MAX_SHARED); i++)
                        for (size_t j = 0; j < ward_sysc_upto(d->shared[i].nmaps, WARD_SYS_MAX_VMS);
                             j++)
                                nshm += d->shared[i].maps[j].vm &&
                                        !strcmp(d->shared[i].maps[j].vm, name);
                for (size_t i = 0; i < ward_sysc_upto(d->ndoorbells, WARD_SYS_MAX_DOORBELLS); i++)
                        ndb += (d->doorbells[i].from && !strcmp(d->doorbells[i].from, name)) +
                               (d->doorbells[i].to && !strcmp(d->doorbells[i].to, name));
                if (nshm > WARD_SYS_LINUX_MAX_SHM)
                        cerr(c, ward_sysc_kpath(p, "/vms", name, "%s", ""),
                             "maps %zu shared regions; ward system up gives a VM at most %d", nshm,
                             WARD_SYS_LINUX_MAX_SHM);
                if (ndb > WARD_SYS_LINUX_MAX_DOORBELLS)
                        cerr(c, ward_sysc_kpath(p, "/vms", name, "%s", ""),
                             "is an end of %zu doorbells; ward system up gives a VM at most %d",
                             ndb, WARD_SYS_LINUX_MAX_DOORBELLS);
        }
}

/*
 * A jailed VMM's ids: not root's, and a uid of its own (two VMMs with one
 * uid could signal and trace each other, were they ever to see each other).
 */
static void check_jails(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN];
        size_t n = ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS);
        struct ward_sys_jail j[WARD_SYS_MAX_VMS];
        for (size_t i = 0; i < n; i++) {
                j[i] = ward_sys_vm_jail(d, i);
                const char *name = d->vms[i].name;
                if (!j[i].on || !name)
                        continue;
                const char *field[2] = {"uid", "gid"};
                int64_t id[2] = {j[i].uid, j[i].gid};
                bool ok = true;
                for (int k = 0; k < 2; k++) {
                        /* A gid that only follows a bad uid is that uid's error. */
                        if ((id[k] >= 1 && id[k] <= WARD_SYS_MAX_ID) ||
                            (k && !ok && id[1] == id[0]))
                                continue;
                        ok = false;
                        cerr(c, ward_sysc_kpath(p, "/linux/vms", name, "/%s", field[k]),
                             "%lld: a jailed VMM's %s is from 1 to %lld (0 is root's; "
                             "\"jail\": false runs the VMM without a jail)",
                             (long long)id[k], field[k], WARD_SYS_MAX_ID);
                }
                for (size_t k = 0; ok && k < i; k++) {
                        if (j[k].on && d->vms[k].name && j[k].uid == j[i].uid) {
                                cerr(c, ward_sysc_kpath(p, "/linux/vms", name, "/uid"),
                                     "%lld is also vm %s's: each jailed VMM runs as a uid of "
                                     "its own",
                                     (long long)j[i].uid, d->vms[k].name);
                                break;
                        }
                }
        }
}

void ward_sysc_linux(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        const struct ward_sys_linux *l = &d->linux_opts;
        char p[PATH_LEN];
        if (l->control_socket && !*l->control_socket)
                cerr(c, "/linux/control_socket", "empty path");
        else if (l->control_socket && strlen(l->control_socket) > WARD_SYS_MAX_SOCKET_PATH)
                cerr(c, "/linux/control_socket",
                     "%zu bytes, longer than a unix socket's path may be (%d)",
                     strlen(l->control_socket), WARD_SYS_MAX_SOCKET_PATH);
        if (l->console_log_dir && !*l->console_log_dir)
                cerr(c, "/linux/console_log_dir", "empty path");
        const struct {
                const char *field;
                const struct ward_sys_host_cpu *v;
                size_t n;
        } ids[2] = {{"control_uids", l->control_uids, l->ncontrol_uids},
                    {"control_gids", l->control_gids, l->ncontrol_gids}};
        for (int k = 0; k < 2; k++) {
                if (ids[k].n > WARD_SYS_MAX_CONTROL_IDS)
                        cerr(c, ward_sysc_ipath(p, "/linux/%s", ids[k].field),
                             "%zu ids, at most %d", ids[k].n, WARD_SYS_MAX_CONTROL_IDS);
                for (size_t i = 0; i < ward_sysc_upto(ids[k].n, WARD_SYS_MAX_CONTROL_IDS); i++)
                        if (ids[k].v[i].ok)
                                ward_sysc_int_range(
                                    c, ward_sysc_ipath(p, "/linux/%s/%zu", ids[k].field, i),
                                    ids[k].v[i].cpu, 0, WARD_SYS_MAX_ID);
        }
        check_jails(c);
        if (l->nvms > WARD_SYS_MAX_VMS)
                cerr(c, "/linux/vms", "%zu entries, at most %d (one per VM)", l->nvms,
                     WARD_SYS_MAX_VMS);
        for (size_t i = 0; i < ward_sysc_upto(l->nvms, WARD_SYS_MAX_VMS); i++) {
                const struct ward_sys_linux_vm *lv = &l->vms[i];
                long vi = ward_sys_find_vm(d, lv->vm);
                if (vi < 0)
                        cerr(c, ward_sysc_kpath(p, "/linux/vms", lv->vm, "%s", ""),
                             "no VM named \"%s\"", lv->vm);
                if (lv->host_cpus_set && lv->nhost_cpus == 0)
                        cerr(c, ward_sysc_kpath(p, "/linux/vms", lv->vm, "/host_cpus"),
                             "empty (leave host_cpus out to let the VM run on any CPU)");
                if (lv->nhost_cpus > WARD_SYS_MAX_HOST_CPUS)
                        cerr(c, ward_sysc_kpath(p, "/linux/vms", lv->vm, "/host_cpus"),
                             "%zu CPUs, at most %d", lv->nhost_cpus, WARD_SYS_MAX_HOST_CPUS);
                for (size_t k = 0; k < ward_sysc_upto(lv->nhost_cpus, WARD_SYS_MAX_HOST_CPUS);
                     k++) {
                        const struct ward_sys_host_cpu *hc = &lv->host_cpus[k];
                        if (!hc->ok)
                                continue;
                        ward_sysc_kpath(p, "/linux/vms", lv->vm, "/host_cpus/%zu", k);
                        unsigned n = c->f->host_cpus;
                        if (n && (hc->cpu < 0 || hc->cpu >= (int64_t)n))
                                cerr(c, p, "CPU %lld does not exist (this host has CPUs 0 to %u)",
                                     (long long)hc->cpu, n - 1);
                        else if (!n)
                                ward_sysc_int_range(c, p, hc->cpu, 0, WARD_SYS_MAX_HOST_CPUS - 1);
                        for (size_t j = 0; j < k; j++) {
                                if (lv->host_cpus[j].ok && lv->host_cpus[j].cpu == hc->cpu) {
                                        cerr(c, p, "CPU %lld is listed twice", (long long)hc->cpu);
                                        break;
                                }
                        }
                }
                bool period_ok =
                    check_period(c, "/linux/vms", lv->vm, "cpu_period_us", lv->cpu_period_set,
                                 lv->cpu_period_us, lv->cpu_max_set, "cpu_max_us");
                if (lv->cpu_max_set) {
                        ward_sysc_kpath(p, "/linux/vms", lv->vm, "/cpu_max_us");
                        int64_t cpus = vi >= 0 ? d->vms[vi].cpus : 0;
                        if (lv->cpu_max_us < WARD_SYS_MIN_CPU_MAX_US)
                                cerr(c, p, "%lld is less than %d", (long long)lv->cpu_max_us,
                                     WARD_SYS_MIN_CPU_MAX_US);
                        else if (period_ok && cpus >= 1 && cpus <= WARD_SYS_MAX_CPUS &&
                                 lv->cpu_max_us > cpus * lv->cpu_period_us)
                                cerr(c, p,
                                     "%lld is more than the VM's %lld vCPUs can use in a period "
                                     "of %lld",
                                     (long long)lv->cpu_max_us, (long long)cpus,
                                     (long long)lv->cpu_period_us);
                }
        }
}

/* Whole sectors, not empty: the shape a disk range must have. */
static bool disk_range_whole(const struct ward_sys_sel4_vm *sv)
{
        return sv->disk_size_set && sv->disk_size != 0 && sv->disk_size % 512 == 0 &&
               sv->disk_offset % 512 == 0;
}

/* A VM's disk range: whole sectors, not empty, not wrapping; true when it may be compared. */
static bool check_disk_range(struct checker *c, const struct ward_sys_sel4_vm *sv)
{
        char p[PATH_LEN];
        if (!sv->disk_range_seen || !sv->disk_size_set)
                return false; /* none, or reported by the parser */
        ward_sysc_kpath(p, "/sel4/vms", sv->vm, "/disk_range");
        if (!disk_range_whole(sv)) {
                cerr(c, p, "offset and size must be whole 512-byte sectors, size not 0");
                return false;
        }
        if (!ward_sys_range_valid(sv->disk_offset, sv->disk_size)) {
                cerr(c, p, "ends beyond 2^64");
                return false;
        }
        return true;
}

/*
 * Disk ranges of two VMs on the one block device must not overlap: each VM
 * may reach its own sectors only.
 */
static void check_disk_ranges(struct checker *c, size_t n)
{
        const struct ward_sys_sel4 *s = &c->d->sel4_opts;
        char p[PATH_LEN], q[PATH_LEN], a[64], b[64];
        struct ward_sysc_pairs pairs = {0};
        for (size_t i = 0; i < n; i++) {
                const struct ward_sys_sel4_vm *sv = &s->vms[i];
                if (!check_disk_range(c, sv))
                        continue;
                for (size_t j = 0; j < i; j++) {
                        const struct ward_sys_sel4_vm *o = &s->vms[j];
                        if (!disk_range_whole(o) ||
                            !ward_sys_range_valid(o->disk_offset, o->disk_size) ||
                            !ward_sys_ranges_overlap(sv->disk_offset, sv->disk_size, o->disk_offset,
                                                     o->disk_size) ||
                            !ward_sysc_pair(&pairs))
                                continue;
                        cerr(c, ward_sysc_kpath(p, "/sel4/vms", sv->vm, "/disk_range"),
                             "%s overlaps %s's disk range (%s, %s)",
                             ward_sysc_span(a, sizeof(a), sv->disk_offset, sv->disk_size), o->vm,
                             ward_sysc_kpath(q, "/sel4/vms", o->vm, "/disk_range"),
                             ward_sysc_span(b, sizeof(b), o->disk_offset, o->disk_size));
                }
        }
        ward_sysc_pairs_end(c, "/sel4/vms", &pairs, "overlapping disk ranges");
}

/*
 * The seL4 section: each entry names a VM; guest RAM's physical address is
 * 2M-aligned, and no two VMs' RAM share physical memory. The range is the
 * VM's first RAM region (the seL4 generator takes exactly one).
 */
void ward_sysc_sel4(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        const struct ward_sys_sel4 *s = &d->sel4_opts;
        char p[PATH_LEN], q[PATH_LEN], a[64], b[64];
        if (s->nvms > WARD_SYS_MAX_VMS)
                cerr(c, "/sel4/vms", "%zu entries, at most %d (one per VM)", s->nvms,
                     WARD_SYS_MAX_VMS);
        size_t n = ward_sysc_upto(s->nvms, WARD_SYS_MAX_VMS);
        check_disk_ranges(c, n);
        /* Each entry's VM, looked up once: the pairs below compare these. */
        long vis[WARD_SYS_MAX_VMS];
        for (size_t i = 0; i < n; i++)
                vis[i] = ward_sys_find_vm(d, s->vms[i].vm);
        struct ward_sysc_pairs pairs = {0};
        for (size_t i = 0; i < n; i++) {
                const struct ward_sys_sel4_vm *sv = &s->vms[i];
                long vi = vis[i];
                if (vi < 0)
                        cerr(c, ward_sysc_kpath(p, "/sel4/vms", sv->vm, "%s", ""),
                             "no VM named \"%s\"", sv->vm);
                bool period_ok = check_period(c, "/sel4/vms", sv->vm, "period_us", sv->period_set,
                                              sv->period_us, sv->budget_set, "budget_us");
                if (sv->budget_set) {
                        ward_sysc_kpath(p, "/sel4/vms", sv->vm, "/budget_us");
                        int64_t period = sv->period_set ? sv->period_us : WARD_SYS_MAX_PERIOD_US;
                        if (sv->budget_us < WARD_SYS_SEL4_MIN_BUDGET_US ||
                            sv->budget_us > WARD_SYS_MAX_PERIOD_US)
                                ward_sysc_int_range(c, p, sv->budget_us,
                                                    WARD_SYS_SEL4_MIN_BUDGET_US,
                                                    WARD_SYS_MAX_PERIOD_US);
                        else if (period_ok && sv->period_set && sv->budget_us > period)
                                cerr(c, p, "%lld is more than period_us (%lld)",
                                     (long long)sv->budget_us, (long long)period);
                }
                if (!sv->ram_phys_set)
                        continue;
                ward_sysc_kpath(p, "/sel4/vms", sv->vm, "/ram_phys");
                if (sv->ram_phys % WARD_SYS_SEL4_RAM_ALIGN) {
                        cerr(c, p,
                             "0x%llx is not a multiple of 2M (guest RAM is mapped with 2M "
                             "pages)",
                             (unsigned long long)sv->ram_phys);
                        continue;
                }
                const struct ward_sys_vm *vm = vi >= 0 ? &d->vms[vi] : NULL;
                if (!vm || vm->nmemory == 0 || !vm->memory[0].ok || vm->memory[0].size == 0)
                        continue;
                uint64_t size = vm->memory[0].size;
                if (!ward_sys_range_valid(sv->ram_phys, size)) {
                        cerr(c, p, "0x%llx + 0x%llx runs past the end of the 64-bit address space",
                             (unsigned long long)sv->ram_phys, (unsigned long long)size);
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        const struct ward_sys_sel4_vm *o = &s->vms[j];
                        long oi = vis[j];
                        if (oi < 0 || !o->ram_phys_set || o->ram_phys % WARD_SYS_SEL4_RAM_ALIGN ||
                            d->vms[oi].nmemory == 0 || !d->vms[oi].memory[0].ok)
                                continue;
                        uint64_t osize = d->vms[oi].memory[0].size;
                        if (!ward_sys_range_valid(o->ram_phys, osize) ||
                            !ward_sys_ranges_overlap(sv->ram_phys, size, o->ram_phys, osize) ||
                            !ward_sysc_pair(&pairs))
                                continue;
                        cerr(c, p, "%s overlaps the RAM of VM \"%s\" at %s (%s)",
                             ward_sysc_span(a, sizeof(a), sv->ram_phys, size), o->vm,
                             ward_sysc_kpath(q, "/sel4/vms", o->vm, "/ram_phys"),
                             ward_sysc_span(b, sizeof(b), o->ram_phys, osize));
                }
        }
        ward_sysc_pairs_end(c, "/sel4/vms", &pairs, "overlapping ram_phys ranges");
}
