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
 *
 * Output is built in memory streams; nothing here touches a file.
 */
#include "ward/desc/sel4_gen.h"
#include "ward/arm64_map.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 512
#define MiB (1ull << 20)
#define PAGE_2M (2 * MiB)

/* What a board fixes: devices the serial PD and the VMs map. */
struct board {
        const char *name;
        uint64_t uart_phys;
        unsigned uart_irq;
        uint64_t gic_vcpu_phys; /* the GIC's virtual CPU interface (GICV) */
        /* seL4 hands this range out as device memory, kept for VMs: it is
         * not cleared at boot, unlike RAM untypeds (see ward.system). */
        uint64_t vm_mem_base, vm_mem_end;
};

static const struct board boards[] = {
    {"qemu_virt_aarch64", 0x9000000, 33, 0x8040000, 0x40000000, 0x60000000},
};

/* Sizes and addresses the PDs are built with (platforms/sel4/Makefile). */
#define UART_SIZE 0x1000ull
#define GIC_VCPU_SIZE 0x2000ull
#define SERIAL_PORT_SIZE 0x4000ull
#define BLK_PORT_SIZE 0x400000ull
#define RAMDISK_SIZE 0x1000000ull
/* Where each PD sees its regions (setvar tells the PD). */
#define VMM_RAM_VADDR 0x20000000ull
#define VMM_PORTS_VADDR 0x30000000ull /* console port; the block port 4M above */
#define SERIAL_UART_VADDR 0x5000000ull
#define SERIAL_PORTS_VADDR 0x6000000ull /* one port per 1M */
#define BLK_PORT_VADDR 0x6000000ull
#define BLK_RAMDISK_VADDR 0x7000000ull
/* Channel ids, as the PDs define them. */
#define CH_VMM_SERIAL 1
#define CH_SERIAL_IRQ 2
#define CH_BLK 2

#define PRIO_SERIAL 254
#define PRIO_BLK 253
#define PRIO_VMM 200
#define PRIO_VM 100
#define VMM_STACK 0x10000

_Static_assert(WARD_SEL4_FIRST_DOORBELL > CH_VMM_SERIAL && WARD_SEL4_FIRST_DOORBELL > CH_BLK,
               "doorbell ids clear of the backends'");
_Static_assert(WARD_SEL4_MAX_VMS + 1 < WARD_SEL4_MAX_CHANNEL, "serial PD channel ids");

struct gen {
        const struct ward_sys_desc *d;
        const struct board *b;
        const char *dir;
        struct ward_sys_errors *errs, *warns;
        size_t *order;              /* VM indices, in the order of their PDs */
        unsigned *db_from, *db_to;  /* each doorbell's channel id in each VMM */
        char (*paths)[3][PATH_MAX]; /* per VM: kernel, initrd, disk (absolute) */
};

bool ward_sel4_board_known(const char *board)
{
        for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
                if (strcmp(boards[i].name, board) == 0)
                        return true;
        return false;
}

static const char *vm_path(char *buf, const char *name, const char *rest)
{
        size_t n = ward_sys_path_key(buf, PATH_LEN, (size_t)snprintf(buf, PATH_LEN, "/vms"), name);
        snprintf(buf + n, PATH_LEN - n, "%s", rest);
        return buf;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
        return (v + a - 1) / a * a;
}

