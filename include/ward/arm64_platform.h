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

#include "ward/arm64_fdt.h"
#include "ward/arm64_map.h"

struct ward_arm64_platform {
        uint64_t ram_base, ram_size;
        unsigned ncpus;
        struct ward_hv_irqchip gic; /* gic_version 0 until the backend picks one */
        uint64_t uart_base;
        unsigned uart_spi;
        unsigned nvirtio;
        struct ward_fdt_virtio virtio[WARD_ARM64_MAX_VIRTIO];
};

/* Fails with WARD_EINVAL for 0 or too many CPUs, or RAM that does not fit the map. */
int ward_arm64_platform_init(struct ward_arm64_platform *p, uint64_t ram_size, unsigned ncpus);
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
