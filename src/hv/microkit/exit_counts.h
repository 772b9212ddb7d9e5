/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VMM PD's exit counters: every fault and notification it handles, by
 * kind, printed once when the VM stops (lines "ward: exits ..."), to see
 * where the guest's time in the VMM goes. Private to src/hv/microkit.
 */
#ifndef WARD_MICROKIT_EXIT_COUNTS_H
#define WARD_MICROKIT_EXIT_COUNTS_H

#include <stdint.h>

enum {
        EXIT_VM_UART,
        EXIT_VM_VIRTIO,
        EXIT_VM_GIC,
        EXIT_VM_OTHER,
        EXIT_VCPU_WFX,
        EXIT_VCPU_HVC,
        EXIT_VCPU_SMC,
        EXIT_VCPU_SYSREG,
        EXIT_VCPU_OTHER,
        EXIT_MAINTENANCE,
        EXIT_VPPI,
        EXIT_PARKED, /* not an exit: a WFI that parked its vCPU */
        EXIT_KINDS
};
#define EXIT_CHANNELS 63 /* Microkit channel ids are 0..62 */

/* The kind of a VM fault at guest-physical addr (a VM of ncpus vCPUs). */
unsigned ward_mk_vm_fault_kind(uint64_t addr, unsigned ncpus);
/* The kind of a vCPU fault with syndrome esr. */
unsigned ward_mk_vcpu_fault_kind(uint32_t esr);
void ward_mk_count(unsigned kind);
void ward_mk_count_notified(unsigned ch);
/* Prints the counters, one line per group of kinds. */
void ward_mk_print_exits(void);
/* microkit_dbg_puts of what, then v in hex and a newline; of v in decimal. */
void ward_mk_puts_hex(const char *what, uint64_t v);
void ward_mk_puts_dec(uint64_t v);

#endif
