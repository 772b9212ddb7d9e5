/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the VM core (src/vm/vm.c) asks of an architecture. Each
 * architecture implements these once, in src/arch/<isa>/vm_<isa>.c, and
 * the VM core picks the one the hypervisor backend is for (ward_hv_ops.arch):
 * every build holds all of them, so the VM core is tested for each
 * architecture on any host. A new architecture is that file plus its board.
 */
#ifndef WARD_VM_ARCH_H
#define WARD_VM_ARCH_H

#include "ward/vm/vm.h"

struct ward_vm_arch {
        const char *name;  /* as ward_hv_ops.arch says it */
        uint64_t ram_base; /* where the boot RAM goes when the config does not say */
        /* Where the board's devices are: no RAM or shared region may overlap it. */
        uint64_t device_base, device_end;
        unsigned max_devices;     /* virtio devices the board has windows and lines for */
        const char *device_limit; /* what limits them, for the error */
        /*
         * The address map for vm->cfg (RAM, interrupt controller, UART):
         * fills the board and vm->ram_base, ram_size and uart.
         */
        int (*board)(struct ward_vm *vm, char *err, size_t errlen);
        /* The interrupt controller, before the vCPUs exist... */
        int (*irqchip)(struct ward_vm *vm, char *err, size_t errlen);
        /* ...and once they all do (x86_64: their CPUID too). */
        int (*irqchip_finalize)(struct ward_vm *vm, char *err, size_t errlen);
        /* The next device's MMIO window and interrupt line. */
        int (*device_window)(struct ward_vm *vm, uint64_t *base, unsigned *line);
        /* Devices of the board itself (x86_64: the power ports), after the UART. */
        int (*board_devices)(struct ward_vm *vm, char *err, size_t errlen);
        /* Places the images and the platform description, and sets the boot vCPU's registers. */
        int (*boot)(struct ward_vm *vm, const struct ward_vm_images *img, char *err, size_t errlen);
};

extern const struct ward_vm_arch ward_vm_arch_arm64;
extern const struct ward_vm_arch ward_vm_arch_x86_64;

/* The architecture hv is for, or NULL when ward has no machine for it. */
const struct ward_vm_arch *ward_vm_arch_of(const struct ward_hv_ops *hv);

/* For boot(): copies image `which` (0 kernel, 1 initrd) whole to guest RAM at gpa. */
int ward_vm_load_image(struct ward_vm *vm, const struct ward_vm_images *img, unsigned which,
                       uint64_t gpa, char *err, size_t errlen);

#endif
