/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checker's helpers (check.h): paths of items, numbers as people write
 * them, and the checks that several parts of the description share; and the
 * range and lookup helpers of system_desc.h.
 */
#include "checker.h"
#include "ward/arch/arm64/arm64_map.h"
#include "ward/arch/x86_64/x86_platform.h"
#include "ward/machine/gmem.h"

#include <stdarg.h>
#include <string.h>

/* The description's limits are the machines'. */
_Static_assert(WARD_SYS_MAX_CPUS == WARD_ARM64_MAX_CPUS, "arm64 vCPU limit");
_Static_assert(WARD_SYS_MAX_CPUS == WARD_X86_MAX_CPUS, "x86_64 vCPU limit");
_Static_assert(WARD_SYS_MAX_RAM_REGIONS <= WARD_GMEM_MAX_REGIONS, "RAM regions per VM");
_Static_assert(WARD_SYS_MAX_RAM_REGIONS <= WARD_X86_MAX_RAM, "x86_64 RAM regions per VM");
_Static_assert(WARD_SYS_DEFAULT_RAM_GPA == WARD_ARM64_RAM_BASE, "arm64 RAM address");
_Static_assert(WARD_SYS_DEVICE_BASE <= WARD_ARM64_GIC_DIST_BASE &&
                   WARD_ARM64_GIC_REDIST_BASE +
                           WARD_ARM64_MAX_CPUS * WARD_ARM64_GIC_REDIST_PER_CPU <=
                       WARD_ARM64_UART_BASE &&
                   WARD_ARM64_VIRTIO_BASE + WARD_ARM64_MAX_VIRTIO * WARD_ARM64_VIRTIO_STRIDE <=
                       WARD_SYS_DEVICE_END &&
                   WARD_SYS_DEVICE_END <= WARD_ARM64_RAM_BASE,
               "every arm64 device window lies in the device area");
_Static_assert(WARD_SYS_X86_RAM_GPA == WARD_X86_RAM_BASE, "x86_64 RAM address");
_Static_assert(WARD_SYS_X86_MIN_FIRST_RAM == WARD_X86_RAM_MIN, "x86_64 boot RAM");
_Static_assert(WARD_SYS_X86_DEVICE_BASE == WARD_X86_HOLE_BASE &&
                   WARD_SYS_X86_DEVICE_BASE == WARD_X86_RAM_MAX &&
                   WARD_SYS_X86_DEVICE_END == WARD_X86_HOLE_END &&
                   WARD_X86_VIRTIO_BASE >= WARD_SYS_X86_DEVICE_BASE &&
                   WARD_X86_VIRTIO_BASE + WARD_X86_MAX_VIRTIO * WARD_X86_VIRTIO_STRIDE <=
                       WARD_X86_IOAPIC_BASE &&
                   WARD_X86_LAPIC_BASE < WARD_SYS_X86_DEVICE_END,
               "every x86_64 device window lies in the device area");

static const struct ward_sys_machine machines[WARD_SYS_NARCHS] = {
    [WARD_SYS_ARCH_ARM64] =
        {
            .name = "arm64",
            .ram_base = WARD_SYS_DEFAULT_RAM_GPA,
            .device_base = WARD_SYS_DEVICE_BASE,
            .device_end = WARD_SYS_DEVICE_END,
            .devices = "GIC, UART, virtio-mmio",
            .first_ram_holds = "the kernel, initrd and device tree",
            .max_cpus = WARD_ARM64_MAX_CPUS,
            .min_first_ram = WARD_SYS_MIN_FIRST_RAM,
            .first_ram_align = WARD_SYS_PAGE,
        },
    [WARD_SYS_ARCH_X86_64] =
        {
            .name = "x86_64",
            .ram_base = WARD_SYS_X86_RAM_GPA,
            .ram_base_fixed = true,
            .device_base = WARD_SYS_X86_DEVICE_BASE,
            .device_end = WARD_SYS_X86_DEVICE_END,
            .devices = "I/O APIC, local APICs, virtio-mmio",
            .first_ram_holds = "the kernel, initrd, boot structures and ACPI tables",
            .max_cpus = WARD_X86_MAX_CPUS,
            .min_first_ram = WARD_SYS_X86_MIN_FIRST_RAM,
            .first_ram_align = 2ull << 20, /* ward_x86_platform_init: whole 2M */
        },
};

