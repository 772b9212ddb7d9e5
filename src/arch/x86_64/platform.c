/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ward's x86_64 board (x86_platform.h): the address map, the virtio
 * windows and their GSIs, and the ACPI and e820 descriptions of them.
 */
#include "ward/arch/x86_64/x86_platform.h"

#include "ward/util/util.h"

/* 48-bit guest-physical addresses: what every x86_64 host's EPT/NPT takes. */
#define GPA_LIMIT (1ull << 48)

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
        return a < b + bsize && b < a + asize;
}

int ward_x86_platform_init(struct ward_x86_platform *p, uint64_t ram_size, unsigned ncpus)
{
        *p = (struct ward_x86_platform){0};
        if (ncpus < 1 || ncpus > WARD_X86_MAX_CPUS || ram_size < WARD_X86_RAM_MIN ||
            ram_size > WARD_X86_RAM_MAX || ram_size & 0x1fffff)
                return WARD_EINVAL;
        p->ram_size = ram_size;
        p->ncpus = ncpus;
        p->uart = (struct ward_acpi_uart){WARD_X86_UART_PORT, WARD_X86_UART_GSI};
        return WARD_OK;
}

int ward_x86_platform_add_ram(struct ward_x86_platform *p, uint64_t gpa, uint64_t size)
{
        if (p->nram_extra == WARD_X86_MAX_RAM - 1)
                return WARD_ENOSPC;
        if (size == 0 || (gpa | size) & 0xfff || gpa >= GPA_LIMIT || size > GPA_LIMIT - gpa ||
            overlaps(gpa, size, 0, p->ram_size) ||
            overlaps(gpa, size, WARD_X86_HOLE_BASE, WARD_X86_HOLE_END - WARD_X86_HOLE_BASE))
                return WARD_EINVAL;
        for (unsigned i = 0; i < p->nram_extra; i++)
                if (overlaps(gpa, size, p->ram_extra[i].gpa, p->ram_extra[i].size))
                        return WARD_EINVAL;
        p->ram_extra[p->nram_extra].gpa = gpa;
        p->ram_extra[p->nram_extra].size = size;
        p->nram_extra++;
        return WARD_OK;
}

int ward_x86_platform_add_virtio(struct ward_x86_platform *p)
{
        if (p->nvirtio == WARD_X86_MAX_VIRTIO)
                return WARD_ENOSPC;
        unsigned i = p->nvirtio++;
        /* Edge-triggered, as the VM core raises them (a rising edge per notification). */
        p->virtio[i] = (struct ward_acpi_virtio){
            .base = WARD_X86_VIRTIO_BASE + i * WARD_X86_VIRTIO_STRIDE,
            .size = (uint32_t)WARD_X86_VIRTIO_STRIDE,
            .gsi = WARD_X86_VIRTIO_GSI_BASE + i,
            .level = false,
        };
        return (int)i;
}

void ward_x86_platform_acpi(const struct ward_x86_platform *p, struct ward_acpi_platform *a)
{
        *a = (struct ward_acpi_platform){
            .ncpus = p->ncpus,
            .lapic_base = (uint32_t)WARD_X86_LAPIC_BASE,
            .ioapic_base = (uint32_t)WARD_X86_IOAPIC_BASE,
            .ioapic_id = (uint8_t)p->ncpus,
            .sleep_control_port = WARD_X86_POWER_PORT,
            .sleep_status_port = WARD_X86_POWER_PORT + 1,
            .reset_port = WARD_X86_POWER_PORT + 2,
            .virtio = p->virtio,
            .nvirtio = p->nvirtio,
            .uart = &p->uart,
            .nuart = 1,
        };
}

static int add(struct ward_x86_e820 *e, unsigned room, unsigned *n, uint64_t addr, uint64_t size,
               uint32_t type)
{
        if (*n == room)
                return -1;
        e[(*n)++] = (struct ward_x86_e820){addr, size, type};
        return 0;
}

int ward_x86_platform_e820(const struct ward_x86_platform *p, struct ward_x86_e820 *e,
                           unsigned room)
{
        unsigned n = 0;
        /* 640 KiB of conventional memory, the BIOS area with the ACPI tables, then the rest. */
        if (add(e, room, &n, 0, WARD_X86_LOW_RAM_END, WARD_X86_E820_RAM) ||
            add(e, room, &n, WARD_X86_ACPI_BASE, WARD_X86_ACPI_SIZE, WARD_X86_E820_ACPI) ||
            add(e, room, &n, 1ull << 20, p->ram_size - (1ull << 20), WARD_X86_E820_RAM))
                return WARD_ENOSPC;
        for (unsigned i = 0; i < p->nram_extra; i++)
                if (add(e, room, &n, p->ram_extra[i].gpa, p->ram_extra[i].size, WARD_X86_E820_RAM))
                        return WARD_ENOSPC;
        return (int)n;
}
