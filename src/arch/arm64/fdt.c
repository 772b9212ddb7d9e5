/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_fdt.h"

#include <libfdt.h>
#include <stdio.h>

#define PHANDLE_GIC 1

/* GIC interrupt specifier cells (arm,gic bindings). */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH 4

#define CHECK(expr)                                                                                \
        do {                                                                                       \
                int rc_ = (expr);                                                                  \
                if (rc_ < 0)                                                                       \
                        return rc_;                                                                \
        } while (0)

static int prop_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
        fdt64_t v[2] = {cpu_to_fdt64(a), cpu_to_fdt64(b)};
        return fdt_property(fdt, name, v, sizeof(v));
}

static int prop_irq(void *fdt, uint32_t type, uint32_t num, uint32_t flags)
{
        fdt32_t v[3] = {cpu_to_fdt32(type), cpu_to_fdt32(num), cpu_to_fdt32(flags)};
        return fdt_property(fdt, "interrupts", v, sizeof(v));
}

static int add_cpus(void *fdt, const struct ward_arm64_dt *d)
{
        char name[32];
        CHECK(fdt_begin_node(fdt, "cpus"));
        CHECK(fdt_property_u32(fdt, "#address-cells", 1));
        CHECK(fdt_property_u32(fdt, "#size-cells", 0));
        for (unsigned i = 0; i < d->ncpus; i++) {
                /* reg holds MPIDR affinity (Aff2..Aff0), as the guest reads it. */
                uint32_t aff = (uint32_t)(d->mpidr[i] & 0xffffff);
                snprintf(name, sizeof(name), "cpu@%x", aff);
                CHECK(fdt_begin_node(fdt, name));
                CHECK(fdt_property_string(fdt, "device_type", "cpu"));
                CHECK(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
                CHECK(fdt_property_string(fdt, "enable-method", "psci"));
                CHECK(fdt_property_u32(fdt, "reg", aff));
                CHECK(fdt_end_node(fdt));
        }
        return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct ward_arm64_dt *d)
{
        char name[48];
        snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)d->gic.dist_base);
        CHECK(fdt_begin_node(fdt, name));
        if (d->gic.gic_version == 3) {
                fdt64_t reg[4] = {cpu_to_fdt64(d->gic.dist_base), cpu_to_fdt64(d->gic.dist_size),
                                  cpu_to_fdt64(d->gic.redist_base),
                                  cpu_to_fdt64(d->gic.redist_size)};
                CHECK(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
                CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
        } else {
                fdt64_t reg[4] = {cpu_to_fdt64(d->gic.dist_base), cpu_to_fdt64(d->gic.dist_size),
                                  cpu_to_fdt64(d->gic.cpu_base), cpu_to_fdt64(d->gic.cpu_size)};
                CHECK(fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic"));
                CHECK(fdt_property(fdt, "reg", reg, sizeof(reg)));
        }
        CHECK(fdt_property_u32(fdt, "#interrupt-cells", 3));
        CHECK(fdt_property(fdt, "interrupt-controller", NULL, 0));
        CHECK(fdt_property_u32(fdt, "phandle", PHANDLE_GIC));
        return fdt_end_node(fdt);
}

static int add_timer(void *fdt, const struct ward_arm64_dt *d)
{
        /* GICv2 PPI flags carry a CPU mask in bits 8..15; GICv3 ignores it. */
        uint32_t flags = IRQ_LEVEL_HIGH;
        if (d->gic.gic_version == 2)
                flags |= (((1u << (d->ncpus > 8 ? 8 : d->ncpus)) - 1) << 8);
        /* Secure, non-secure physical, virtual, hypervisor timer PPIs. */
        static const uint32_t ppi[4] = {13, 14, 11, 10};
        fdt32_t irqs[12];
        for (int i = 0; i < 4; i++) {
                irqs[3 * i] = cpu_to_fdt32(GIC_PPI);
                irqs[3 * i + 1] = cpu_to_fdt32(ppi[i]);
                irqs[3 * i + 2] = cpu_to_fdt32(flags);
        }
        CHECK(fdt_begin_node(fdt, "timer"));
        CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
        CHECK(fdt_property(fdt, "interrupts", irqs, sizeof(irqs)));
        CHECK(fdt_property(fdt, "always-on", NULL, 0));
        return fdt_end_node(fdt);
}

static int add_uart(void *fdt, const struct ward_arm64_dt *d, char *path, size_t pathlen)
{
        snprintf(path, pathlen, "/uart@%llx", (unsigned long long)d->uart_base);
        CHECK(fdt_begin_node(fdt, path + 1));
        CHECK(fdt_property_string(fdt, "compatible", "ns16550a"));
        CHECK(prop_u64_pair(fdt, "reg", d->uart_base, 0x1000));
        CHECK(prop_irq(fdt, GIC_SPI, d->uart_spi, IRQ_LEVEL_HIGH));
        CHECK(fdt_property_u32(fdt, "clock-frequency", 1843200));
        CHECK(fdt_property_u32(fdt, "reg-io-width", 1));
        return fdt_end_node(fdt);
}

static int add_virtio(void *fdt, const struct ward_fdt_virtio *v)
{
        char name[48];
        snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)v->base);
        CHECK(fdt_begin_node(fdt, name));
        CHECK(fdt_property_string(fdt, "compatible", "virtio,mmio"));
        CHECK(prop_u64_pair(fdt, "reg", v->base, 0x200));
        /* Edge: the interrupt is delivered as a pulse (irqfd); status says why. */
        CHECK(prop_irq(fdt, GIC_SPI, v->spi, IRQ_EDGE_RISING));
        CHECK(fdt_property(fdt, "dma-coherent", NULL, 0));
        return fdt_end_node(fdt);
}

