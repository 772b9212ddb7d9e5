/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A virtual GICv2 distributor (ARM IHI 0048B, chapter 4.3), for hypervisors
 * that leave the distributor to the VMM (seL4; KVM emulates it in the
 * kernel). The CPU interface is the hardware's virtual CPU interface: the
 * distributor decides which interrupt goes to which vCPU and hands it over
 * through the `inject` op (a list register on seL4); when the guest
 * finishes an injected interrupt, the hypervisor reports the EOI with
 * ward_vgic_eoi() (seL4's VGIC maintenance fault). Every injected
 * interrupt, edge or level, stays active in the distributor until then.
 *
 * Every register offset, width and value comes from the guest and is
 * hostile: reserved and read-only registers ignore writes, private
 * (SGI/PPI) state is banked per vCPU, CPU targets outside the VM are
 * dropped, and unknown offsets read as zero.
 *
 * Freestanding: storage is the struct itself; no allocation.
 */
#ifndef WARD_ARM64_VGIC_H
#define WARD_ARM64_VGIC_H

#include "ward/machine/bus.h"

#define WARD_VGIC_MAX_CPUS 8  /* GICv2's CPU target bitmaps are 8 bits wide */
#define WARD_VGIC_NR_IRQS 128 /* interrupt IDs 0..127: 16 SGI, 16 PPI, 96 SPI */
#define WARD_VGIC_DIST_SIZE 0x1000
#define WARD_VGIC_PENDING_MAX 32 /* per vCPU, waiting for a free list register */

struct ward_vgic_ops {
        /*
         * Offers irq to vcpu's virtual CPU interface. Returns true when it was
         * taken (a list register was free), false to retry later (the vGIC
         * keeps it queued and offers it again, in order, from ward_vgic_eoi()
         * and later state changes). Must not call back into the vGIC. For an SGI, irq is the SGI ID
         * only: the source CPU field of the list register is the hypervisor's choice.
         * priority is the interrupt's (top 5 bits), for the list register.
         */
        bool (*inject)(void *opaque, unsigned vcpu, unsigned irq, uint8_t priority);
};

struct ward_vgic_irq_state {
        bool enabled, pending, active, level_high;
        bool edge;        /* ICFGR: true for edge-triggered */
        uint8_t priority; /* top 5 bits kept (mask 0xf8) */
        uint8_t targets;  /* SPIs only: CPU target bitmap */
        bool group1;
};

struct ward_vgic_cpu {
        struct ward_vgic_irq_state priv[32];   /* SGIs and PPIs of this vCPU */
        uint8_t sgi_sources[16];               /* pending SGI source CPUs (bitmap) */
        uint16_t queue[WARD_VGIC_PENDING_MAX]; /* offered but not yet taken */
        unsigned nqueue;
};

struct ward_vgic {
        unsigned ncpus;
        bool enabled; /* GICD_CTLR.EnableGrp0 */
        struct ward_vgic_irq_state spi[WARD_VGIC_NR_IRQS - 32];
        struct ward_vgic_cpu cpu[WARD_VGIC_MAX_CPUS];
        struct ward_vgic_ops ops;
        void *opaque;
        /* The vCPU whose access is being handled (set by the caller per access). */
        unsigned current_cpu;
};

/* ncpus is 1..WARD_VGIC_MAX_CPUS; returns WARD_EINVAL otherwise. */
int ward_vgic_init(struct ward_vgic *g, unsigned ncpus, const struct ward_vgic_ops *ops,
                   void *opaque);

/*
 * MMIO ops for the distributor window. The bus passes the vgic as `dev`;
 * set g->current_cpu to the accessing vCPU before each access (banked
 * registers depend on it).
 */
extern const struct ward_mmio_ops ward_vgic_dist_ops;

/*
 * A device's line for SPI `irq` (32..NR_IRQS-1) changed. Level lines stay
 * pending while high; an edge is a rising transition. Out-of-range irq is
 * ignored.
 */
void ward_vgic_set_spi(struct ward_vgic *g, unsigned irq, bool level);
/* A PPI (16..31) of one vCPU, e.g. the virtual timer (27) on seL4. */
void ward_vgic_set_ppi(struct ward_vgic *g, unsigned vcpu, unsigned irq, bool level);
/*
 * The guest on `vcpu` completed (EOI'd) irq: it is no longer active; a
 * level interrupt whose line is still high is pending again. Then offers
 * whatever is queued for that vCPU.
 */
void ward_vgic_eoi(struct ward_vgic *g, unsigned vcpu, unsigned irq);

#endif
