/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checker's steps 7 and 8 (check.c): each VM's guest-physical address
 * space (against the device area of the machine it is laid out for), and
 * the memory of the whole system against the host's.
 */
#include "checker.h"

#include <stdlib.h>
#include <string.h>

struct item {
        char path[PATH_LEN];
        uint64_t gpa, size;
};

/* One VM's guest-physical address space. */
void ward_sysc_address_space(struct checker *c, const struct ward_sys_vm *vm)
{
        const struct ward_sys_desc *d = c->d;
        size_t nmem = ward_sysc_upto(vm->nmemory, WARD_SYS_MAX_RAM_REGIONS);
        size_t nshared = ward_sysc_upto(d->nshared, WARD_SYS_MAX_SHARED);
        size_t cap = nmem;
        for (size_t i = 0; i < nshared; i++)
                cap += ward_sysc_upto(d->shared[i].nmaps, WARD_SYS_MAX_VMS);
        struct item *it = calloc(cap ? cap : 1, sizeof(*it));
        if (!it) {
                c->errs->oom = true;
                return;
        }
        size_t n = 0;
        for (size_t i = 0; i < nmem; i++) {
                const struct ward_sys_region *r = &vm->memory[i];
                if (!r->ok || !ward_sys_range_valid(r->gpa, r->size) ||
                    r->gpa + (r->size - 1) >= WARD_SYS_GPA_LIMIT)
                        continue; /* reported by check_vm */
                ward_sysc_region_path(it[n].path, vm, i);
                it[n].gpa = r->gpa;
                it[n++].size = r->size;
        }
        for (size_t i = 0; i < nshared; i++) {
                const struct ward_sys_shared *s = &d->shared[i];
                if (!s->size_ok || s->size == 0)
                        continue;
                for (size_t k = 0; k < ward_sysc_upto(s->nmaps, WARD_SYS_MAX_VMS); k++) {
                        const struct ward_sys_map *m = &s->maps[k];
                        if (!m->vm || !m->gpa_ok || strcmp(m->vm, vm->name) != 0)
                                continue;
                        bool again = false;
                        for (size_t j = 0; j < k; j++)
                                again |= s->maps[j].vm && strcmp(s->maps[j].vm, m->vm) == 0;
                        if (again)
                                continue; /* reported by check_shared */
                        ward_sysc_ipath(it[n].path, "/shared_regions/%zu/maps/%zu", i, k);
                        if (!ward_sysc_extent(c, it[n].path, m->gpa, s->size))
                                continue;
                        it[n].gpa = m->gpa;
                        it[n++].size = s->size;
                }
        }
        char a[64], b[64], p[PATH_LEN];
        struct ward_sysc_pairs pairs = {0};
        const struct ward_sys_machine *m = c->m;
        for (size_t j = 0; j < n; j++) {
                if (ward_sys_ranges_overlap(it[j].gpa, it[j].size, m->device_base,
                                            m->device_end - m->device_base) &&
                    ward_sysc_pair(&pairs))
                        cerr(c, it[j].path, "%s overlaps ward's device area 0x%llx-0x%llx (%s)",
                             ward_sysc_span(a, sizeof(a), it[j].gpa, it[j].size),
                             (unsigned long long)m->device_base,
                             (unsigned long long)(m->device_end - 1), m->devices);
                for (size_t i = 0; i < j; i++)
                        if (ward_sys_ranges_overlap(it[j].gpa, it[j].size, it[i].gpa, it[i].size) &&
                            ward_sysc_pair(&pairs))
                                cerr(c, it[j].path, "%s overlaps %s (%s)",
                                     ward_sysc_span(a, sizeof(a), it[j].gpa, it[j].size),
                                     it[i].path,
                                     ward_sysc_span(b, sizeof(b), it[i].gpa, it[i].size));
        }
        ward_sysc_pairs_end(c, ward_sysc_kpath(p, "/vms", vm->name, "%s", ""), &pairs,
                            "overlaps in this VM's guest-physical address space");
        free(it);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a + b < a ? UINT64_MAX : a + b;
}

void ward_sysc_host_memory(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        if (!c->f->host_ram_bytes)
                return;
        uint64_t total = 0;
        for (size_t v = 0; v < d->nvms; v++)
                for (size_t i = 0; i < d->vms[v].nmemory; i++)
                        if (d->vms[v].memory[i].ok)
                                total = add_sat(total, d->vms[v].memory[i].size);
        for (size_t i = 0; i < d->nshared; i++)
                if (d->shared[i].size_ok)
                        total = add_sat(total, d->shared[i].size);
        if (total > c->f->host_ram_bytes) {
                char a[32], b[32];
                cerr(c, "/",
                     "the VMs' RAM and the shared regions add up to %s, more than this host's "
                     "%s of RAM",
                     ward_sysc_human(a, sizeof(a), total),
                     ward_sysc_human(b, sizeof(b), c->f->host_ram_bytes));
        }
}
