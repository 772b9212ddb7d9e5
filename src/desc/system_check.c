/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description checker: everything about a parsed description
 * that is not its JSON shape. A pure function of the description and the
 * facts it is given (host RAM, host CPUs, a file callback), so the same
 * description always gives the same errors, in the same order:
 *
 *   1. the version and the number of VMs;
 *   2. each VM: name, files, command line, vCPUs, RAM regions one by one,
 *      disks, policy; then disks shared between VMs;
 *   3. shared regions: names, sizes, who maps them;
 *   4. doorbells;
 *   5. the linux section;
 *   6. the sel4 section;
 *   7. each VM's guest-physical address space: RAM regions and shared-region
 *      mappings against ward's device area and against each other;
 *   8. the memory of the whole system against the host's.
 */
#include "ward/desc/system_desc.h"
#include "ward/arm64_map.h"
#include "ward/gmem.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 512

/* The description's limits are the machine's. */
_Static_assert(WARD_SYS_MAX_CPUS == WARD_ARM64_MAX_CPUS, "vCPU limit");
_Static_assert(WARD_SYS_MAX_RAM_REGIONS <= WARD_GMEM_MAX_REGIONS, "RAM regions per VM");
_Static_assert(WARD_SYS_DEFAULT_RAM_GPA == WARD_ARM64_RAM_BASE, "default RAM address");
_Static_assert(WARD_SYS_DEVICE_BASE <= WARD_ARM64_GIC_DIST_BASE &&
                   WARD_ARM64_GIC_REDIST_BASE +
                           WARD_ARM64_MAX_CPUS * WARD_ARM64_GIC_REDIST_PER_CPU <=
                       WARD_ARM64_UART_BASE &&
                   WARD_ARM64_VIRTIO_BASE + WARD_ARM64_MAX_VIRTIO * WARD_ARM64_VIRTIO_STRIDE <=
                       WARD_SYS_DEVICE_END &&
                   WARD_SYS_DEVICE_END <= WARD_ARM64_RAM_BASE,
               "every device window lies in the device area");

bool ward_sys_range_valid(uint64_t gpa, uint64_t size)
{
        return size != 0 && size - 1 <= UINT64_MAX - gpa;
}

bool ward_sys_ranges_overlap(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
        return a <= b + (bsize - 1) && b <= a + (asize - 1);
}

long ward_sys_find_vm(const struct ward_sys_desc *d, const char *name)
{
        if (!name)
                return -1;
        for (size_t i = 0; i < d->nvms; i++)
                if (d->vms[i].name && strcmp(d->vms[i].name, name) == 0)
                        return (long)i;
        return -1;
}

struct checker {
        const struct ward_sys_desc *d;
        const struct ward_sys_facts *f;
        struct ward_sys_errors *errs;
};

#define cerr(c, path, ...) ward_sys_error_add((c)->errs, (path), __VA_ARGS__)

/* buf = prefix + "/" + key (escaped) + the formatted rest. */
WARD_SYS_PRINTF(4, 5)
static const char *kpath(char *buf, const char *prefix, const char *key, const char *fmt, ...)
{
        size_t len = (size_t)snprintf(buf, PATH_LEN, "%s", prefix);
        if (len >= PATH_LEN)
                len = PATH_LEN - 1;
        len = ward_sys_path_key(buf, PATH_LEN, len, key ? key : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + len, PATH_LEN - len, fmt, ap);
        va_end(ap);
        return buf;
}

WARD_SYS_PRINTF(2, 3)
static const char *ipath(char *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, PATH_LEN, fmt, ap);
        va_end(ap);
        return buf;
}

/* 4G, 512M, 4K or a plain number of bytes. */
static const char *human(char *buf, size_t n, uint64_t v)
{
        if (v && v % (1ull << 30) == 0)
                snprintf(buf, n, "%lluG", (unsigned long long)(v >> 30));
        else if (v && v % (1ull << 20) == 0)
                snprintf(buf, n, "%lluM", (unsigned long long)(v >> 20));
        else if (v && v % (1ull << 10) == 0)
                snprintf(buf, n, "%lluK", (unsigned long long)(v >> 10));
        else
                snprintf(buf, n, "%llu bytes", (unsigned long long)v);
        return buf;
}

