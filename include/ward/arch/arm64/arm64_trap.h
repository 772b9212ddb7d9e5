/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The arm64 trap handler for hypervisors that hand the VMM a raw trapped
 * instruction (seL4: VM faults and vCPU faults carry ESR_EL2, the faulting
 * address and access to the vCPU's registers). KVM decodes MMIO, PSCI and
 * the GIC itself, so this is the part of the machine layer that only a
 * thin hypervisor needs. Decode first (arm64_esr), then act: the guest's
 * registers and PC change only when the whole access was valid.
 */
#ifndef WARD_ARM64_TRAP_H
#define WARD_ARM64_TRAP_H

#include "ward/arch/arm64/arm64_psci.h"
#include "ward/arch/arm64/arm64_vgic.h"
#include "ward/machine/bus.h"

/* Access to the trapped vCPU's registers (x0..x30, PC). */
struct ward_arm64_regs_ops {
        uint64_t (*get_x)(void *opaque, unsigned vcpu, unsigned reg);
        void (*set_x)(void *opaque, unsigned vcpu, unsigned reg, uint64_t val);
        uint64_t (*get_pc)(void *opaque, unsigned vcpu);
        void (*set_pc)(void *opaque, unsigned vcpu, uint64_t pc);
};

struct ward_arm64_trap_ctx {
        const struct ward_bus *bus;
        struct ward_psci *psci;
        struct ward_vgic *vgic; /* NULL when the hypervisor emulates the GIC */
        const struct ward_arm64_regs_ops *regs;
        void *opaque;
};

enum ward_trap_outcome {
        WARD_TRAP_RESUME,       /* resume the vCPU */
        WARD_TRAP_WAIT,         /* WFI/WFE or CPU_SUSPEND: resume when an interrupt is due */
        WARD_TRAP_CPU_ON,       /* resume, and start vCPU `target` at `entry` (x0 already set) */
        WARD_TRAP_CPU_OFF,      /* stop this vCPU */
        WARD_TRAP_SYSTEM_OFF,   /* the guest powered off */
        WARD_TRAP_SYSTEM_RESET, /* the guest asked to reboot */
        WARD_TRAP_FATAL,        /* cannot go on: `reason` says why */
};

struct ward_trap_result {
        enum ward_trap_outcome outcome;
        unsigned target;
        uint64_t entry;
        const char *reason;
};

/*
 * Handles one trap of `vcpu` with syndrome `esr` at guest-physical
 * `fault_addr` (data aborts only).
 */
void ward_arm64_trap(const struct ward_arm64_trap_ctx *ctx, unsigned vcpu, uint32_t esr,
                     uint64_t fault_addr, struct ward_trap_result *res);

#endif
