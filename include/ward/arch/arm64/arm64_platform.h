/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ward's arm64 board: where RAM, the GIC, the UART and each virtio-mmio
 * window sit, and which interrupt each device uses. One description serves
 * every backend: the KVM VMM builds it at start-up, and `ward dtb` builds
 * the same one on the build host for an seL4 system image, so both paths
 * describe guests alike. Pure computation (freestanding).
 */
#ifndef WARD_ARM64_PLATFORM_H
#define WARD_ARM64_PLATFORM_H

#include "ward/arch/arm64/arm64_fdt.h"
#include "ward/arch/arm64/arm64_map.h"

#define WARD_ARM64_MAX_RAM 8 /* RAM regions: the boot RAM and 7 more */

struct ward_arm64_platform {
        uint64_t ram_base, ram_size; /* the boot RAM: kernel, initrd, DTB */
        struct ward_fdt_mem ram_extra[WARD_ARM64_MAX_RAM - 1];
        unsigned nram_extra;
        unsigned ncpus;
        struct ward_hv_gic gic; /* gic_version 0 until the backend picks one */
        uint64_t uart_base;
        unsigned uart_spi;
        unsigned nvirtio;
        struct ward_fdt_virtio virtio[WARD_ARM64_MAX_VIRTIO];
};

/*
 * The boot RAM at WARD_ARM64_RAM_BASE. Fails with WARD_EINVAL for 0 or too
 * many CPUs, or RAM that does not fit the map.
 */
int ward_arm64_platform_init(struct ward_arm64_platform *p, uint64_t ram_size, unsigned ncpus);
/* Moves the boot RAM to ram_base (2M aligned, clear of the devices, in the IPA space). */
int ward_arm64_platform_set_ram_base(struct ward_arm64_platform *p, uint64_t ram_base);
/*
 * Adds a RAM region (4K aligned, clear of the devices and of the other RAM,
 * in the IPA space): WARD_EINVAL, or WARD_ENOSPC past WARD_ARM64_MAX_RAM.
 */
int ward_arm64_platform_add_ram(struct ward_arm64_platform *p, uint64_t gpa, uint64_t size);
/* Places the next virtio-mmio window; returns its index, or WARD_ENOSPC. */
int ward_arm64_platform_add_virtio(struct ward_arm64_platform *p);

/*
 * Fills a device-tree description. mpidr has ncpus entries; seeds may be
 * zero. The pointers in *dt point into p and the arguments.
 */
void ward_arm64_platform_dt(const struct ward_arm64_platform *p, const uint64_t *mpidr,
                            const char *bootargs, uint64_t initrd_start, uint64_t initrd_end,
                            uint64_t kaslr_seed, const uint8_t *rng_seed, struct ward_arm64_dt *dt);

#endif
