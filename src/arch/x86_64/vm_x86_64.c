/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The x86_64 part of the VM core: ward's x86_64 board (platform.c) for a
 * VM config, the in-kernel interrupt controllers and each vCPU's CPUID
 * through the hypervisor's x86_64 extension, the 16550 and the power ports
 * on the port-I/O bus, and the Linux x86 boot protocol's 64-bit entry: the
 * bzImage in RAM, the zero page, the command line, the initrd, the ACPI
 * tables (the guest's only description of its devices), page tables and
 * the boot vCPU's registers.
 */
#include "ward/arch/x86_64/x86_platform.h"
#include "ward/hv/hv_x86_64.h"
#include "ward/vm/vm_arch.h"

#define CPUID_ROOM 256u
#define IDENTITY_GIB 4u /* the boot page tables map the first 4 GiB: all the boot RAM */
#define PAGE 4096ull

/* The FADT's sleep control register: SLP_EN, the bit a poweroff sets. */
#define SLP_EN (1u << 5)
#define ACPI_RESET_VALUE 1u
#define KBC_COMMAND_PORT 0x64u
#define KBC_PULSE_RESET 0xfeu

static int board(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        struct ward_x86_platform *p = &vm->board.x86;
        if (!ward_hv_x86_64(vm->hv)) {
                ward_fmt(err, errlen, "hypervisor backend %s is not for x86_64", vm->hv->name);
                return -1;
        }
        if (cfg->mem_gpa != WARD_X86_RAM_BASE) {
                ward_fmt(err, errlen,
                         "--mem-at 0x%llx: on x86_64 the boot RAM starts at 0 (the kernel needs "
                         "its low memory); add more RAM elsewhere with --ram",
                         (unsigned long long)cfg->mem_gpa);
                return -1;
        }
        if (ward_x86_platform_init(p, cfg->mem_bytes, cfg->cpus)) {
                ward_fmt(err, errlen,
                         "--mem/--cpus: does not fit ward's x86_64 memory map (32M to 3G of boot "
                         "RAM, 1 to %u vCPUs)",
                         WARD_X86_MAX_CPUS);
                return -1;
        }
        for (unsigned i = 0; i < cfg->nram; i++)
                if (ward_x86_platform_add_ram(p, cfg->ram[i].gpa, cfg->ram[i].size)) {
                        ward_fmt(err, errlen,
                                 "--ram 0x%llx: does not fit ward's x86_64 memory map (clear of "
                                 "the boot RAM and of 0xc0000000-4G)",
                                 (unsigned long long)cfg->ram[i].gpa);
                        return -1;
                }
        vm->ram_base = WARD_X86_RAM_BASE;
        vm->ram_size = p->ram_size;
        vm->uart_at.base = WARD_X86_UART_PORT;
        vm->uart_at.line = WARD_X86_UART_GSI;
        vm->uart_at.pio = true;
        return 0;
}

static int irqchip(struct ward_vm *vm, char *err, size_t errlen)
{
        return ward_hv_x86_64(vm->hv)->irqchip_create(vm->hvm, err, errlen);
}

/* Each vCPU's CPUID: what the hypervisor offers, filtered for that vCPU. */
static int irqchip_finalize(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_hv_x86_64_ops *x = ward_hv_x86_64(vm->hv);
        size_t bytes = CPUID_ROOM * sizeof(struct ward_cpuid_entry);
        struct ward_cpuid_entry *offered = vm->host_ops->alloc(vm->host, bytes);
        struct ward_cpuid_entry *mine = vm->host_ops->alloc(vm->host, bytes);
        unsigned n = 0;
        int rc = -1;
        if (!offered || !mine) {
                ward_fmt(err, errlen, "out of memory");
                goto out;
        }
        if (x->supported_cpuid(vm->hvm, offered, CPUID_ROOM, &n, err, errlen))
                goto out;
        for (unsigned i = 0; i < vm->cfg->cpus; i++) {
                unsigned m = n;
                memcpy(mine, offered, n * sizeof(*mine));
                if (ward_x86_cpuid_filter(mine, &m, CPUID_ROOM, i, vm->cfg->cpus, err, errlen) ||
                    x->set_cpuid(vm->vcpu[i], mine, m, err, errlen))
                        goto out;
        }
        rc = 0;
out:
        if (vm->host_ops->free) {
                vm->host_ops->free(vm->host, offered);
                vm->host_ops->free(vm->host, mine);
        }
        return rc;
}

static int device_window(struct ward_vm *vm, uint64_t *base, unsigned *line)
{
        int i = ward_x86_platform_add_virtio(&vm->board.x86);
        if (i < 0)
                return -1;
        *base = vm->board.x86.virtio[i].base;
        *line = vm->board.x86.virtio[i].gsi;
        return 0;
}

/* ---- the power ports: the FADT's sleep control, sleep status and reset registers,
 * and the keyboard controller's reset ---- */

static void power_read(void *dev, uint64_t off, void *data, unsigned len)
{
        (void)dev, (void)off;
        memset(data, 0, len); /* sleep status: never woken; the others read as 0 */
}

static void power_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct ward_vm *vm = dev;
        uint8_t v;
        if (len != 1)
                return;
        memcpy(&v, data, 1);
        if (off == 0 && (v & SLP_EN))
                vm->stop = WARD_VM_POWEROFF; /* any SLP_TYP: ward has S5 only */
        else if (off == 2 && v == ACPI_RESET_VALUE)
                vm->stop = WARD_VM_REBOOT;
}

