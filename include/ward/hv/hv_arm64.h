/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The arm64 extension of the hypervisor seam: vCPU registers and the GIC.
 * A backend for arm64 points ward_hv_ops.arch_ops at one of these.
 */
#ifndef WARD_HV_ARM64_H
#define WARD_HV_ARM64_H

#include "ward/hv/hv.h"

struct ward_mmio_ops;

/* Where the GIC lives and which version the backend chose. */
struct ward_hv_gic {
        int gic_version; /* 3 or 2, chosen by the backend (v3 first, then v2) */
        uint64_t dist_base, dist_size;
        uint64_t redist_base, redist_size; /* GICv3: all vCPUs' redistributors */
        uint64_t cpu_base, cpu_size;       /* GICv2 CPU interface */
        unsigned nr_irqs;                  /* total interrupt IDs, including 32 private */
        /*
         * Set by a backend whose hypervisor leaves the distributor to the
         * VMM (seL4): the VM core puts it on its bus at dist_base, for
         * dist_emulated_size bytes.
         */
        const struct ward_mmio_ops *dist_ops;
        void *dist;
        uint64_t dist_emulated_size;
};

/* Registers that boot code sets. */
enum ward_arm64_reg {
        WARD_ARM64_REG_PC,
        WARD_ARM64_REG_X0,
        WARD_ARM64_REG_X1,
        WARD_ARM64_REG_X2,
        WARD_ARM64_REG_X3,
        WARD_ARM64_REG_PSTATE,
        WARD_ARM64_REG_MPIDR, /* read only: the affinity the guest sees */
};

struct ward_hv_arm64_ops {
        /* Creates the GIC; fills in the version used. */
        int (*gic_create)(struct ward_hv_vm *vm, struct ward_hv_gic *gic, char *err, size_t errlen);
        /* Call after all vCPUs exist, before the first run. */
        int (*gic_finalize)(struct ward_hv_vm *vm, char *err, size_t errlen);
        int (*set_reg)(struct ward_hv_vcpu *vcpu, enum ward_arm64_reg reg, uint64_t val);
        int (*get_reg)(struct ward_hv_vcpu *vcpu, enum ward_arm64_reg reg, uint64_t *val);
};

/* The arm64 extension of hv, or NULL when hv is for another architecture. */
static inline const struct ward_hv_arm64_ops *ward_hv_arm64(const struct ward_hv_ops *hv)
{
        return ward_hv_arch_is(hv, "arm64") ? (const struct ward_hv_arm64_ops *)hv->arch_ops : NULL;
}

#endif
