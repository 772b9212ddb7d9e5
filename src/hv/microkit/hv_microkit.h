/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 Microkit backend of the hypervisor seam, for the VMM protection
 * domain (vmm_pd.c). A Microkit PD holds one VM whose vCPUs are its
 * virtual-machine children; seL4 reports their traps as faults. The
 * backend turns a fault into what KVM would have done in the kernel
 * (decode the access, PSCI, the GICv2 distributor, list registers) and,
 * when the vCPU or the VM must stop, into a struct ward_hv_exit that the
 * PD hands to ward_vm_exit(), the same dispatch every backend uses.
 */
#ifndef WARD_HV_MICROKIT_H
#define WARD_HV_MICROKIT_H

#include <microkit.h>

#include "ward/machine/bus.h"
#include "ward/hv/hv_arm64.h"

#define WARD_MICROKIT_MAX_VCPUS 8 /* GICv2's CPU interface limit */

extern const struct ward_hv_ops ward_hv_microkit;

enum ward_microkit_fault_result {
        WARD_MICROKIT_RESUME,    /* reply to the fault: the vCPU goes on */
        WARD_MICROKIT_VCPU_DOWN, /* the vCPU stopped (PSCI CPU_OFF): no reply */
        WARD_MICROKIT_EXIT,      /* *ex says why the VM must stop: no reply */
        WARD_MICROKIT_PARKED,    /* a WFI parked the vCPU until an interrupt is due: no reply */
};

#define WARD_MICROKIT_NO_ADDR (~0ull)

/*
 * Handles the fault of vCPU `child`: MMIO goes to bus (the VM's), the rest
 * to PSCI and the vGIC. ex->addr is the guest-physical address of a VM
 * fault (MMIO), else WARD_MICROKIT_NO_ADDR; ex->kind matters only with
 * WARD_MICROKIT_EXIT.
 */
enum ward_microkit_fault_result ward_microkit_fault(const struct ward_bus *bus,
                                                    microkit_child child, microkit_msginfo msginfo,
                                                    struct ward_hv_exit *ex);
/* Starts a vCPU whose registers were set (the boot vCPU, after ward_vm_boot). */
void ward_microkit_start(unsigned vcpu);
/* Stops every vCPU and prints the exit counters. */
void ward_microkit_stop_all(const char *why);
/* The physical counter, and ms in its ticks. */
uint64_t ward_microkit_now(void);
uint64_t ward_microkit_ticks(uint64_t ms);
/*
 * Asks the timer PD to notify this PD when the physical counter reaches
 * deadline (the VM's stopped vCPUs have no deadline of their own then);
 * true when it has passed already, or there is no timer PD to ask.
 */
bool ward_microkit_wake_at(uint64_t deadline);
/* Suspends the VM's running vCPUs where they are, and resumes them (the admin PD's pause). */
void ward_microkit_pause(void);
void ward_microkit_resume(void);
/*
 * The timer PD's channel (src/host/sel4/timer_pd.c): with it, a vCPU whose
 * guest waits in WFI with its timer armed is parked; without it, only one
 * whose timer is off.
 */
void ward_microkit_use_timer(microkit_channel ch);
/* The timer PD's notification: a parked vCPU's deadline came; wakes them. */
void ward_microkit_timer_fired(void);
/* Counts a notification on channel ch (for the exit counters). */
void ward_microkit_count_notified(microkit_channel ch);

#endif
