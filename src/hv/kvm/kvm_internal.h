/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The KVM backend's parts: kvm.c is what every architecture shares (the
 * VM, memory slots, vCPUs and their run loop, irqfd, ioeventfd, coalesced
 * MMIO); kvm_<arch>.c is one architecture's (arm64: PSCI and the vCPU
 * target, the in-kernel GIC, registers, interrupt-line numbers). Private
 * to src/hv/kvm.
 */
#ifndef WARD_KVM_INTERNAL_H
#define WARD_KVM_INTERNAL_H

#include "ward/hv/hv.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>

struct ward_kvm_arch; /* the arch file's per-VM state */

struct ward_hv_vm {
        int kvm_fd;
        int vm_fd;
        unsigned ncpus;
        size_t run_size;
        /* The coalesced-MMIO ring: a page of the first vCPU's kvm_run mapping. */
        struct kvm_coalesced_mmio_ring *ring;
        unsigned ring_max;
        struct ward_kvm_arch *arch;
};

struct ward_hv_vcpu {
        struct ward_hv_vm *vm;
        unsigned index;
        int fd;
        struct kvm_run *run;
        bool mmio_read_pending;
        bool io_read_pending; /* a port-I/O read: its data goes back at io.data_offset */
        pthread_t thread;
        bool thread_known;
};

/* ---- what kvm.c asks of kvm_<arch>.c ---- */

extern const char ward_kvm_arch_name[];
/*
 * The arch extension of the seam (struct ward_hv_<arch>_ops). Declared
 * with a tag of its own so that kvm.c can take its address in a constant
 * initializer without knowing the arch's type; kvm_<arch>.c defines it.
 */
struct ward_kvm_arch_ext;
extern const struct ward_kvm_arch_ext ward_kvm_arch_ext;
/* After KVM_CREATE_VM: the arch's capabilities and per-VM state (vm->arch). */
int ward_kvm_arch_vm_init(struct ward_hv_vm *vm, char *err, size_t errlen);
void ward_kvm_arch_vm_destroy(struct ward_hv_vm *vm);
/* After KVM_CREATE_VCPU: the vCPU's arch set-up (index 0 runs, the rest wait). */
int ward_kvm_arch_vcpu_init(struct ward_hv_vcpu *v, char *err, size_t errlen);
/* The vCPU's program counter, for error reports. */
uint64_t ward_kvm_arch_pc(struct ward_hv_vcpu *v);
/* KVM_IRQ_LINE for device interrupt line `line`. */
int ward_kvm_arch_irq_line(struct ward_hv_vm *vm, unsigned line, bool level);

#endif
