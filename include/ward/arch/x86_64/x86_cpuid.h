/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The CPUID a vCPU reports: what KVM can offer (KVM_GET_SUPPORTED_CPUID),
 * filtered to what ward supports and says. Each vCPU gets its own APIC id
 * (leaves 0x1, 0xb and 0x1f), the hypervisor bit and KVM's signature and
 * features (kvm-clock), one thread per core and one core per vCPU; what
 * ward does not give a guest is hidden: MONITOR/MWAIT (a halted vCPU is
 * what ward waits on), the performance monitoring leaf, thermal and power
 * management, and the SGX, PT and TSX leaves. Freestanding.
 */
#ifndef WARD_ARCH_X86_64_X86_CPUID_H
#define WARD_ARCH_X86_64_X86_CPUID_H

#include <stddef.h>
#include <stdint.h>

/* One leaf/subleaf, as struct kvm_cpuid_entry2 holds it. */
struct ward_cpuid_entry {
        uint32_t function, index, flags;
        uint32_t eax, ebx, ecx, edx;
};

#define WARD_CPUID_SIGNIFICANT_INDEX 1u /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX */

/* Bits ward hides in leaf 1 and leaf 7.0 (documented in the source). */
#define WARD_CPUID_1_ECX_MONITOR (1u << 3)
#define WARD_CPUID_1_ECX_HYPERVISOR (1u << 31)
#define WARD_CPUID_KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

/*
 * Filters e[0, *n) in place for vCPU `vcpu` of ncpus (room: the array's
 * capacity, for the KVM leaves if KVM's list lacks them). 0, or -1 with
 * err (a vCPU index out of range, no room).
 */
int ward_x86_cpuid_filter(struct ward_cpuid_entry *e, unsigned *n, unsigned room, unsigned vcpu,
                          unsigned ncpus, char *err, size_t errlen);

#endif
