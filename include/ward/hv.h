/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hypervisor seam (layer 1). Everything above this header talks to the
 * hypervisor only through struct ward_hv_ops; nothing above it names KVM
 * or seL4. Backends: hv/kvm (Linux ioctls), hv/microkit (seL4, later).
 */
#ifndef WARD_HV_H
#define WARD_HV_H

#include "ward/util.h"

struct ward_hv_vm;
struct ward_hv_vcpu;

/* Where the platform's interrupt controller lives (arm64 GIC). */
struct ward_hv_irqchip {
        int gic_version; /* 3 or 2, chosen by the backend (v3 first, then v2) */
        uint64_t dist_base, dist_size;
        uint64_t redist_base, redist_size; /* GICv3: all vCPUs' redistributors */
        uint64_t cpu_base, cpu_size;       /* GICv2 CPU interface */
        unsigned nr_irqs;                  /* total interrupt IDs, including 32 private */
};

enum ward_hv_exit_kind {
        WARD_HV_EXIT_MMIO,     /* addr, len, is_write, data: complete then run again */
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

/* Registers that boot code sets. */
enum ward_hv_reg {
        WARD_REG_PC,
        WARD_REG_X0,
        WARD_REG_X1,
        WARD_REG_X2,
        WARD_REG_X3,
        WARD_REG_PSTATE,
        WARD_REG_MPIDR, /* read only: the affinity the guest sees */
};

struct ward_hv_ops {
        const char *name;
        /* Opens the hypervisor; err gets one line when it fails. */
        int (*vm_create)(struct ward_hv_vm **vm, unsigned ncpus, char *err, size_t errlen);
        void (*vm_destroy)(struct ward_hv_vm *vm);
        int (*map_ram)(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                       void *hva);
        /*
         * Optional (NULL when unsupported): like map_ram, for memory shared
         * with other VMs. With read_only, guest writes to the range do not
         * change it and exit as MMIO writes instead (the bus finds nothing
         * there). Fails with errno ENOTSUP when read-only slots are unknown.
         */
        int (*map_region)(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                          void *hva, bool read_only);
        /* Creates the interrupt controller; fills in the version used. */
        int (*irqchip_create)(struct ward_hv_vm *vm, struct ward_hv_irqchip *chip, char *err,
                              size_t errlen);
        /* Call after all vCPUs exist, before the first run. */
        int (*irqchip_finalize)(struct ward_hv_vm *vm, char *err, size_t errlen);
        /* index 0 starts running; others start powered off until the guest starts them. */
        int (*vcpu_create)(struct ward_hv_vm *vm, unsigned index, struct ward_hv_vcpu **vcpu,
                           char *err, size_t errlen);
        int (*vcpu_set_reg)(struct ward_hv_vcpu *vcpu, enum ward_hv_reg reg, uint64_t val);
        int (*vcpu_get_reg)(struct ward_hv_vcpu *vcpu, enum ward_hv_reg reg, uint64_t *val);
        /*
         * Runs until an exit the caller must handle. An MMIO read is
         * completed by filling exit->data and passing the same exit back.
         */
        int (*vcpu_run)(struct ward_hv_vcpu *vcpu, struct ward_hv_exit *exit);
        /* Makes a running vcpu_run return WARD_HV_EXIT_KICKED soon; any thread. */
        void (*vcpu_kick)(struct ward_hv_vcpu *vcpu);
        void (*vcpu_destroy)(struct ward_hv_vcpu *vcpu);
        /* Sets a shared peripheral interrupt (SPI number, 0-based) level. */
        int (*irq_line)(struct ward_hv_vm *vm, unsigned spi, bool level);
        /*
         * Host notification objects (an eventfd on Linux): writes to `fd`
         * raise the SPI (edge), and guest writes of `datamatch` to the 4
         * bytes at `addr` signal `notify_fd` without stopping the vCPU.
         */
        int (*irq_bind_notifier)(struct ward_hv_vm *vm, unsigned spi, int fd);
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

/* The backend for this build, or NULL when none fits this host architecture. */
const struct ward_hv_ops *ward_hv_default(void);

#endif