static const struct ward_mmio_ops power_ops = {power_read, power_write};

/*
 * The keyboard controller's command port, for its one command a VM needs:
 * 0xfe pulses the reset line. Linux tries it right after the ACPI reset
 * register (and before falling back to a BIOS ward does not have); reads
 * say "input buffer empty" so that it does not wait.
 */
static void kbc_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct ward_vm *vm = dev;
        uint8_t v;
        (void)off;
        if (len != 1)
                return;
        memcpy(&v, data, 1);
        if (v == KBC_PULSE_RESET)
                vm->stop = WARD_VM_REBOOT;
}

static const struct ward_mmio_ops kbc_ops = {power_read, kbc_write};

static int board_devices(struct ward_vm *vm, char *err, size_t errlen)
{
        if (ward_bus_register(&vm->io, WARD_X86_POWER_PORT, WARD_X86_POWER_PORTS, &power_ops, vm)) {
                ward_fmt(err, errlen, "internal: power ports");
                return -1;
        }
        if (ward_bus_register(&vm->io, KBC_COMMAND_PORT, 1, &kbc_ops, vm)) {
                ward_fmt(err, errlen, "internal: keyboard controller port");
                return -1;
        }
        return 0;
}

/* ---- boot ---- */

struct layout {
        uint64_t kernel_gpa; /* the protected-mode kernel; the setup part sits just below */
        uint64_t initrd_gpa;
        uint32_t cmdline_len;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
        return (v + a - 1) & ~(a - 1);
}

static int place(struct ward_vm *vm, const struct ward_vm_images *img,
                 const struct ward_bzimage *bz, struct layout *l, char *err, size_t errlen)
{
        uint64_t ram = vm->ram_size;
        /* The kernel's preferred address, if it leaves room for the setup part below it. */
        uint64_t at = bz->pref_address >= (2ull << 20) ? bz->pref_address : (16ull << 20);
        at = at <= ram ? align_up(at, bz->kernel_alignment) : at; /* no wrap: both below 2^63 */
        if (at > ram || bz->init_size > ram - at) {
                ward_fmt(err, errlen,
                         "--mem: %lluM is too small for this kernel (it needs 0x%x bytes from "
                         "0x%llx)",
                         (unsigned long long)(ram >> 20), bz->init_size, (unsigned long long)at);
                return -1;
        }
        l->kernel_gpa = at;
        l->initrd_gpa = 0;
        if (img->initrd_len) {
                /* At the top of the RAM the kernel reaches, above the kernel's own area. */
                uint64_t top = ram;
                if (top - 1 > bz->initrd_addr_max)
                        top = (uint64_t)bz->initrd_addr_max + 1;
                uint64_t low = at + bz->init_size;
                if (img->initrd_len > top || ((top - img->initrd_len) & ~(PAGE - 1)) < low) {
                        ward_fmt(err, errlen,
                                 "--mem: %lluM is too small for this kernel and initrd",
                                 (unsigned long long)(ram >> 20));
                        return -1;
                }
                l->initrd_gpa = (top - img->initrd_len) & ~(PAGE - 1);
        }
        size_t n = strlen(vm->bootargs);
        if (n >= WARD_X86_CMDLINE_MAX) {
                ward_fmt(err, errlen, "the kernel command line is longer than %u bytes",
                         WARD_X86_CMDLINE_MAX - 1);
                return -1;
        }
        l->cmdline_len = (uint32_t)n;
        return 0;
}