/* "0x40000000-0x5fffffff" for a valid range. */
static const char *span(char *buf, size_t n, uint64_t gpa, uint64_t size)
{
        snprintf(buf, n, "0x%llx-0x%llx", (unsigned long long)gpa,
                 (unsigned long long)(gpa + (size - 1)));
        return buf;
}

static bool name_ok(const char *s)
{
        if (!(*s >= 'a' && *s <= 'z'))
                return false;
        size_t n = 0;
        for (; s[n]; n++)
                if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
                        return false;
        return n <= WARD_SYS_MAX_NAME;
}

static void check_name(struct checker *c, const char *path, const char *name)
{
        if (!name_ok(name))
                cerr(c, path,
                     "\"%s\" is not a valid name (lowercase letters, digits and _, starting "
                     "with a letter, at most %d characters)",
                     name, WARD_SYS_MAX_NAME);
}

static void check_file(struct checker *c, const char *path, const char *file,
                       enum ward_sys_file_use use)
{
        if (!file)
                return;
        if (!*file) {
                cerr(c, path, "empty path");
                return;
        }
        if (!c->f->file_problem)
                return;
        const char *why = c->f->file_problem(c->f->ctx, file, use);
        if (why)
                cerr(c, path, "%s: %s", file, why);
}

static void check_int_range(struct checker *c, const char *path, int64_t v, int64_t lo, int64_t hi)
{
        if (v < lo || v > hi)
                cerr(c, path, "%lld is out of range (%lld to %lld)", (long long)v, (long long)lo,
                     (long long)hi);
}

/* Wrap-around and the 40-bit limit; true when the range may take part in
 * overlap checks. */
static bool check_extent(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size)
{
        char b[64];
        if (!ward_sys_range_valid(gpa, size)) {
                cerr(c, rpath, "0x%llx + 0x%llx runs past the end of the 64-bit address space",
                     (unsigned long long)gpa, (unsigned long long)size);
                return false;
        }
        if (gpa + (size - 1) >= WARD_SYS_GPA_LIMIT) {
                cerr(c, rpath, "%s ends above the 40-bit guest-physical space (0x%llx)",
                     span(b, sizeof(b), gpa, size), WARD_SYS_GPA_LIMIT);
                return false;
        }
        return true;
}

/* A RAM region's own checks: alignment, size, extent. True when all pass. */
static bool check_ram_region(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size)
{
        char p[PATH_LEN];
        bool ok = true;
        if (gpa % WARD_SYS_PAGE) {
                cerr(c, ipath(p, "%s/gpa", rpath), "0x%llx is not a multiple of 4K (the page size)",
                     (unsigned long long)gpa);
                ok = false;
        }
        if (size == 0) {
                cerr(c, ipath(p, "%s/size", rpath), "must not be 0");
                return false;
        }
        if (size % WARD_SYS_PAGE) {
                cerr(c, ipath(p, "%s/size", rpath),
                     "0x%llx is not a multiple of 4K (the page size)", (unsigned long long)size);
                ok = false;
        }
        return check_extent(c, rpath, gpa, size) && ok;
}

static const char *region_path(char *buf, const struct ward_sys_vm *vm, size_t i)
{
        if (vm->memory_default)
                return kpath(buf, "/vms", vm->name, "/memory");
        return kpath(buf, "/vms", vm->name, "/memory/%zu", i);
}

