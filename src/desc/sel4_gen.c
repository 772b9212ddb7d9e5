/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 Microkit generator: a checked system description to a Microkit
 * 2.0.1 .system file and vms.mk. Names, vaddrs, setvar symbols and channel
 * ids are the ones platforms/sel4/two-vms.system uses, because the PDs
 * (src/hv/microkit, src/host/sel4) are built against them:
 *
 *   serial PD   "serial": the board's UART and IRQ, one console port per VM
 *               (channel 1 to the first VM's VMM, 3, 4, ... to the others)
 *   per VM N    PD "N" (N.elf), the VMM: guest RAM, its console port, its
 *               block port; child <virtual_machine name="N">
 *               PD "blk_N" (N/blk_pd.elf) with a disk: block port, RAM disk
 *   shared      memory region shm_NAME, mapped into each VM that maps it
 *   doorbell    a channel between two VMMs, ids from 10 up in each PD
 *   admin PD    "admin": its console on the serial PD (channel 4 there), and
 *               a call (pp) to each VMM (channel 8 in the VMM, 1 + k here)
 *   network N   PD "switch_N" (switch_N.elf), the switch: a net port per
 *               port (net_N_VM), channel 4 + k in the VM's VMM (its k-th
 *               NIC) to the port's index in the switch PD
 *
 * Output is built in memory streams (sel4_gen_write.c writes the two
 * files); nothing here touches a file.
 */
#include "sel4_gen_layout.h"
#include "ward/vm/vm_config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct board boards[] = {
    {"qemu_virt_aarch64", 0x9000000, 33, 0x8040000, 0x40000000, 0x60000000, 0xa000000, 79},
};

_Static_assert(WARD_SEL4_FIRST_DOORBELL > CH_VMM_SERIAL && WARD_SEL4_FIRST_DOORBELL > CH_BLK,
               "doorbell ids clear of the backends'");
_Static_assert(WARD_SEL4_MAX_VMS + 1 < WARD_SEL4_MAX_CHANNEL, "serial PD channel ids");
_Static_assert(CH_NET_FIRST + WARD_MAX_NETS <= CH_VMM_ADMIN &&
                   CH_VMM_ADMIN < WARD_SEL4_FIRST_DOORBELL,
               "the admin PD's channel between the NICs' and the doorbells'");
_Static_assert(CH_NET_FIRST > CH_VMM_TIMER &&
                   CH_NET_FIRST + WARD_MAX_NETS <= WARD_SEL4_FIRST_DOORBELL,
               "NIC channel ids between the timer's and the doorbells'");

bool ward_sel4_board_known(const char *board)
{
        for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
                if (strcmp(boards[i].name, board) == 0)
                        return true;
        return false;
}

const struct ward_sys_sel4_vm *ward_sel4_entry(const struct ward_sys_desc *d, const char *name)
{
        for (size_t i = 0; i < d->sel4_opts.nvms; i++)
                if (strcmp(d->sel4_opts.vms[i].vm, name) == 0)
                        return &d->sel4_opts.vms[i];
        return NULL;
}

static const char *vm_path(char *buf, const char *name, const char *rest)
{
        size_t n = ward_sys_path_key(buf, PATH_LEN, (size_t)snprintf(buf, PATH_LEN, "/vms"), name);
        snprintf(buf + n, PATH_LEN - n, "%s", rest);
        return buf;
}

/*
 * The command line goes into a make variable and from there, in double
 * quotes, into a shell command: refuse what make or sh would interpret,
 * rather than quote it for one of them and break it for the other.
 */
static int unsafe_cmdline_char(const char *s)
{
        for (const unsigned char *q = (const unsigned char *)s; *q; q++)
                if (*q < 0x20 || *q > 0x7e || strchr("\"'`$\\#", *q))
                        return *q;
        return -1;
}

/* Paths become make words and prerequisites: no spaces, no :, %, $, # ... */
static bool make_safe_path(const char *s)
{
        for (const char *q = s; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                      (*q >= '0' && *q <= '9') || strchr("/._-+@", *q)))
                        return false;
        return true;
}

