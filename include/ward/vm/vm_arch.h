/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the VM core (src/vm/vm.c) asks of an architecture. Each
 * architecture implements these once, in src/arch/<isa>/vm_<isa>.c; a new
 * architecture is that file plus its board, and the VM core stays as it is.
 */
#ifndef WARD_VM_ARCH_H
#define WARD_VM_ARCH_H

#include "ward/vm/vm.h"

/* The address map for vm->cfg (RAM, interrupt controller, UART). */
int ward_arch_vm_board(struct ward_vm *vm, char *err, size_t errlen);
/* The interrupt controller, before the vCPUs exist... */
int ward_arch_vm_irqchip(struct ward_vm *vm, char *err, size_t errlen);
/* ...and once they all do. */
int ward_arch_vm_irqchip_finalize(struct ward_vm *vm, char *err, size_t errlen);
/* The next device's MMIO window and interrupt line. */
int ward_arch_vm_device_window(struct ward_vm *vm, uint64_t *base, unsigned *line);
/* Places the images and the device tree, and sets the boot vCPU's registers. */
int ward_arch_vm_boot(struct ward_vm *vm, const struct ward_vm_images *img, char *err,
                      size_t errlen);

#endif