int ward_arm64_fdt_build(void *buf, size_t size, const struct ward_arm64_dt *d)
{
        void *fdt = buf;
        char uart_path[48];
        CHECK(fdt_create(fdt, (int)size));
        CHECK(fdt_finish_reservemap(fdt));
        CHECK(fdt_begin_node(fdt, ""));
        CHECK(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
        CHECK(fdt_property_string(fdt, "model", "ward arm64 virtual machine"));
        CHECK(fdt_property_u32(fdt, "#address-cells", 2));
        CHECK(fdt_property_u32(fdt, "#size-cells", 2));
        CHECK(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_GIC));

        snprintf(uart_path, sizeof(uart_path), "/uart@%llx", (unsigned long long)d->uart_base);
        CHECK(fdt_begin_node(fdt, "chosen"));
        CHECK(fdt_property_string(fdt, "bootargs", d->bootargs ? d->bootargs : ""));
        CHECK(fdt_property_string(fdt, "stdout-path", uart_path));
        if (d->initrd_end > d->initrd_start) {
                CHECK(fdt_property_u64(fdt, "linux,initrd-start", d->initrd_start));
                CHECK(fdt_property_u64(fdt, "linux,initrd-end", d->initrd_end));
        }
        CHECK(fdt_property_u64(fdt, "kaslr-seed", d->kaslr_seed));
        if (d->rng_seed)
                CHECK(fdt_property(fdt, "rng-seed", d->rng_seed, 32));
        CHECK(fdt_end_node(fdt));

        char memname[48];
        snprintf(memname, sizeof(memname), "memory@%llx", (unsigned long long)d->ram_base);
        CHECK(fdt_begin_node(fdt, memname));
        CHECK(fdt_property_string(fdt, "device_type", "memory"));
        CHECK(prop_u64_pair(fdt, "reg", d->ram_base, d->ram_size));
        CHECK(fdt_end_node(fdt));
        for (unsigned i = 0; i < d->nram_extra; i++) {
                snprintf(memname, sizeof(memname), "memory@%llx",
                         (unsigned long long)d->ram_extra[i].base);
                CHECK(fdt_begin_node(fdt, memname));
                CHECK(fdt_property_string(fdt, "device_type", "memory"));
                CHECK(prop_u64_pair(fdt, "reg", d->ram_extra[i].base, d->ram_extra[i].size));
                CHECK(fdt_end_node(fdt));
        }

        CHECK(add_cpus(fdt, d));
        CHECK(fdt_begin_node(fdt, "psci"));
        {
                static const char compat[] = "arm,psci-1.0\0arm,psci-0.2";
                CHECK(fdt_property(fdt, "compatible", compat, sizeof(compat)));
        }
        CHECK(fdt_property_string(fdt, "method", d->psci_method ? d->psci_method : "hvc"));
        CHECK(fdt_end_node(fdt));
        CHECK(add_gic(fdt, d));
        CHECK(add_timer(fdt, d));
        CHECK(add_uart(fdt, d, uart_path, sizeof(uart_path)));
        for (unsigned i = 0; i < d->nvirtio; i++)
                CHECK(add_virtio(fdt, &d->virtio[i]));

        CHECK(fdt_end_node(fdt));
        CHECK(fdt_finish(fdt));
        return 0;
}