static void resolve(struct gen *g, const struct ward_sys_vm *vm, const char *what, const char *file,
                    char *out)
{
        char p[PATH_LEN];
        out[0] = '\0';
        if (!file)
                return;
        vm_path(p, vm->name, what);
        /* An absolute path under the root: "/" + "/guest/Image" stays as it is. */
        int n = file[0] == '/' && strcmp(g->root, "/") != 0
                    ? (snprintf(out, PATH_MAX, "%s%s", g->root, file) >= PATH_MAX ? -1 : 0)
                    : ward_sys_path_join(g->dir, file, out, PATH_MAX);
        if (n) {
                ward_sys_error_add(g->errs, p, "%s: the absolute path is too long", file);
                out[0] = '\0';
        } else if (!make_safe_path(out)) {
                ward_sys_error_add(g->errs, p,
                                   "\"%s\": make cannot carry this path (a path for seL4 may hold "
                                   "letters, digits and / . _ - + @ only)",
                                   out);
        }
}

static void check_vm(struct gen *g, size_t v)
{
        const struct ward_sys_vm *vm = &g->d->vms[v];
        char p[PATH_LEN];
        if (vm->cpus > WARD_SEL4_MAX_CPUS)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, "/cpus"),
                                   "%lld vCPUs: the seL4 VMM's GICv2 has at most %d",
                                   (long long)vm->cpus, WARD_SEL4_MAX_CPUS);
        if (vm->nmemory != 1)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, "/memory"),
                                   "%zu RAM regions: the seL4 VMM supports exactly one today",
                                   vm->nmemory);
        if (vm->ndisks > WARD_SEL4_MAX_DISKS)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, "/disks"),
                                   "%zu disks: on seL4 a VM has at most %d (the block PD's RAM "
                                   "disk)",
                                   vm->ndisks, WARD_SEL4_MAX_DISKS);
        const char *cmdline = vm->cmdline ? vm->cmdline : ward_default_cmdline(vm->console);
        int c = unsafe_cmdline_char(cmdline);
        char what[24];
        if (c > 0x20 && c < 0x7f)
                snprintf(what, sizeof(what), "'%c'", c);
        else
                snprintf(what, sizeof(what), "byte 0x%02x", (unsigned)c);
        if (c >= 0)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, "/cmdline"),
                                   "%s cannot be passed safely through make and the shell (on "
                                   "seL4 a command line may not hold control characters, "
                                   "non-ASCII bytes, or \" ' ` $ \\ #)",
                                   what);
        resolve(g, vm, "/kernel", vm->kernel, g->paths[v][0]);
        resolve(g, vm, "/initrd", vm->initrd, g->paths[v][1]);
        if (vm->ndisks)
                resolve(g, vm, "/disks/0/path", vm->disks[0].path, g->paths[v][2]);

        if (strcmp(vm->name, "admin") == 0)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, ""),
                                   "\"admin\" is the admin PD's name on seL4: rename the VM");
}

/*
 * The Microkit 2.0.1 tool numbers a VM's vCPU objects as (VM index + vCPU
 * index), so the vCPUs of a VM with several collide with the next VM's
 * unless it is the last one. PDs follow the description, with that VM
 * moved to the end; a second one cannot be placed.
 */
static void order_vms(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        size_t n = 0;
        long multi = -1;
        char p[PATH_LEN];
        for (size_t v = 0; v < d->nvms; v++) {
                if (d->vms[v].cpus <= 1) {
                        g->order[n++] = v;
                } else if (multi < 0) {
                        multi = (long)v;
                } else {
                        ward_sys_error_add(
                            g->errs, vm_path(p, d->vms[v].name, "/cpus"),
                            "%lld vCPUs, and VM \"%s\" has %lld: on seL4 only one VM may have "
                            "more than one vCPU (the Microkit 2.0.1 tool numbers vCPUs across "
                            "VMs, so that VM must come last)",
                            (long long)d->vms[v].cpus, d->vms[multi].name,
                            (long long)d->vms[multi].cpus);
                }
        }
        if (multi >= 0)
                g->order[n++] = (size_t)multi;
}