/*
 * What a CPU reset runs first (f000:fff0, real mode): ward has no BIOS, so
 * this writes the ACPI reset register, which ends the VM as a reboot. Linux
 * comes here when its other ways to reboot fail: on hardware-reduced ACPI
 * without EFI it tries EFI and then "the BIOS", a jump to this vector.
 */
/* clang-format off */
static const uint8_t reset_vector[] = {
    0xb0, ACPI_RESET_VALUE,                               /* mov al, 1 */
    0xba, (uint8_t)(WARD_X86_POWER_PORT + 2),
          (uint8_t)((WARD_X86_POWER_PORT + 2) >> 8),      /* mov dx, reset port */
    0xee,                                                 /* out dx, al */
    0xf4,                                                 /* hlt */
    0xeb, 0xfd,                                           /* jmp to the hlt */
};
/* clang-format on */

static int write_tables(struct ward_vm *vm, const struct ward_vm_images *img,
                        const struct ward_bzimage *bz, const struct layout *l, char *err,
                        size_t errlen)
{
        struct ward_acpi_platform ap;
        struct ward_acpi_out acpi;
        ward_x86_platform_acpi(&vm->board.x86, &ap);
        if (ward_acpi_build(&ap, vm->ram + WARD_X86_ACPI_BASE, WARD_X86_ACPI_SIZE,
                            WARD_X86_ACPI_BASE, &acpi, err, errlen))
                return -1;
        struct ward_x86_e820 e820[WARD_X86_MAX_RAM + 2];
        int ne820 = ward_x86_platform_e820(&vm->board.x86, e820, WARD_ARRAY_SIZE(e820));
        if (ne820 < 0) {
                ward_fmt(err, errlen, "internal: e820 map");
                return -1;
        }
        memcpy(vm->ram + WARD_X86_RESET_VECTOR, reset_vector, sizeof(reset_vector));
        memcpy(vm->ram + WARD_X86_CMDLINE, vm->bootargs, l->cmdline_len + 1);
        struct ward_x86_boot_layout bl = {
            .cmdline_gpa = WARD_X86_CMDLINE,
            .cmdline_len = l->cmdline_len,
            .initrd_gpa = l->initrd_gpa,
            .initrd_size = img->initrd_len,
            .rsdp_gpa = acpi.rsdp_gpa,
            .e820 = e820,
            .ne820 = (unsigned)ne820,
        };
        return ward_x86_zero_page(vm->ram + WARD_X86_ZERO_PAGE, img->kernel_header, bz, &bl, err,
                                  errlen);
}

static int boot(struct ward_vm *vm, const struct ward_vm_images *img, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        struct ward_bzimage bz;
        char why[160];
        if (ward_bzimage_parse(img->kernel_header, img->kernel_len, &bz, why, sizeof(why))) {
                ward_fmt(err, errlen, "--kernel %s: not an x86_64 bzImage ward can boot: %s",
                         cfg->kernel ? cfg->kernel : "(built in)", why);
                return -1;
        }
        struct layout l;
        if (place(vm, img, &bz, &l, err, errlen))
                return -1;
        /* The whole file, so that its protected-mode part lands at kernel_gpa. */
        if (ward_vm_load_image(vm, img, 0, l.kernel_gpa - bz.setup_bytes, err, errlen) ||
            ward_vm_load_image(vm, img, 1, l.initrd_gpa, err, errlen) ||
            write_tables(vm, img, &bz, &l, err, errlen))
                return -1;
        struct ward_x86_boot_regs r;
        /* startup_64: 0x200 bytes into the protected-mode kernel (boot.rst, 64-bit protocol). */
        if (ward_x86_boot64(vm->ram, vm->ram_size, IDENTITY_GIB, l.kernel_gpa + 0x200,
                            WARD_X86_ZERO_PAGE, &r, err, errlen))
                return -1;
        return ward_hv_x86_64(vm->hv)->set_boot_regs(vm->vcpu[0], &r, err, errlen);
}

const struct ward_vm_arch ward_vm_arch_x86_64 = {
    .name = "x86_64",
    .ram_base = WARD_X86_RAM_BASE,
    .device_base = WARD_X86_HOLE_BASE,
    .device_end = WARD_X86_HOLE_END,
    .max_devices = WARD_X86_MAX_VIRTIO,
    .device_limit = "GSIs 5 to 23",
    .board = board,
    .irqchip = irqchip,
    .irqchip_finalize = irqchip_finalize,
    .device_window = device_window,
    .board_devices = board_devices,
    .boot = boot,
};
