/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the seL4 generator (sel4_gen.c): the layout the PDs are built with,
 * and what its files share. Not an API: include/ward/desc/sel4_gen.h is.
 */
#ifndef WARD_DESC_SEL4_GEN_LAYOUT_H
#define WARD_DESC_SEL4_GEN_LAYOUT_H

#include "ward/desc/sel4_gen.h"

#include <limits.h>
#include <stdio.h>

#define PATH_LEN 512
#define MiB (1ull << 20)
#define PAGE_2M (2 * MiB)

/* What a board fixes: devices the serial PD and the VMs map. */
struct board {
        const char *name;
        uint64_t uart_phys;
        unsigned uart_irq;
        uint64_t gic_vcpu_phys; /* the GIC's virtual CPU interface (GICV) */
        /* seL4 hands this range out as device memory, kept for VMs: it is
         * not cleared at boot, unlike RAM untypeds (see ward.system). */
        uint64_t vm_mem_base, vm_mem_end;
        /* The board's virtio-mmio transports, and the interrupt of the one a block
         * device takes (QEMU virt: the last of 32, SPI 47). */
        uint64_t virtio_mmio_phys;
        unsigned blk_irq;
};

/* Sizes and addresses the PDs are built with (platforms/sel4/Makefile). */
#define UART_SIZE 0x1000ull
#define GIC_VCPU_SIZE 0x2000ull
#define SERIAL_PORT_SIZE 0x4000ull
#define BLK_PORT_SIZE 0x400000ull
#define RAMDISK_SIZE 0x1000000ull
/* Where each PD sees its regions (setvar tells the PD). */
#define VMM_RAM_VADDR 0x20000000ull
#define VMM_PORTS_VADDR 0x30000000ull /* console port; the block port 4M above */
#define SERIAL_UART_VADDR 0x5000000ull
#define SERIAL_PORTS_VADDR 0x6000000ull /* one port per 1M */
#define BLK_PORT_VADDR 0x6000000ull
#define BLK_RAMDISK_VADDR 0x7000000ull
/* A doorbell's port between two VMMs; in each VMM, its doorbell with channel
 * id FIRST + i is at the ports' address + DOORBELL_PORTS_OFFSET + i * size. */
/* The block driver PD (disk ranges on the board's device). Its DMA region
 * takes the last MiB of the board's VM range. */
#define VIRTIO_MMIO_SIZE 0x4000ull
#define BLK_DMA_SIZE 0x100000ull
#define BLKDRV_MMIO_VADDR 0x5000000ull
#define BLKDRV_DMA_VADDR 0x5100000ull
#define BLKDRV_PORTS_VADDR 0x6000000ull /* client k's port at + k * BLK_PORT_SIZE */
#define PRIO_BLKDRV 253
#define DOORBELL_PORT_SIZE 0x1000ull
#define DOORBELL_PORTS_OFFSET 0x800000ull
/* A NIC's net port (two 256 KiB rings and their heads) between its VMM and
 * its network's switch PD: in the VMM, NIC k at the ports' address +
 * NET_PORTS_OFFSET + k * NET_PORT_SIZE; in the switch PD, port j at
 * SWITCH_PORTS_VADDR + j * NET_PORT_SIZE. */
#define NET_PORT_SIZE 0x100000ull
#define NET_PORTS_OFFSET 0xc00000ull
#define SWITCH_PORTS_VADDR 0x6000000ull
#define CH_NET_FIRST 4 /* in the VMM: NIC k's channel; the switch's end is the port's index */
/* The admin PD (src/host/sel4/admin_pd.c): its console is the serial PD's
 * last client; it calls VMM k (in the PDs' order) on its channel 1 + k. */
#define CH_VMM_ADMIN 8
#define CH_SERIAL_ADMIN 4
#define CH_ADMIN_SERIAL 0
#define ADMIN_PORT_VADDR 0x6000000ull
/* Channel ids, as the PDs define them. */
#define CH_VMM_SERIAL 1
#define CH_SERIAL_IRQ 2
#define CH_BLK 2
#define CH_VMM_TIMER 3 /* in the VMM; the timer PD's end is 1 + the VMM's order */
#define CH_TIMER_IRQ 0
#define TIMER_PPI 30 /* the EL1 physical timer's interrupt (GIC PPI 14) */

#define PRIO_SERIAL 254
#define PRIO_BLK 253
#define PRIO_TIMER 252  /* above the VMMs: they call it */
#define PRIO_SWITCH 251 /* above the VMMs: it formats their ports first */
#define PRIO_ADMIN 150  /* below the VMMs, which it calls; above the VMs */
#define PRIO_VMM 200
#define PRIO_VM 100
#define VMM_STACK 0x10000

#define WARD_SEL4_NO_PHYS UINT64_MAX /* the Microkit tool places the RAM */

struct gen {
        const struct ward_sys_desc *d;
        const struct board *b;
        const char *dir, *root; /* the description's directory; the root of absolute paths */
        struct ward_sys_errors *errs, *warns;
        size_t *order;              /* VM indices, in the order of their PDs */
        unsigned nblkdrv;           /* VMs whose disk is a range of the board's device */
        unsigned *db_from, *db_to;  /* each doorbell's channel id in each VMM */
        char (*paths)[3][PATH_MAX]; /* per VM: kernel, initrd, disk (absolute) */
        uint64_t *ram_phys;         /* per VM: its RAM's physical address, or WARD_SEL4_NO_PHYS */
};

/* VM name's entry in the sel4 section, or NULL. */
const struct ward_sys_sel4_vm *ward_sel4_entry(const struct ward_sys_desc *d, const char *name);

/* sel4_gen_write.c: the two files, for a description that passed the checks. */
void ward_sel4_write_system(struct gen *g, FILE *x);
void ward_sel4_write_make(struct gen *g, FILE *m);

#endif