static void check_vm(struct checker *c, const struct ward_sys_vm *vm)
{
        char p[PATH_LEN], p2[PATH_LEN], b[32];
        check_name(c, kpath(p, "/vms", vm->name, "%s", ""), vm->name);
        check_file(c, kpath(p, "/vms", vm->name, "/kernel"), vm->kernel, WARD_SYS_FILE_READ);
        check_file(c, kpath(p, "/vms", vm->name, "/initrd"), vm->initrd, WARD_SYS_FILE_READ);
        if (vm->cmdline && strlen(vm->cmdline) > WARD_SYS_MAX_CMDLINE)
                cerr(c, kpath(p, "/vms", vm->name, "/cmdline"), "%zu bytes, at most %d",
                     strlen(vm->cmdline), WARD_SYS_MAX_CMDLINE);
        if (vm->cpus < 1 || vm->cpus > WARD_SYS_MAX_CPUS)
                cerr(c, kpath(p, "/vms", vm->name, "/cpus"), "%lld vCPUs: must be from 1 to %d",
                     (long long)vm->cpus, WARD_SYS_MAX_CPUS);

        if (!vm->memory_bad && vm->nmemory == 0)
                cerr(c, kpath(p, "/vms", vm->name, "/memory"),
                     "no RAM regions (a VM needs at least one)");
        if (vm->nmemory > WARD_SYS_MAX_RAM_REGIONS)
                cerr(c, kpath(p, "/vms", vm->name, "/memory"), "%zu RAM regions, at most %d",
                     vm->nmemory, WARD_SYS_MAX_RAM_REGIONS);
        for (size_t i = 0; i < vm->nmemory; i++) {
                const struct ward_sys_region *r = &vm->memory[i];
                if (!r->ok)
                        continue;
                region_path(p, vm, i);
                bool ok = check_ram_region(c, p, r->gpa, r->size);
                if (i == 0 && ok && r->gpa % WARD_SYS_KERNEL_ALIGN)
                        cerr(c, ipath(p2, "%s/gpa", p),
                             "0x%llx: the first RAM region holds the kernel and must start on "
                             "a 2M boundary",
                             (unsigned long long)r->gpa);
                if (i == 0 && r->size && r->size < WARD_SYS_MIN_FIRST_RAM)
                        cerr(c, ipath(p2, "%s/size", p),
                             "%s: the first RAM region holds the kernel, initrd and device "
                             "tree and must be at least 16M",
                             human(b, sizeof(b), r->size));
        }

        if (vm->ndisks > WARD_MAX_DISKS)
                cerr(c, kpath(p, "/vms", vm->name, "/disks"), "%zu disks, at most %d", vm->ndisks,
                     WARD_MAX_DISKS);
        for (size_t i = 0; i < vm->ndisks; i++)
                check_file(c, kpath(p, "/vms", vm->name, "/disks/%zu/path", i), vm->disks[i].path,
                           vm->disks[i].read_only ? WARD_SYS_FILE_DISK_RO : WARD_SYS_FILE_DISK_RW);

        const struct ward_sys_policy *pol = &vm->policy;
        if (pol->restart_backoff_set) {
                kpath(p, "/vms", vm->name, "/policy/restart_backoff_ms");
                if (pol->on_failure != WARD_SYS_ON_FAILURE_RESTART)
                        cerr(c, p, "only applies when on_failure is \"restart\"");
                else
                        check_int_range(c, p, pol->restart_backoff_ms, 0, WARD_SYS_MAX_BACKOFF_MS);
        }
        if (pol->max_restarts_set) {
                kpath(p, "/vms", vm->name, "/policy/max_restarts");
                if (pol->on_failure != WARD_SYS_ON_FAILURE_RESTART)
                        cerr(c, p, "only applies when on_failure is \"restart\"");
                else
                        check_int_range(c, p, pol->max_restarts, 1, WARD_SYS_MAX_RESTARTS);
        }
        if (!pol->autostart && !(pol->allow & (1u << WARD_SYS_OP_START)))
                cerr(c, kpath(p, "/vms", vm->name, "/policy"),
                     "autostart is false and \"start\" is not allowed: the VM could never run");
}