const struct ward_sys_machine *ward_sys_machine(enum ward_sys_arch arch)
{
        return &machines[arch == WARD_SYS_ARCH_X86_64 ? WARD_SYS_ARCH_X86_64 : WARD_SYS_ARCH_ARM64];
}

enum ward_sys_arch ward_sys_arch_named(const char *name)
{
        for (int a = WARD_SYS_ARCH_ARM64; name && a < WARD_SYS_NARCHS; a++)
                if (strcmp(machines[a].name, name) == 0)
                        return (enum ward_sys_arch)a;
        return WARD_SYS_ARCH_UNSET;
}

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

/* buf = prefix + "/" + key (escaped) + the formatted rest. */
WARD_SYS_PRINTF(4, 5)
const char *ward_sysc_kpath(char *buf, const char *prefix, const char *key, const char *fmt, ...)
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
const char *ward_sysc_ipath(char *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, PATH_LEN, fmt, ap);
        va_end(ap);
        return buf;
}

/* 4G, 512M, 4K or a plain number of bytes. */
const char *ward_sysc_human(char *buf, size_t n, uint64_t v)
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
const char *ward_sysc_span(char *buf, size_t n, uint64_t gpa, uint64_t size)
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

void ward_sysc_name(struct checker *c, const char *path, const char *name)
{
        if (!name_ok(name))
                cerr(c, path,
                     "\"%s\" is not a valid name (lowercase letters, digits and _, starting "
                     "with a letter, at most %d characters)",
                     name, WARD_SYS_MAX_NAME);
}

void ward_sysc_file(struct checker *c, const char *path, const char *file,
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

void ward_sysc_int_range(struct checker *c, const char *path, int64_t v, int64_t lo, int64_t hi)
{
        if (v < lo || v > hi)
                cerr(c, path, "%lld is out of range (%lld to %lld)", (long long)v, (long long)lo,
                     (long long)hi);
}

/* Wrap-around and the 40-bit limit; true when the range may take part in
 * overlap checks. */
bool ward_sysc_extent(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size)
{
        char b[64];
        if (!ward_sys_range_valid(gpa, size)) {
                cerr(c, rpath, "0x%llx + 0x%llx runs past the end of the 64-bit address space",
                     (unsigned long long)gpa, (unsigned long long)size);
                return false;
        }
        if (gpa + (size - 1) >= WARD_SYS_GPA_LIMIT) {
                cerr(c, rpath, "%s ends above the 40-bit guest-physical space (0x%llx)",
                     ward_sysc_span(b, sizeof(b), gpa, size), WARD_SYS_GPA_LIMIT);
                return false;
        }
        return true;
}

/* A RAM region's own checks: alignment, size, extent. True when all pass. */
bool ward_sysc_ram_region(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size)
{
        char p[PATH_LEN];
        bool ok = true;
        if (gpa % WARD_SYS_PAGE) {
                cerr(c, ward_sysc_ipath(p, "%s/gpa", rpath),
                     "0x%llx is not a multiple of 4K (the page size)", (unsigned long long)gpa);
                ok = false;
        }
        if (size == 0) {
                cerr(c, ward_sysc_ipath(p, "%s/size", rpath), "must not be 0");
                return false;
        }
        if (size % WARD_SYS_PAGE) {
                cerr(c, ward_sysc_ipath(p, "%s/size", rpath),
                     "0x%llx is not a multiple of 4K (the page size)", (unsigned long long)size);
                ok = false;
        }
        return ward_sysc_extent(c, rpath, gpa, size) && ok;
}

const char *ward_sysc_region_path(char *buf, const struct ward_sys_vm *vm, size_t i)
{
        if (vm->memory_default)
                return ward_sysc_kpath(buf, "/vms", vm->name, "/memory");
        return ward_sysc_kpath(buf, "/vms", vm->name, "/memory/%zu", i);
}

void ward_sysc_pairs_end(struct checker *c, const char *path, const struct ward_sysc_pairs *k,
                         const char *what)
{
        if (k->n > WARD_SYSC_MAX_PAIRS)
                cerr(c, path, "%zu more %s, not listed (the first %d are)",
                     k->n - WARD_SYSC_MAX_PAIRS, what, WARD_SYSC_MAX_PAIRS);
}
