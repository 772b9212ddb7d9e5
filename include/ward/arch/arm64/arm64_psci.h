/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PSCI 1.0 firmware calls (ARM DEN 0022) made by the guest with HVC or SMC,
 * for hypervisors that leave PSCI to the VMM (seL4; KVM does it in the
 * kernel). ward_psci_call() decodes and validates a call and updates the
 * power state it tracks; what the VMM must then do (start a vCPU, stop one,
 * end the VM) comes back as an action, and x0 as the value for the guest.
 */
#ifndef WARD_ARM64_PSCI_H
#define WARD_ARM64_PSCI_H

#include "ward/util/util.h"

#define WARD_PSCI_MAX_CPUS 64

#define WARD_PSCI_VERSION 0x84000000u
#define WARD_PSCI_CPU_SUSPEND_64 0xc4000001u
#define WARD_PSCI_CPU_OFF 0x84000002u
#define WARD_PSCI_CPU_ON_32 0x84000003u
#define WARD_PSCI_CPU_ON_64 0xc4000003u
#define WARD_PSCI_AFFINITY_INFO_32 0x84000004u
#define WARD_PSCI_AFFINITY_INFO_64 0xc4000004u
#define WARD_PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define WARD_PSCI_SYSTEM_OFF 0x84000008u
#define WARD_PSCI_SYSTEM_RESET 0x84000009u
#define WARD_PSCI_FEATURES 0x8400000au
#define WARD_SMCCC_VERSION 0x80000000u

#define WARD_PSCI_SUCCESS 0
#define WARD_PSCI_NOT_SUPPORTED (-1)
#define WARD_PSCI_INVALID_PARAMETERS (-2)
#define WARD_PSCI_DENIED (-3)
#define WARD_PSCI_ALREADY_ON (-4)
#define WARD_PSCI_ON_PENDING (-5)
#define WARD_PSCI_INVALID_ADDRESS (-9)

enum ward_psci_action_kind {
        WARD_PSCI_ACT_NONE,         /* return x0 to the caller and go on */
        WARD_PSCI_ACT_CPU_ON,       /* start vcpu `target` at entry with x0 = context */
        WARD_PSCI_ACT_CPU_OFF,      /* stop the calling vCPU (no return) */
        WARD_PSCI_ACT_SYSTEM_OFF,   /* the VM powers off */
        WARD_PSCI_ACT_SYSTEM_RESET, /* the VM reboots */
        WARD_PSCI_ACT_WAIT,         /* CPU_SUSPEND: like WFI, then return x0 */
};

struct ward_psci_action {
        enum ward_psci_action_kind kind;
        unsigned target;
        uint64_t entry;
        uint64_t context;
};

struct ward_psci {
        unsigned ncpus;
        uint64_t mpidr[WARD_PSCI_MAX_CPUS]; /* affinity (Aff3..Aff0) of each vCPU */
        bool on[WARD_PSCI_MAX_CPUS];
        /* Guest RAM bounds: CPU_ON entry points must lie inside. */
        uint64_t ram_base, ram_size;
};

/* vCPU 0 starts on, the rest off. mpidr holds ncpus affinity values. */
int ward_psci_init(struct ward_psci *p, unsigned ncpus, const uint64_t *mpidr, uint64_t ram_base,
                   uint64_t ram_size);

/*
 * Handles the call in x[0..3] from vCPU `caller`. Returns the value for the
 * caller's x0 (unused for CPU_OFF, SYSTEM_OFF and SYSTEM_RESET); *act says
 * what the VMM must do.
 */
int64_t ward_psci_call(struct ward_psci *p, unsigned caller, const uint64_t x[4],
                       struct ward_psci_action *act);

/* The VMM tells PSCI that a vCPU stopped for a reason of its own. */
void ward_psci_cpu_stopped(struct ward_psci *p, unsigned cpu);

#endif
