/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_platform.h"

/* RAM may not run past the top of a 40-bit IPA space (KVM's default). */
#define IPA_LIMIT (1ull << 40)

int ward_arm64_platform_init(struct ward_arm64_platform *p, uint64_t ram_size, unsigned ncpus)
{
        if (ncpus == 0 || ncpus > WARD_ARM64_MAX_CPUS || ram_size == 0 ||
            ram_size > IPA_LIMIT - WARD_ARM64_RAM_BASE)
                return WARD_EINVAL;
        memset(p, 0, sizeof(*p));
        p->ram_base = WARD_ARM64_RAM_BASE;
        p->ram_size = ram_size;
        p->ncpus = ncpus;
        p->gic = (struct ward_hv_gic){
            .dist_base = WARD_ARM64_GIC_DIST_BASE,
            .dist_size = WARD_ARM64_GIC_DIST_SIZE,
            .redist_base = WARD_ARM64_GIC_REDIST_BASE,
            .redist_size = WARD_ARM64_GIC_REDIST_PER_CPU * ncpus,
            .cpu_base = WARD_ARM64_GIC_CPU_BASE,
            .cpu_size = WARD_ARM64_GIC_CPU_SIZE,
            .nr_irqs = WARD_ARM64_GIC_NR_IRQS,
        };
        p->uart_base = WARD_ARM64_UART_BASE;
        p->uart_spi = WARD_ARM64_UART_SPI;
        return WARD_OK;
}

/* [gpa, gpa+size) is page aligned, in the IPA space and clear of the device windows. */
static bool ram_range_ok(uint64_t gpa, uint64_t size)
{
        if (size == 0 || (gpa | size) & 0xfff || gpa >= IPA_LIMIT || size > IPA_LIMIT - gpa)
                return false;
        return gpa >= WARD_ARM64_RAM_BASE || gpa + size <= WARD_ARM64_GIC_DIST_BASE;
}

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
        return a < b + bsize && b < a + asize;
}

int ward_arm64_platform_set_ram_base(struct ward_arm64_platform *p, uint64_t ram_base)
{
        if (ram_base & 0x1fffff || !ram_range_ok(ram_base, p->ram_size))
                return WARD_EINVAL;
        for (unsigned i = 0; i < p->nram_extra; i++)
                if (overlaps(ram_base, p->ram_size, p->ram_extra[i].base, p->ram_extra[i].size))
                        return WARD_EINVAL;
        p->ram_base = ram_base;
        return WARD_OK;
}

int ward_arm64_platform_add_ram(struct ward_arm64_platform *p, uint64_t gpa, uint64_t size)
{
        if (p->nram_extra == WARD_ARM64_MAX_RAM - 1)
                return WARD_ENOSPC;
        if (!ram_range_ok(gpa, size) || overlaps(gpa, size, p->ram_base, p->ram_size))
                return WARD_EINVAL;
        for (unsigned i = 0; i < p->nram_extra; i++)
                if (overlaps(gpa, size, p->ram_extra[i].base, p->ram_extra[i].size))
                        return WARD_EINVAL;
        p->ram_extra[p->nram_extra++] = (struct ward_fdt_mem){gpa, size};
        return WARD_OK;
}

int ward_arm64_platform_add_virtio(struct ward_arm64_platform *p)
{
        if (p->nvirtio == WARD_ARM64_MAX_VIRTIO)
                return WARD_ENOSPC;
        unsigned i = p->nvirtio++;
        p->virtio[i].base = WARD_ARM64_VIRTIO_BASE + i * WARD_ARM64_VIRTIO_STRIDE;
        p->virtio[i].spi = WARD_ARM64_VIRTIO_SPI_BASE + i;
        return (int)i;
}

void ward_arm64_platform_dt(const struct ward_arm64_platform *p, const uint64_t *mpidr,
                            const char *bootargs, uint64_t initrd_start, uint64_t initrd_end,
                            uint64_t kaslr_seed, const uint8_t *rng_seed, struct ward_arm64_dt *dt)
{
        *dt = (struct ward_arm64_dt){
            .ram_base = p->ram_base,
            .ram_size = p->ram_size,
            .ram_extra = p->ram_extra,
            .nram_extra = p->nram_extra,
            .ncpus = p->ncpus,
            .mpidr = mpidr,
            .gic = p->gic,
            .uart_base = p->uart_base,
            .uart_spi = p->uart_spi,
            .virtio = p->virtio,
            .nvirtio = p->nvirtio,
            .bootargs = bootargs,
            .initrd_start = initrd_start,
            .initrd_end = initrd_end,
            .kaslr_seed = kaslr_seed,
            .rng_seed = rng_seed,
        };
}