/* A writable disk image in two VMs, or one image twice in a VM. */
static void check_disk_sharing(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN], q[PATH_LEN];
        for (size_t v = 0; v < d->nvms; v++) {
                const struct ward_sys_vm *vm = &d->vms[v];
                for (size_t k = 0; k < vm->ndisks; k++) {
                        const struct ward_sys_disk *dk = &vm->disks[k];
                        if (!dk->path || !*dk->path)
                                continue;
                        bool found = false;
                        for (size_t u = 0; u <= v && !found; u++) {
                                const struct ward_sys_vm *um = &d->vms[u];
                                size_t lim = u == v ? k : um->ndisks;
                                for (size_t l = 0; l < lim && !found; l++) {
                                        const struct ward_sys_disk *o = &um->disks[l];
                                        if (!o->path || strcmp(o->path, dk->path) != 0)
                                                continue;
                                        kpath(p, "/vms", vm->name, "/disks/%zu/path", k);
                                        kpath(q, "/vms", um->name, "/disks/%zu", l);
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
        for (size_t i = 0; i < d->nshared; i++) {
                const struct ward_sys_shared *s = &d->shared[i];
                if (s->name) {
                        ipath(p, "/shared_regions/%zu/name", i);
                        check_name(c, p, s->name);
                        for (size_t j = 0; j < i; j++) {
                                if (d->shared[j].name && strcmp(d->shared[j].name, s->name) == 0) {
                                        cerr(c, p, "\"%s\" is also the name of /shared_regions/%zu",
                                             s->name, j);
                                        break;
                                }
                        }
                }
                if (s->size_ok) {
                        ipath(p, "/shared_regions/%zu/size", i);
                        if (s->size == 0)
                                cerr(c, p, "must not be 0");
                        else if (s->size % WARD_SYS_PAGE)
                                cerr(c, p, "0x%llx is not a multiple of 4K (the page size)",
                                     (unsigned long long)s->size);
                        else if (s->size > WARD_SYS_GPA_LIMIT)
                                cerr(c, p, "%s is larger than the 40-bit guest-physical space",
                                     human(b, sizeof(b), s->size));
                }
                if (!s->maps_bad && s->nmaps == 0)
                        cerr(c, ipath(p, "/shared_regions/%zu/maps", i), "no VM maps the region");
                for (size_t k = 0; k < s->nmaps; k++) {
                        const struct ward_sys_map *m = &s->maps[k];
                        if (m->vm) {
                                ipath(p, "/shared_regions/%zu/maps/%zu/vm", i, k);
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
                                cerr(c, ipath(p, "/shared_regions/%zu/maps/%zu/gpa", i, k),
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
        for (size_t i = 0; i < d->ndoorbells; i++) {
                const struct ward_sys_doorbell *b = &d->doorbells[i];
                if (b->name) {
                        ipath(p, "/doorbells/%zu/name", i);
                        check_name(c, p, b->name);
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
                        cerr(c, ipath(p, "/doorbells/%zu/from", i), "no VM named \"%s\"", b->from);
                if (b->to && ward_sys_find_vm(d, b->to) < 0)
                        cerr(c, ipath(p, "/doorbells/%zu/to", i), "no VM named \"%s\"", b->to);
                else if (b->to && b->from && strcmp(b->from, b->to) == 0)
                        cerr(c, ipath(p, "/doorbells/%zu/to", i),
                             "the same VM as from (a doorbell connects two VMs)");
        }
}

/*
 * ward system up hands each VMM its regions and doorbells as inherited
 * descriptors, at most WARD_SYS_LINUX_MAX_* of each. seL4 has other limits
 * (channel ids), which `ward system sel4` checks.
 */
static void check_linux_limits(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        if (c->f->target != WARD_SYS_TARGET_LINUX)
                return;
        char p[PATH_LEN];
        for (size_t v = 0; v < d->nvms; v++) {
                const char *name = d->vms[v].name;
                size_t nshm = 0, ndb = 0;
                for (size_t i = 0; i < d->nshared; i++)
                        for (size_t j = 0; j < d->shared[i].nmaps; j++)
                                nshm += d->shared[i].maps[j].vm &&
                                        !strcmp(d->shared[i].maps[j].vm, name);
                for (size_t i = 0; i < d->ndoorbells; i++)
                        ndb += (d->doorbells[i].from && !strcmp(d->doorbells[i].from, name)) +
                               (d->doorbells[i].to && !strcmp(d->doorbells[i].to, name));
                if (nshm > WARD_SYS_LINUX_MAX_SHM)
                        cerr(c, kpath(p, "/vms", name, "%s", ""),
                             "maps %zu shared regions; ward system up gives a VM at most %d", nshm,
                             WARD_SYS_LINUX_MAX_SHM);
                if (ndb > WARD_SYS_LINUX_MAX_DOORBELLS)
                        cerr(c, kpath(p, "/vms", name, "%s", ""),
                             "is an end of %zu doorbells; ward system up gives a VM at most %d",
                             ndb, WARD_SYS_LINUX_MAX_DOORBELLS);
        }
}

static void check_linux(struct checker *c)
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
        for (size_t i = 0; i < l->nvms; i++) {
                const struct ward_sys_linux_vm *lv = &l->vms[i];
                long vi = ward_sys_find_vm(d, lv->vm);
                if (vi < 0)
                        cerr(c, kpath(p, "/linux/vms", lv->vm, "%s", ""), "no VM named \"%s\"",
                             lv->vm);
                if (lv->host_cpus_set && lv->nhost_cpus == 0)
                        cerr(c, kpath(p, "/linux/vms", lv->vm, "/host_cpus"),
                             "empty (leave host_cpus out to let the VM run on any CPU)");
                for (size_t k = 0; k < lv->nhost_cpus; k++) {
                        const struct ward_sys_host_cpu *hc = &lv->host_cpus[k];
                        if (!hc->ok)
                                continue;
                        kpath(p, "/linux/vms", lv->vm, "/host_cpus/%zu", k);
                        unsigned n = c->f->host_cpus;
                        if (n && (hc->cpu < 0 || hc->cpu >= (int64_t)n))
                                cerr(c, p, "CPU %lld does not exist (this host has CPUs 0 to %u)",
                                     (long long)hc->cpu, n - 1);
                        else if (!n)
                                check_int_range(c, p, hc->cpu, 0, WARD_SYS_MAX_HOST_CPUS - 1);
                        for (size_t j = 0; j < k; j++) {
                                if (lv->host_cpus[j].ok && lv->host_cpus[j].cpu == hc->cpu) {
                                        cerr(c, p, "CPU %lld is listed twice", (long long)hc->cpu);
                                        break;
                                }
                        }
                }
                bool period_ok = true;
                if (lv->cpu_period_set) {
                        kpath(p, "/linux/vms", lv->vm, "/cpu_period_us");
                        if (!lv->cpu_max_set)
                                cerr(c, p, "has no effect without cpu_max_us");
                        if (lv->cpu_period_us < WARD_SYS_MIN_PERIOD_US ||
                            lv->cpu_period_us > WARD_SYS_MAX_PERIOD_US) {
                                check_int_range(c, p, lv->cpu_period_us, WARD_SYS_MIN_PERIOD_US,
                                                WARD_SYS_MAX_PERIOD_US);
                                period_ok = false;
                        }
                }
                if (lv->cpu_max_set) {
                        kpath(p, "/linux/vms", lv->vm, "/cpu_max_us");
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

/*
 * The seL4 section: each entry names a VM; guest RAM's physical address is
 * 2M-aligned, and no two VMs' RAM share physical memory. The range is the
 * VM's first RAM region (the seL4 generator takes exactly one).
 */
static void check_sel4(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        const struct ward_sys_sel4 *s = &d->sel4_opts;
        char p[PATH_LEN], q[PATH_LEN], a[64], b[64];
        for (size_t i = 0; i < s->nvms; i++) {
                const struct ward_sys_sel4_vm *sv = &s->vms[i];
                long vi = ward_sys_find_vm(d, sv->vm);
                if (vi < 0)
                        cerr(c, kpath(p, "/sel4/vms", sv->vm, "%s", ""), "no VM named \"%s\"",
                             sv->vm);
                if (!sv->ram_phys_set)
                        continue;
                kpath(p, "/sel4/vms", sv->vm, "/ram_phys");
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
                        long oi = ward_sys_find_vm(d, o->vm);
                        if (oi < 0 || !o->ram_phys_set || o->ram_phys % WARD_SYS_SEL4_RAM_ALIGN ||
                            d->vms[oi].nmemory == 0 || !d->vms[oi].memory[0].ok)
                                continue;
                        uint64_t osize = d->vms[oi].memory[0].size;
                        if (!ward_sys_range_valid(o->ram_phys, osize) ||
                            !ward_sys_ranges_overlap(sv->ram_phys, size, o->ram_phys, osize))
                                continue;
                        cerr(c, p, "%s overlaps the RAM of VM \"%s\" at %s (%s)",
                             span(a, sizeof(a), sv->ram_phys, size), o->vm,
                             kpath(q, "/sel4/vms", o->vm, "/ram_phys"),
                             span(b, sizeof(b), o->ram_phys, osize));
                }
        }
}

struct item {
        char path[PATH_LEN];
        uint64_t gpa, size;
};

/* One VM's guest-physical address space. */
static void check_address_space(struct checker *c, const struct ward_sys_vm *vm)
{
        const struct ward_sys_desc *d = c->d;
        size_t cap = vm->nmemory;
        for (size_t i = 0; i < d->nshared; i++)
                cap += d->shared[i].nmaps;
        struct item *it = calloc(cap ? cap : 1, sizeof(*it));
        if (!it) {
                c->errs->oom = true;
                return;
        }
        size_t n = 0;
        for (size_t i = 0; i < vm->nmemory; i++) {
                const struct ward_sys_region *r = &vm->memory[i];
                if (!r->ok || !ward_sys_range_valid(r->gpa, r->size) ||
                    r->gpa + (r->size - 1) >= WARD_SYS_GPA_LIMIT)
                        continue; /* reported by check_vm */
                region_path(it[n].path, vm, i);
                it[n].gpa = r->gpa;
                it[n++].size = r->size;
        }
        for (size_t i = 0; i < d->nshared; i++) {
                const struct ward_sys_shared *s = &d->shared[i];
                if (!s->size_ok || s->size == 0)
                        continue;
                for (size_t k = 0; k < s->nmaps; k++) {
                        const struct ward_sys_map *m = &s->maps[k];
                        if (!m->vm || !m->gpa_ok || strcmp(m->vm, vm->name) != 0)
                                continue;
                        bool again = false;
                        for (size_t j = 0; j < k; j++)
                                again |= s->maps[j].vm && strcmp(s->maps[j].vm, m->vm) == 0;
                        if (again)
                                continue; /* reported by check_shared */
                        ipath(it[n].path, "/shared_regions/%zu/maps/%zu", i, k);
                        if (!check_extent(c, it[n].path, m->gpa, s->size))
                                continue;
                        it[n].gpa = m->gpa;
                        it[n++].size = s->size;
                }
        }
        char a[64], b[64];
        for (size_t j = 0; j < n; j++) {
                if (ward_sys_ranges_overlap(it[j].gpa, it[j].size, WARD_SYS_DEVICE_BASE,
                                            WARD_SYS_DEVICE_END - WARD_SYS_DEVICE_BASE))
                        cerr(c, it[j].path,
                             "%s overlaps ward's device area 0x%llx-0x%llx (GIC, UART, "
                             "virtio-mmio)",
                             span(a, sizeof(a), it[j].gpa, it[j].size), WARD_SYS_DEVICE_BASE,
                             WARD_SYS_DEVICE_END - 1);
                for (size_t i = 0; i < j; i++)
                        if (ward_sys_ranges_overlap(it[j].gpa, it[j].size, it[i].gpa, it[i].size))
                                cerr(c, it[j].path, "%s overlaps %s (%s)",
                                     span(a, sizeof(a), it[j].gpa, it[j].size), it[i].path,
                                     span(b, sizeof(b), it[i].gpa, it[i].size));
        }
        free(it);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a + b < a ? UINT64_MAX : a + b;
}

static void check_host_memory(struct checker *c)
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
                     human(a, sizeof(a), total), human(b, sizeof(b), c->f->host_ram_bytes));
        }
}

size_t ward_sys_check(const struct ward_sys_desc *d, const struct ward_sys_facts *f,
                      struct ward_sys_errors *errs)
{
        static const struct ward_sys_facts none;
        struct checker c = {d, f ? f : &none, errs};
        size_t before = errs->n;
        if (d->version != WARD_SYS_VERSION)
                cerr(&c, "/ward_system", "unknown version %lld (this ward reads version %d)",
                     (long long)d->version, WARD_SYS_VERSION);
        if (d->vms && d->nvms == 0)
                cerr(&c, "/vms", "no VMs (a system needs at least one)");
        if (d->nvms > WARD_SYS_MAX_VMS)
                cerr(&c, "/vms", "%zu VMs, at most %d", d->nvms, WARD_SYS_MAX_VMS);
        for (size_t i = 0; i < d->nvms; i++)
                check_vm(&c, &d->vms[i]);
        check_disk_sharing(&c);
        check_shared(&c);
        check_doorbells(&c);
        check_linux(&c);
        check_linux_limits(&c);
        check_sel4(&c);
        for (size_t i = 0; i < d->nvms; i++)
                check_address_space(&c, &d->vms[i]);
        check_host_memory(&c);
        return errs->n - before;
}