/* 2M pages when every address the region is mapped at allows them. */
static bool pages_2m(uint64_t size, uint64_t a, uint64_t b)
{
        return size % PAGE_2M == 0 && a % PAGE_2M == 0 && b % PAGE_2M == 0;
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
        if (ward_sys_path_join(g->dir, file, out, PATH_MAX)) {
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

        /* Nothing supervises a static seL4 system: every VM starts at boot
         * and stays as it is. */
        if (!vm->policy.autostart)
                ward_sys_error_add(g->errs, vm_path(p, vm->name, "/policy/autostart"),
                                   "false cannot be honoured on seL4 (a static system starts "
                                   "every VM at boot)");
        if (vm->policy.allow)
                ward_sys_error_add(g->warns, vm_path(p, vm->name, "/policy/allow"),
                                   "ignored on seL4 (a static system has no supervisor)");
        if (vm->policy.on_failure == WARD_SYS_ON_FAILURE_RESTART)
                ward_sys_error_add(g->warns, vm_path(p, vm->name, "/policy/on_failure"),
                                   "ignored on seL4 (a static system has no supervisor)");
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

static const struct ward_sys_sel4_vm *sel4_vm(const struct ward_sys_desc *d, const char *name)
{
        for (size_t i = 0; i < d->sel4_opts.nvms; i++)
                if (strcmp(d->sel4_opts.vms[i].vm, name) == 0 && d->sel4_opts.vms[i].ram_phys_set)
                        return &d->sel4_opts.vms[i];
        return NULL;
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
                size_t n = ward_sys_path_key(p, sizeof(p),
                                             (size_t)snprintf(p, sizeof(p), "/sel4/vms"), sv->vm);
                snprintf(p + n, sizeof(p) - n, "/ram_phys");
                ward_sys_error_add(g->warns, p,
                                   "0x%llx-0x%llx is not inside 0x%llx-0x%llx, the memory seL4 "
                                   "keeps for VMs on %s: seL4 will clear it at boot",
                                   (unsigned long long)sv->ram_phys,
                                   (unsigned long long)(sv->ram_phys + (size - 1)),
                                   (unsigned long long)g->b->vm_mem_base,
                                   (unsigned long long)g->b->vm_mem_end - 1, g->b->name);
        }
}

/* ---- the .system file ---- */

static uint64_t vmm_ports_vaddr(const struct ward_sys_vm *vm)
{
        /* Right above guest RAM when it does not fit below the usual place. */
        uint64_t end = align_up(VMM_RAM_VADDR + vm->memory[0].size, PAGE_2M);
        return end > VMM_PORTS_VADDR ? end : VMM_PORTS_VADDR;
}

static void region(FILE *x, const char *name, const char *suffix, uint64_t size, bool big,
                   const uint64_t *phys)
{
        fprintf(x, "    <memory_region name=\"%s%s\" size=\"0x%llx\"", name, suffix,
                (unsigned long long)size);
        if (big)
                fprintf(x, " page_size=\"0x%llx\"", PAGE_2M);
        if (phys)
                fprintf(x, " phys_addr=\"0x%llx\"", (unsigned long long)*phys);
        fputs(" />\n", x);
}

static void channel(FILE *x, const char *a, unsigned a_id, const char *b, unsigned b_id,
                    bool b_notifies)
{
        fprintf(x,
                "    <channel>\n"
                "        <end pd=\"%s\" id=\"%u\" />\n"
                "        <end pd=\"%s\" id=\"%u\"%s />\n"
                "    </channel>\n",
                a, a_id, b, b_id, b_notifies ? "" : " notify=\"false\"");
}

static bool shm_pages_2m(const struct ward_sys_shared *s)
{
        bool big = s->size % PAGE_2M == 0;
        for (size_t k = 0; k < s->nmaps; k++)
                big = big && s->maps[k].gpa % PAGE_2M == 0;
        return big;
}

static void write_system(struct gen *g, FILE *x)
{
        const struct ward_sys_desc *d = g->d;
        const struct board *b = g->b;
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<!--\n"
              "  Generated by `ward system sel4` from a ward system description\n"
              "  (docs/system-description.md). Edit the description, not this file.\n",
              x);
        fprintf(x, "  Board %s. VMMs in this order:", b->name);
        for (size_t i = 0; i < d->nvms; i++)
                fprintf(x, " %s (%lld vCPU%s)%s", d->vms[g->order[i]].name,
                        (long long)d->vms[g->order[i]].cpus,
                        d->vms[g->order[i]].cpus > 1 ? "s" : "", i + 1 < d->nvms ? "," : ".");
        fputs("\n  A VM with several vCPUs comes last: the Microkit 2.0.1 tool numbers a\n"
              "  VM's vCPU objects as (VM index + vCPU index).\n"
              "-->\n"
              "<system>\n",
              x);

        for (size_t v = 0; v < d->nvms; v++) {
                const struct ward_sys_vm *vm = &d->vms[v];
                const struct ward_sys_sel4_vm *sv = sel4_vm(d, vm->name);
                uint64_t size = vm->memory[0].size;
                bool big = pages_2m(size, vm->memory[0].gpa, sv ? sv->ram_phys : 0);
                region(x, "guest_ram_", vm->name, size, big, sv ? &sv->ram_phys : NULL);
        }
        fprintf(x,
                "    <memory_region name=\"gic_vcpu\" size=\"0x%llx\" phys_addr=\"0x%llx\" />\n"
                "    <memory_region name=\"uart\" size=\"0x%llx\" phys_addr=\"0x%llx\" />\n",
                GIC_VCPU_SIZE, (unsigned long long)b->gic_vcpu_phys, UART_SIZE,
                (unsigned long long)b->uart_phys);
        for (size_t v = 0; v < d->nvms; v++)
                region(x, "serial_port_", d->vms[v].name, SERIAL_PORT_SIZE, false, NULL);
        for (size_t v = 0; v < d->nvms; v++)
                if (d->vms[v].ndisks)
                        region(x, "blk_port_", d->vms[v].name, BLK_PORT_SIZE, true, NULL);
        for (size_t v = 0; v < d->nvms; v++)
                if (d->vms[v].ndisks)
                        region(x, "ramdisk_", d->vms[v].name, RAMDISK_SIZE, true, NULL);
        for (size_t i = 0; i < d->nshared; i++)
                region(x, "shm_", d->shared[i].name, d->shared[i].size, shm_pages_2m(&d->shared[i]),
                       NULL);

        /* The serial PD is built once per VM; any copy serves. */
        fprintf(x,
                "\n    <protection_domain name=\"serial\" priority=\"%d\">\n"
                "        <program_image path=\"%s/serial_pd.elf\" />\n"
                "        <map mr=\"uart\" vaddr=\"0x%llx\" perms=\"rw\" cached=\"false\" "
                "setvar_vaddr=\"uart_base\" />\n",
                PRIO_SERIAL, d->vms[0].name, SERIAL_UART_VADDR);
        for (size_t v = 0; v < d->nvms; v++) {
                char var[32] = "serial_port_vaddr";
                if (v > 0) /* serial_port_b_vaddr, ... (src/host/sel4/serial_pd.c) */
                        snprintf(var, sizeof(var), "serial_port_%c_vaddr", (char)('a' + v));
                fprintf(x,
                        "        <map mr=\"serial_port_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "setvar_vaddr=\"%s\" />\n",
                        d->vms[v].name, (unsigned long long)(SERIAL_PORTS_VADDR + v * MiB), var);
        }
        fprintf(x,
                "        <irq irq=\"%u\" id=\"%d\" />\n"
                "    </protection_domain>\n",
                b->uart_irq, CH_SERIAL_IRQ);

        for (size_t v = 0; v < d->nvms; v++) {
                const char *n = d->vms[v].name;
                if (!d->vms[v].ndisks)
                        continue;
                fprintf(x,
                        "\n    <protection_domain name=\"blk_%s\" priority=\"%d\">\n"
                        "        <program_image path=\"%s/blk_pd.elf\" />\n"
                        "        <map mr=\"blk_port_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "setvar_vaddr=\"blk_port_vaddr\" />\n"
                        "        <map mr=\"ramdisk_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "setvar_vaddr=\"ramdisk_vaddr\" />\n"
                        "    </protection_domain>\n",
                        n, PRIO_BLK, n, n, BLK_PORT_VADDR, n, BLK_RAMDISK_VADDR);
        }

        for (size_t i = 0; i < d->nvms; i++) {
                const struct ward_sys_vm *vm = &d->vms[g->order[i]];
                const char *n = vm->name;
                uint64_t ports = vmm_ports_vaddr(vm);
                fprintf(x,
                        "\n    <protection_domain name=\"%s\" priority=\"%d\" "
                        "stack_size=\"0x%x\">\n"
                        "        <program_image path=\"%s.elf\" />\n"
                        "        <map mr=\"guest_ram_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "setvar_vaddr=\"guest_ram_vaddr\" />\n"
                        "        <map mr=\"serial_port_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "setvar_vaddr=\"serial_port_vaddr\" />\n",
                        n, PRIO_VMM, VMM_STACK, n, n, VMM_RAM_VADDR, n, (unsigned long long)ports);
                if (vm->ndisks)
                        fprintf(x,
                                "        <map mr=\"blk_port_%s\" vaddr=\"0x%llx\" perms=\"rw\" "
                                "setvar_vaddr=\"blk_port_vaddr\" />\n",
                                n, (unsigned long long)(ports + BLK_PORT_SIZE));
                fprintf(x, "        <virtual_machine name=\"%s\" priority=\"%d\">\n", n, PRIO_VM);
                for (int64_t c = 0; c < vm->cpus; c++)
                        fprintf(x, "            <vcpu id=\"%lld\" />\n", (long long)c);
                fprintf(x,
                        "            <map mr=\"guest_ram_%s\" vaddr=\"0x%llx\" perms=\"rwx\" />\n"
                        "            <map mr=\"gic_vcpu\" vaddr=\"0x%llx\" perms=\"rw\" "
                        "cached=\"false\" />\n",
                        n, (unsigned long long)vm->memory[0].gpa, WARD_ARM64_GIC_CPU_BASE);
                for (size_t s = 0; s < d->nshared; s++) {
                        const struct ward_sys_shared *sh = &d->shared[s];
                        for (size_t k = 0; k < sh->nmaps; k++)
                                if (strcmp(sh->maps[k].vm, n) == 0)
                                        fprintf(x,
                                                "            <map mr=\"shm_%s\" vaddr=\"0x%llx\" "
                                                "perms=\"%s\" />\n",
                                                sh->name, (unsigned long long)sh->maps[k].gpa,
                                                sh->maps[k].access == WARD_SYS_ACCESS_RO ? "r"
                                                                                         : "rw");
                }
                fputs("        </virtual_machine>\n"
                      "    </protection_domain>\n",
                      x);
        }

        fputc('\n', x);
        for (size_t v = 0; v < d->nvms; v++)
                channel(x, d->vms[v].name, CH_VMM_SERIAL, "serial",
                        v == 0 ? CH_VMM_SERIAL : (unsigned)(CH_SERIAL_IRQ + v), true);
        for (size_t v = 0; v < d->nvms; v++) {
                char blk[8 + WARD_SYS_MAX_NAME + 1];
                snprintf(blk, sizeof(blk), "blk_%s", d->vms[v].name);
                if (d->vms[v].ndisks)
                        channel(x, d->vms[v].name, CH_BLK, blk, CH_BLK, true);
        }
        /* A doorbell rings one way: the woken VMM gets no capability to
         * notify back over it. */
        for (size_t i = 0; i < d->ndoorbells; i++)
                channel(x, d->doorbells[i].from, g->db_from[i], d->doorbells[i].to, g->db_to[i],
                        false);
        fputs("</system>\n", x);
}