/* Channel ids from WARD_SEL4_FIRST_DOORBELL up in each VMM, in the order of
 * the doorbells list. */
static void number_doorbells(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        unsigned *next = calloc(d->nvms ? d->nvms : 1, sizeof(*next));
        if (!next) {
                g->errs->oom = true;
                return;
        }
        for (size_t v = 0; v < d->nvms; v++)
                next[v] = WARD_SEL4_FIRST_DOORBELL;
        char p[PATH_LEN];
        for (size_t i = 0; i < d->ndoorbells; i++) {
                const struct ward_sys_doorbell *b = &d->doorbells[i];
                long f = ward_sys_find_vm(d, b->from), t = ward_sys_find_vm(d, b->to);
                if (f < 0 || t < 0)
                        continue;
                g->db_from[i] = next[f]++;
                g->db_to[i] = next[t]++;
                /* Reported once per VM: at its first doorbell without an id. */
                const long end[2] = {f, t};
                const unsigned id[2] = {g->db_from[i], g->db_to[i]};
                for (int e = 0; e < 2; e++) {
                        if (id[e] != WARD_SEL4_MAX_CHANNEL + 1)
                                continue;
                        snprintf(p, sizeof(p), "/doorbells/%zu", i);
                        ward_sys_error_add(g->errs, p,
                                           "VM \"%s\" has more than %d doorbells: Microkit 2.0.1 "
                                           "channel ids end at %d, and a VMM's doorbells start "
                                           "at %d",
                                           d->vms[end[e]].name,
                                           WARD_SEL4_MAX_CHANNEL - WARD_SEL4_FIRST_DOORBELL + 1,
                                           WARD_SEL4_MAX_CHANNEL, WARD_SEL4_FIRST_DOORBELL);
                }
        }
        free(next);
}

/* A network's switch PD is "switch_NAME": no VM's PD may have that name. */
static void check_networks(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        char p[PATH_LEN];
        for (size_t i = 0; i < d->nnetworks; i++)
                for (size_t v = 0; v < d->nvms; v++)
                        if (strncmp(d->vms[v].name, "switch_", 7) == 0 &&
                            strcmp(d->vms[v].name + 7, d->networks[i].name) == 0) {
                                snprintf(p, sizeof(p), "/networks/%zu/name", i);
                                ward_sys_error_add(g->errs, p,
                                                   "its switch PD would be named \"switch_%s\", "
                                                   "as VM \"%s\"'s PD is: rename one",
                                                   d->networks[i].name, d->vms[v].name);
                        }
}

/* p = /sel4/vms/VM/FIELD (the key escaped as a JSON pointer). */
static void sel4_vm_path(char *p, size_t len, const char *vm, const char *field)
{
        size_t n = ward_sys_path_key(p, len, (size_t)snprintf(p, len, "/sel4/vms"), vm);
        snprintf(p + n, len - n, "/%s", field);
}

/* Physical RAM outside the board's VM range works, but seL4 clears it at
 * boot (seconds under QEMU): worth a warning, not an error. */
static void check_phys(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        char p[PATH_LEN];
        for (size_t i = 0; i < d->sel4_opts.nvms; i++) {
                const struct ward_sys_sel4_vm *sv = &d->sel4_opts.vms[i];
                long v = ward_sys_find_vm(d, sv->vm);
                if (!sv->ram_phys_set || v < 0 || d->vms[v].nmemory != 1)
                        continue;
                uint64_t size = d->vms[v].memory[0].size;
                if (sv->ram_phys >= g->b->vm_mem_base && sv->ram_phys < g->b->vm_mem_end &&
                    size <= g->b->vm_mem_end - sv->ram_phys)
                        continue;
                sel4_vm_path(p, sizeof(p), sv->vm, "ram_phys");
                ward_sys_error_add(g->warns, p,
                                   "0x%llx-0x%llx is not inside 0x%llx-0x%llx, the memory seL4 "
                                   "keeps for VMs on %s: seL4 will clear it at boot",
                                   (unsigned long long)sv->ram_phys,
                                   (unsigned long long)(sv->ram_phys + (size - 1)),
                                   (unsigned long long)g->b->vm_mem_base,
                                   (unsigned long long)g->b->vm_mem_end - 1, g->b->name);
        }
}

