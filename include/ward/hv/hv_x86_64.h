/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The x86_64 extension of the hypervisor seam: the in-kernel interrupt
 * controllers (I/O APIC, local APICs, and the legacy PIC and PIT Linux
 * still probes), CPUID, and the registers of the 64-bit boot entry. A
 * backend for x86_64 points ward_hv_ops.arch_ops at one of these.
 *
 * Interrupt lines (ward_hv_ops.irq_line, irq_bind_notifier) are I/O APIC
 * inputs (GSIs) on x86_64. Every vCPU but the first waits for the guest's
 * INIT/SIPI, which the in-kernel local APICs deliver.
 */
#ifndef WARD_HV_X86_64_H
#define WARD_HV_X86_64_H

#include "ward/arch/x86_64/x86_boot64.h"
#include "ward/arch/x86_64/x86_cpuid.h"
#include "ward/hv/hv.h"

#define WARD_X86_IOAPIC_PINS 24 /* GSIs 0-23 */

struct ward_hv_x86_64_ops {
        /* The I/O APIC, the local APICs, PIC and PIT: before any vCPU exists. */
        int (*irqchip_create)(struct ward_hv_vm *vm, char *err, size_t errlen);
        /*
         * What CPUID the hypervisor can offer, into e (room entries); *n gets
         * how many. The VM core filters it per vCPU (x86_cpuid.h).
         */
        int (*supported_cpuid)(struct ward_hv_vm *vm, struct ward_cpuid_entry *e, unsigned room,
                               unsigned *n, char *err, size_t errlen);
        int (*set_cpuid)(struct ward_hv_vcpu *vcpu, const struct ward_cpuid_entry *e, unsigned n,
                         char *err, size_t errlen);
        /* The boot vCPU's state at the 64-bit entry (x86_boot64.h). */
        int (*set_boot_regs)(struct ward_hv_vcpu *vcpu, const struct ward_x86_boot_regs *r,
                             char *err, size_t errlen);
};

/* The x86_64 extension of hv, or NULL when hv is for another architecture. */
static inline const struct ward_hv_x86_64_ops *ward_hv_x86_64(const struct ward_hv_ops *hv)
{
        return ward_hv_arch_is(hv, "x86_64") ? (const struct ward_hv_x86_64_ops *)hv->arch_ops
                                             : NULL;
}

#endif
