/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest's device tree, generated with libfdt. Runs on the host (Linux
 * VMM at start-up, or the seL4 build host), so it may use libfdt and libc.
 */
#ifndef WARD_ARM64_FDT_H
#define WARD_ARM64_FDT_H

#include "ward/hv/hv_arm64.h"

struct ward_fdt_virtio {
        uint64_t base;
        unsigned spi;
};

struct ward_fdt_mem {
        uint64_t base, size;
};

struct ward_arm64_dt {
        uint64_t ram_base, ram_size;
        const struct ward_fdt_mem *ram_extra; /* more memory nodes */
        unsigned nram_extra;
        unsigned ncpus;
        const uint64_t *mpidr; /* ncpus entries */
        struct ward_hv_gic gic;
        uint64_t uart_base;
        unsigned uart_spi;
        const struct ward_fdt_virtio *virtio;
        unsigned nvirtio;
        const char *bootargs;
        uint64_t initrd_start, initrd_end; /* end exclusive; 0,0 for none */
        uint64_t kaslr_seed;
        const uint8_t *rng_seed; /* 32 bytes for the guest's early RNG, or NULL */
        const char *psci_method; /* "hvc" (NULL) or "smc": how the guest calls PSCI */
};

/* Writes the blob into buf. Returns 0, or a libfdt error (negative). */
int ward_arm64_fdt_build(void *buf, size_t size, const struct ward_arm64_dt *d);

#endif