/* The block driver's DMA region takes the last MiB of the VM range: no VM's RAM may be there. */
static void check_dma(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        if (!g->nblkdrv)
                return;
        uint64_t dma = g->b->vm_mem_end - BLK_DMA_SIZE;
        char p[PATH_LEN];
        for (size_t i = 0; i < d->sel4_opts.nvms; i++) {
                const struct ward_sys_sel4_vm *sv = &d->sel4_opts.vms[i];
                long v = ward_sys_find_vm(d, sv->vm);
                if (!sv->ram_phys_set || v < 0 || d->vms[v].nmemory != 1 ||
                    !ward_sys_ranges_overlap(sv->ram_phys, d->vms[v].memory[0].size, dma,
                                             BLK_DMA_SIZE))
                        continue;
                sel4_vm_path(p, sizeof(p), sv->vm, "ram_phys");
                ward_sys_error_add(g->errs, p,
                                   "guest RAM reaches 0x%llx-0x%llx, where the block driver's "
                                   "DMA region goes (the last MiB of the board's VM range)",
                                   (unsigned long long)dma,
                                   (unsigned long long)(dma + BLK_DMA_SIZE - 1));
        }
}

/*
 * Guest RAM without ram_phys goes into the board's VM range where it fits
 * (first fit, in the description's order, 2M-aligned, clear of the other
 * VMs' RAM and of the block driver's DMA MiB): seL4 does not clear that
 * range at boot, and the Microkit 2.0.1 tool would otherwise take all the
 * VMs' 2M pages in one allocation of at most 512 MiB. What does not fit is
 * left to the tool, as before.
 */
static bool taken(const struct gen *g, uint64_t at, uint64_t size, uint64_t *end)
{
        for (size_t v = 0; v < g->d->nvms; v++) {
                uint64_t p = g->ram_phys[v], s = g->d->vms[v].memory[0].size;
                if (p != WARD_SEL4_NO_PHYS && ward_sys_ranges_overlap(at, size, p, s)) {
                        *end = p + s;
                        return true;
                }
        }
        return false;
}

static void place_ram(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        for (size_t v = 0; v < d->nvms; v++) {
                const struct ward_sys_sel4_vm *sv = ward_sel4_entry(d, d->vms[v].name);
                g->ram_phys[v] = sv && sv->ram_phys_set ? sv->ram_phys : WARD_SEL4_NO_PHYS;
        }
        uint64_t limit = g->b->vm_mem_end - (g->nblkdrv ? BLK_DMA_SIZE : 0);
        for (size_t v = 0; v < d->nvms; v++) {
                uint64_t size = d->vms[v].memory[0].size, end = 0;
                if (g->ram_phys[v] != WARD_SEL4_NO_PHYS || d->vms[v].nmemory != 1)
                        continue;
                uint64_t at = g->b->vm_mem_base;
                while (at <= limit && size <= limit - at && taken(g, at, size, &end))
                        at = (end + PAGE_2M - 1) & ~(PAGE_2M - 1);
                if (at <= limit && size <= limit - at)
                        g->ram_phys[v] = at;
        }
}

/*
 * A budget smaller than its period on a VM's vCPUs trips an assertion in
 * the seL4 of Microkit 2.0.1 (4b97df4c7) when the VMM handles the guest's
 * timer events (seL4 issue #1104, fixed by seL4 PR #1486): written as asked,
 * with a warning, for SDKs whose kernel has the fix.
 */