/* ---- vms.mk ---- */

/* NAME_KEY := VALUE, with no trailing space when VALUE is empty. */
static void make_var(FILE *m, const char *name, const char *key, const char *value)
{
        fprintf(m, "%s_%s :=%s%s\n", name, key, *value ? " " : "", value);
}

static void write_make(struct gen *g, FILE *m)
{
        const struct ward_sys_desc *d = g->d;
        fputs("# Generated by `ward system sel4` from a ward system description\n"
              "# (docs/system-description.md): the VMs of system.system, for the seL4\n"
              "# build. Edit the description, not this file.\n"
              "#\n"
              "# VMS: NAME:VCPUS, in the order of the VMM PDs. Per VM NAME: NAME_KERNEL,\n"
              "# NAME_INITRD and NAME_DISK (absolute paths; INITRD and DISK may be empty),\n"
              "# NAME_CMDLINE (no quotes, $, #, \\ or `: safe inside \"...\"), NAME_MEM (bytes),\n"
              "# NAME_RAM_GPA, NAME_CONSOLE (serial or virtio), NAME_DOORBELLS\n"
              "# (DOORBELL:CHANNEL_ID:out|in) and NAME_SHM (REGION:GPA:SIZE:rw|ro).\n",
              m);
        fputs("VMS :=", m);
        for (size_t i = 0; i < d->nvms; i++)
                fprintf(m, " %s:%lld", d->vms[g->order[i]].name,
                        (long long)d->vms[g->order[i]].cpus);
        fputc('\n', m);
        for (size_t i = 0; i < d->nvms; i++) {
                size_t v = g->order[i];
                const struct ward_sys_vm *vm = &d->vms[v];
                const char *n = vm->name;
                char mem[24], gpa[24];
                snprintf(mem, sizeof(mem), "%llu", (unsigned long long)vm->memory[0].size);
                snprintf(gpa, sizeof(gpa), "0x%llx", (unsigned long long)vm->memory[0].gpa);
                fputc('\n', m);
                make_var(m, n, "KERNEL", g->paths[v][0]);
                make_var(m, n, "INITRD", g->paths[v][1]);
                make_var(m, n, "CMDLINE",
                         vm->cmdline ? vm->cmdline : ward_default_cmdline(vm->console));
                make_var(m, n, "MEM", mem);
                make_var(m, n, "RAM_GPA", gpa);
                make_var(m, n, "CONSOLE", vm->console == WARD_CONSOLE_VIRTIO ? "virtio" : "serial");
                make_var(m, n, "DISK", g->paths[v][2]);
                fprintf(m, "%s_DOORBELLS :=", n);
                for (size_t k = 0; k < d->ndoorbells; k++) {
                        const struct ward_sys_doorbell *b = &d->doorbells[k];
                        if (strcmp(b->from, n) == 0)
                                fprintf(m, " %s:%u:out", b->name, g->db_from[k]);
                        else if (strcmp(b->to, n) == 0)
                                fprintf(m, " %s:%u:in", b->name, g->db_to[k]);
                }
                fprintf(m, "\n%s_SHM :=", n);
                for (size_t s = 0; s < d->nshared; s++) {
                        const struct ward_sys_shared *sh = &d->shared[s];
                        for (size_t k = 0; k < sh->nmaps; k++)
                                if (strcmp(sh->maps[k].vm, n) == 0)
                                        fprintf(m, " %s:0x%llx:0x%llx:%s", sh->name,
                                                (unsigned long long)sh->maps[k].gpa,
                                                (unsigned long long)sh->size,
                                                sh->maps[k].access == WARD_SYS_ACCESS_RO ? "ro"
                                                                                         : "rw");
                }
                fputc('\n', m);
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
        size_t before = errs->n;
        *out = (struct ward_sel4_out){0};
        const char *board = o && o->board ? o->board : WARD_SEL4_DEFAULT_BOARD;
        struct gen g = {
            .d = d, .dir = o && o->desc_dir ? o->desc_dir : "/", .errs = errs, .warns = warns};
        for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
                if (strcmp(boards[i].name, board) == 0)
                        g.b = &boards[i];
        if (!g.b) {
                ward_sys_error_add(errs, "/", "unknown seL4 board \"%s\" (known: %s)", board,
                                   WARD_SEL4_DEFAULT_BOARD);
                return errs->n - before;
        }
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
        if (!g.order || !g.paths || !g.db_from || !g.db_to) {
                errs->oom = true;
        } else {
                for (size_t v = 0; v < d->nvms; v++)
                        check_vm(&g, v);
                order_vms(&g);
                number_doorbells(&g);
                check_phys(&g);
        }
        if (errs->n == before && !errs->oom) {
                out->system = build(&g, write_system);
                out->make = build(&g, write_make);
                if (!out->system || !out->make) {
                        ward_sel4_out_free(out);
                        errs->oom = true;
                }
        }
        free(g.order);
        free(g.paths);
        free(g.db_from);
        free(g.db_to);
        return errs->n - before + (errs->oom && errs->n == before);
}

void ward_sel4_out_free(struct ward_sel4_out *out)
{
        free(out->system);
        free(out->make);
        *out = (struct ward_sel4_out){0};
}
