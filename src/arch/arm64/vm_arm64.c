/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The arm64 part of the VM core: ward's arm64 board (platform.c) for a VM
 * config, the GIC through the hypervisor's arm64 extension (or the GICv2
 * distributor the VMM emulates, when the backend says so), and the Image
 * boot protocol: kernel, initrd and device tree in the boot RAM, x0 the
 * device tree, EL1h with interrupts masked.
 */
#include "ward/arch/arm64/arm64_boot.h"
#include "ward/hv/hv_arm64.h"
#include "ward/vm/vm_arch.h"

#define DT_ROOM (64 * 1024)

static int board(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        if (!ward_hv_arm64(vm->hv)) {
                ward_fmt(err, errlen, "hypervisor backend %s is not for arm64", vm->hv->name);
                return -1;
        }
        if (ward_arm64_platform_init(&vm->board.arm64, cfg->mem_bytes, cfg->cpus) ||
            ward_arm64_platform_set_ram_base(&vm->board.arm64, cfg->mem_gpa)) {
                ward_fmt(err, errlen,
                         "--mem/--mem-at/--cpus: does not fit ward's arm64 memory map");
                return -1;
        }
        for (unsigned i = 0; i < cfg->nram; i++)
                if (ward_arm64_platform_add_ram(&vm->board.arm64, cfg->ram[i].gpa,
                                                cfg->ram[i].size)) {
                        ward_fmt(err, errlen, "--ram 0x%llx: does not fit ward's arm64 memory map",
                                 (unsigned long long)cfg->ram[i].gpa);
                        return -1;
                }
        vm->ram_base = vm->board.arm64.ram_base;
        vm->ram_size = vm->board.arm64.ram_size;
        vm->uart_at.base = vm->board.arm64.uart_base;
        vm->uart_at.line = vm->board.arm64.uart_spi;
        vm->uart_at.pio = false;
        return 0;
}

static int irqchip(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_hv_arm64_ops *a = ward_hv_arm64(vm->hv);
        if (a->gic_create(vm->hvm, &vm->board.arm64.gic, err, errlen))
                return -1;
        if (vm->board.arm64.gic.gic_version == 2 && vm->cfg->cpus > 8) {
                ward_fmt(err, errlen,
                         "--cpus %u: this host only offers GICv2, which has 8 CPUs at most",
                         vm->cfg->cpus);
                return -1;
        }
        const struct ward_hv_gic *g = &vm->board.arm64.gic;
        if (g->dist_ops && ward_bus_register(&vm->bus, g->dist_base, g->dist_emulated_size,
                                             g->dist_ops, g->dist)) {
                ward_fmt(err, errlen, "internal: GIC distributor window");
                return -1;
        }
        return 0;
}

static int irqchip_finalize(struct ward_vm *vm, char *err, size_t errlen)
{
        return ward_hv_arm64(vm->hv)->gic_finalize(vm->hvm, err, errlen);
}

static int device_window(struct ward_vm *vm, uint64_t *base, unsigned *line)
{
        int i = ward_arm64_platform_add_virtio(&vm->board.arm64);
        if (i < 0)
                return -1;
        *base = vm->board.arm64.virtio[i].base;
        *line = vm->board.arm64.virtio[i].spi;
        return 0;
}

/* Where kernel, initrd and device tree go, from the kernel's header. */
static int layout(struct ward_vm *vm, const struct ward_vm_images *img,
                  struct ward_arm64_layout *lay, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        struct ward_arm64_image image;
        if (ward_arm64_image_parse(img->kernel_header, img->kernel_len, &image)) {
                ward_fmt(err, errlen, "--kernel %s: not an arm64 Linux Image (bad header)",
                         cfg->kernel ? cfg->kernel : "(built in)");
                return -1;
        }
        if (ward_arm64_layout(vm->board.arm64.ram_base, vm->board.arm64.ram_size, &image,
                              img->kernel_len, img->initrd_len, lay)) {
                ward_fmt(err, errlen, "--mem: %lluM is too small for this kernel and initrd",
                         (unsigned long long)(vm->board.arm64.ram_size >> 20));
                return -1;
        }
        return 0;
}

static int write_dt(struct ward_vm *vm, const struct ward_vm_images *img,
                    const struct ward_arm64_layout *lay, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        const struct ward_hv_arm64_ops *a = ward_hv_arm64(vm->hv);
        uint64_t mpidr[WARD_ARM64_MAX_CPUS];
        for (unsigned i = 0; i < cfg->cpus; i++)
                if (a->get_reg(vm->vcpu[i], WARD_ARM64_REG_MPIDR, &mpidr[i]))
                        mpidr[i] = ((uint64_t)(i / 16) << 8) | (i % 16);
        uint64_t initrd_end = img->initrd_len ? lay->initrd_gpa + img->initrd_len : 0;
        struct ward_arm64_dt dt;
        ward_arm64_platform_dt(&vm->board.arm64, mpidr, vm->bootargs,
                               img->initrd_len ? lay->initrd_gpa : 0, initrd_end, img->kaslr_seed,
                               img->rng_seed, &dt);
        void *dst = ward_gmem_ptr(&vm->gm, lay->dtb_gpa, DT_ROOM);
        if (!dst) {
                ward_fmt(err, errlen, "device tree does not fit in guest RAM");
                return -1;
        }
        return img->write_dt(vm->host, &dt, dst, DT_ROOM, err, errlen);
}

static int boot(struct ward_vm *vm, const struct ward_vm_images *img, char *err, size_t errlen)
{
        struct ward_arm64_layout lay;
        if (layout(vm, img, &lay, err, errlen) ||
            ward_vm_load_image(vm, img, 0, lay.kernel_gpa, err, errlen) ||
            ward_vm_load_image(vm, img, 1, lay.initrd_gpa, err, errlen) ||
            write_dt(vm, img, &lay, err, errlen))
                return -1;
        const struct ward_hv_arm64_ops *a = ward_hv_arm64(vm->hv);
        struct ward_hv_vcpu *boot = vm->vcpu[0];
        if (a->set_reg(boot, WARD_ARM64_REG_PSTATE, WARD_ARM64_BOOT_PSTATE) ||
            a->set_reg(boot, WARD_ARM64_REG_PC, lay.kernel_gpa) ||
            a->set_reg(boot, WARD_ARM64_REG_X0, lay.dtb_gpa) ||
            a->set_reg(boot, WARD_ARM64_REG_X1, 0) || a->set_reg(boot, WARD_ARM64_REG_X2, 0) ||
            a->set_reg(boot, WARD_ARM64_REG_X3, 0)) {
                ward_fmt(err, errlen, "cannot set the boot vCPU's registers");
                return -1;
        }
        return 0;
}

const struct ward_vm_arch ward_vm_arch_arm64 = {
    .name = "arm64",
    .ram_base = WARD_ARM64_RAM_BASE,
    .device_base = WARD_ARM64_GIC_DIST_BASE,
    .device_end = WARD_ARM64_RAM_BASE,
    .max_devices = WARD_ARM64_MAX_VIRTIO,
    .device_limit = "SPIs 16 to 47",
    .board = board,
    .irqchip = irqchip,
    .irqchip_finalize = irqchip_finalize,
    .device_window = device_window,
    .boot = boot,
};