static void check_budgets(struct gen *g)
{
        const struct ward_sys_desc *d = g->d;
        char p[PATH_LEN];
        for (size_t i = 0; i < d->sel4_opts.nvms; i++) {
                const struct ward_sys_sel4_vm *sv = &d->sel4_opts.vms[i];
                if (!sv->budget_set || !sv->period_set || sv->budget_us >= sv->period_us)
                        continue;
                sel4_vm_path(p, sizeof(p), sv->vm, "budget_us");
                ward_sys_error_add(g->warns, p,
                                   "a budget below its period stops Microkit 2.0.1's seL4 on a "
                                   "kernel assertion (seL4 issue #1104); it needs a kernel with "
                                   "seL4 PR #1486");
        }
}

static char *build(struct gen *g, void (*fn)(struct gen *, FILE *))
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        fn(g, f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

size_t ward_sel4_gen(const struct ward_sys_desc *d, const struct ward_sel4_opts *o,
                     struct ward_sel4_out *out, struct ward_sys_errors *errs,
                     struct ward_sys_errors *warns)
{
        size_t before = ward_sys_errors_count(errs);
        *out = (struct ward_sel4_out){0};
        const char *board = o && o->board ? o->board : WARD_SEL4_DEFAULT_BOARD;
        struct gen g = {.d = d,
                        .dir = o && o->desc_dir ? o->desc_dir : "/",
                        .root = o && o->root ? o->root : "/",
                        .errs = errs,
                        .warns = warns};
        for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
                if (strcmp(boards[i].name, board) == 0)
                        g.b = &boards[i];
        if (!g.b) {
                ward_sys_error_add(errs, "/", "unknown seL4 board \"%s\" (known: %s)", board,
                                   WARD_SEL4_DEFAULT_BOARD);
                return ward_sys_errors_count(errs) - before;
        }
        if (d->machine != WARD_SYS_ARCH_ARM64) /* ward_sys_load places for arm64 here */
                ward_sys_error_add(errs, d->arch ? "/arch" : "/",
                                   "laid out for %s: an seL4 system's VMs are arm64",
                                   ward_sys_machine(d->machine)->name);
        if (d->nvms == 0)
                ward_sys_error_add(errs, "/vms", "no VMs (a system needs at least one)");
        if (d->nvms > WARD_SEL4_MAX_VMS)
                ward_sys_error_add(errs, "/vms",
                                   "%zu VMs: the seL4 serial PD serves at most %d consoles today",
                                   d->nvms, WARD_SEL4_MAX_VMS);
        size_t nv = d->nvms ? d->nvms : 1, nb = d->ndoorbells ? d->ndoorbells : 1;
        g.order = calloc(nv, sizeof(*g.order));
        g.paths = calloc(nv, sizeof(*g.paths));
        g.db_from = calloc(nb, sizeof(*g.db_from));
        g.db_to = calloc(nb, sizeof(*g.db_to));
        g.ram_phys = calloc(nv, sizeof(*g.ram_phys));
        if (!g.order || !g.paths || !g.db_from || !g.db_to || !g.ram_phys) {
                errs->oom = true;
        } else {
                for (size_t v = 0; v < d->nvms; v++)
                        check_vm(&g, v);
                order_vms(&g);
                /* The checker refused entries for no VM, and duplicate keys. */
                for (size_t i = 0; i < d->sel4_opts.nvms; i++)
                        g.nblkdrv += d->sel4_opts.vms[i].disk_size_set;
                number_doorbells(&g);
                check_networks(&g);
                check_phys(&g);
                check_budgets(&g);
                check_dma(&g);
                place_ram(&g);
        }
        if (ward_sys_errors_count(errs) == before && !errs->oom) {
                out->system = build(&g, ward_sel4_write_system);
                out->make = build(&g, ward_sel4_write_make);
                if (!out->system || !out->make) {
                        ward_sel4_out_free(out);
                        errs->oom = true;
                }
        }
        free(g.order);
        free(g.paths);
        free(g.db_from);
        free(g.db_to);
        free(g.ram_phys);
        return ward_sys_errors_count(errs) - before +
               (errs->oom && ward_sys_errors_count(errs) == before);
}

void ward_sel4_out_free(struct ward_sel4_out *out)
{
        free(out->system);
        free(out->make);
        *out = (struct ward_sel4_out){0};
}
