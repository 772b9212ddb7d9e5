/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hypervisor seam (layer 1), its neutral part. Everything above this
 * header talks to the hypervisor only through struct ward_hv_ops; nothing
 * above it names KVM or seL4.
 *
 * The neutral part knows VMs, memory slots, vCPUs, runs and exits (MMIO
 * and port I/O), and interrupts by line and by message. What only one
 * architecture has (arm64: registers and the GIC; x86_64 later: registers,
 * CPUID, MSRs, the local APIC) is an extension that `arch_ops` points to,
 * declared in hv_<arch>.h: adding an architecture adds a header and a
 * backend file, and leaves this one alone.
 *
 * Backends: hv/kvm (Linux ioctls, a run loop per vCPU thread) and
 * hv/microkit (seL4; fault-driven, so vcpu_run is NULL: the backend decodes
 * a fault itself, sends MMIO to the VM's bus, the same bus ward_vm_exit()
 * dispatches to, and turns power-off, reset and fatal faults into a struct
 * ward_hv_exit for ward_vm_exit()).
 */
#ifndef WARD_HV_H
#define WARD_HV_H

#include "ward/util/util.h"

struct ward_hv_vm;
struct ward_hv_vcpu;

enum ward_hv_exit_kind {
        WARD_HV_EXIT_MMIO,     /* addr, len, is_write, data: complete then run again */
        WARD_HV_EXIT_IO,       /* port I/O: addr is the port; same fields as MMIO */
        WARD_HV_EXIT_SHUTDOWN, /* guest asked to power off */
        WARD_HV_EXIT_RESET,    /* guest asked to reboot */
        WARD_HV_EXIT_KICKED,   /* ward_hv_ops.vcpu_kick or a signal interrupted the run */
        WARD_HV_EXIT_ERROR,    /* reason says what; the vCPU cannot go on */
};

struct ward_hv_exit {
        enum ward_hv_exit_kind kind;
        uint64_t addr;
        unsigned len;
        bool is_write;
        uint8_t data[8]; /* write: what the guest wrote; read: fill before next run */
        uint64_t pc;     /* for errors */
        char reason[128];
};

/* map_memory flags. */
#define WARD_HV_MEM_READONLY 1u /* guest writes exit as MMIO writes (the bus finds nothing) */

struct ward_hv_ops {
        const char *name;
        const char *arch;     /* "arm64" (x86_64 later): which extension arch_ops is */
        const void *arch_ops; /* struct ward_hv_<arch>_ops, see hv_<arch>.h */

        /* Opens the hypervisor; err gets one line when it fails. */
        int (*vm_create)(struct ward_hv_vm **vm, unsigned ncpus, char *err, size_t errlen);
        void (*vm_destroy)(struct ward_hv_vm *vm);
        /*
         * Makes [gpa, gpa+size) guest memory backed by hva, in memory slot
         * `slot`. On failure err gets the reason alone (the caller names
         * the region), e.g. "not supported" for flags the backend cannot do.
         * A backend whose memory is mapped statically (seL4) checks and
         * does nothing.
         */
        int (*map_memory)(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                          void *hva, unsigned flags, char *err, size_t errlen);
        /* index 0 starts running; others start powered off until the guest starts them. */
        int (*vcpu_create)(struct ward_hv_vm *vm, unsigned index, struct ward_hv_vcpu **vcpu,
                           char *err, size_t errlen);
        /*
         * Runs until an exit the caller must handle. An MMIO or I/O read is
         * completed by filling exit->data and passing the same exit back.
         * NULL for a fault-driven backend.
         */
        int (*vcpu_run)(struct ward_hv_vcpu *vcpu, struct ward_hv_exit *exit);
        /* Makes a running vcpu_run return WARD_HV_EXIT_KICKED soon; any thread. */
        void (*vcpu_kick)(struct ward_hv_vcpu *vcpu);
        void (*vcpu_destroy)(struct ward_hv_vcpu *vcpu);
        /* Sets the level of a device interrupt line (arm64: SPI number, 0-based). */
        int (*irq_line)(struct ward_hv_vm *vm, unsigned line, bool level);
        /* Optional: a message-signalled interrupt (x86 MSI, GICv3 ITS). */
        int (*irq_msi)(struct ward_hv_vm *vm, uint64_t addr, uint32_t data);
        /*
         * Optional (NULL when unsupported). Host notification objects (an
         * eventfd on Linux): writes to `fd` raise the line (edge), and guest
         * writes of `datamatch` to the 4 bytes at `addr` signal `notify_fd`
         * without stopping the vCPU.
         */
        int (*irq_bind_notifier)(struct ward_hv_vm *vm, unsigned line, int fd);
        int (*mmio_bind_notifier)(struct ward_hv_vm *vm, uint64_t addr, uint32_t datamatch,
                                  int notify_fd);
        /*
         * Optional (NULL when unsupported). Guest writes to [addr, addr+size)
         * are queued by the hypervisor instead of stopping the vCPU; reads
         * still exit. The VMM must call mmio_drain before handling any exit
         * (so writes and later accesses stay in order) and now and then.
         */
        int (*mmio_coalesce)(struct ward_hv_vm *vm, uint64_t addr, uint64_t size);
        void (*mmio_drain)(struct ward_hv_vm *vm,
                           void (*write)(void *opaque, uint64_t addr, const void *data,
                                         unsigned len),
                           void *opaque);
};

/* True when hv is for architecture `arch` ("arm64", "x86_64"); hv may be NULL. */
static inline bool ward_hv_arch_is(const struct ward_hv_ops *hv, const char *arch)
{
        const char *a = hv ? hv->arch : NULL;
        return a && strlen(a) == strlen(arch) && memcmp(a, arch, strlen(arch)) == 0;
}

/* The backend for this build, or NULL when none fits this host architecture. */
const struct ward_hv_ops *ward_hv_default(void);

#endif
