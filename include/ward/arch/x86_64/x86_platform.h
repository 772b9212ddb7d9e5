/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ward's x86_64 board: where RAM, the I/O APIC, the local APICs, the
 * 16550 (port I/O, as on a PC), the power ports and each virtio-mmio window
 * sit, and which GSI each device raises. The ACPI tables (acpi.h) and the
 * e820 map are written from it, as the arm64 device tree is from
 * arm64_platform.h. Pure computation (freestanding).
 *
 * Guest-physical map:
 *   0 .. ram_size            the boot RAM (at most 3 GiB): real-mode area,
 *                            boot structures, kernel, initrd
 *   0xe0000 .. 0x100000      ACPI tables and the reset vector's stub
 *                            (reserved in the e820 map)
 *   0xc0000000 .. 4 GiB      no RAM: virtio windows at 0xd0000000, VMX's
 *                            pages at 0xfffbc000, I/O APIC, local APICs
 *   other RAM regions        anywhere else, clear of the above
 */
#ifndef WARD_X86_PLATFORM_H
#define WARD_X86_PLATFORM_H

#include "ward/arch/x86_64/acpi.h"
#include "ward/arch/x86_64/x86_boot.h"

#define WARD_X86_RAM_BASE 0ull
#define WARD_X86_RAM_MAX 0xc0000000ull /* the boot RAM ends below the 32-bit hole */
#define WARD_X86_HOLE_BASE 0xc0000000ull
#define WARD_X86_HOLE_END 0x100000000ull
#define WARD_X86_RAM_MIN (32ull << 20)

#define WARD_X86_LOW_RAM_END 0x9fc00ull /* conventional memory, below the EBDA */
#define WARD_X86_ACPI_BASE 0xe0000ull
#define WARD_X86_ACPI_SIZE 0x20000ull
#define WARD_X86_RESET_VECTOR 0xffff0ull /* in the reserved area: a stub that reboots */
#define WARD_X86_ZERO_PAGE 0x7000ull
#define WARD_X86_CMDLINE 0x20000ull
#define WARD_X86_CMDLINE_MAX 0x10000u

#define WARD_X86_IOAPIC_BASE 0xfec00000ull
#define WARD_X86_LAPIC_BASE 0xfee00000ull
#define WARD_X86_VIRTIO_BASE 0xd0000000ull
#define WARD_X86_VIRTIO_STRIDE 0x200ull
#define WARD_X86_VIRTIO_GSI_BASE 5u /* GSIs 5 to 23: 0-2 timer and PIC, 4 the UART */
#define WARD_X86_MAX_VIRTIO 19u
#define WARD_X86_MAX_CPUS WARD_ACPI_MAX_CPUS

#define WARD_X86_UART_PORT 0x3f8u
#define WARD_X86_UART_PORTS 8u
#define WARD_X86_UART_GSI 4u
/* The FADT's sleep control and status registers and its reset register. */
#define WARD_X86_POWER_PORT 0x600u
#define WARD_X86_POWER_PORTS 3u
#define WARD_X86_MAX_RAM 8u /* RAM regions: the boot RAM and 7 more */

struct ward_x86_platform {
        uint64_t ram_size; /* the boot RAM, from guest-physical 0 */
        struct {
                uint64_t gpa, size;
        } ram_extra[WARD_X86_MAX_RAM - 1];
        unsigned nram_extra;
        unsigned ncpus;
        unsigned nvirtio;
        struct ward_acpi_virtio virtio[WARD_X86_MAX_VIRTIO];
        struct ward_acpi_uart uart;
};

/* The boot RAM (WARD_X86_RAM_MIN to WARD_X86_RAM_MAX bytes, 2 MiB multiples) and 1 to 64 vCPUs. */
int ward_x86_platform_init(struct ward_x86_platform *p, uint64_t ram_size, unsigned ncpus);
/* Adds a RAM region (4K aligned, clear of the boot RAM, the hole and the other RAM). */
int ward_x86_platform_add_ram(struct ward_x86_platform *p, uint64_t gpa, uint64_t size);
/* Places the next virtio-mmio window; returns its index, or WARD_ENOSPC. */
int ward_x86_platform_add_virtio(struct ward_x86_platform *p);
/* What the ACPI tables describe. */
void ward_x86_platform_acpi(const struct ward_x86_platform *p, struct ward_acpi_platform *a);
/* The e820 map into e (room entries): the count, or WARD_ENOSPC. */
int ward_x86_platform_e820(const struct ward_x86_platform *p, struct ward_x86_e820 *e,
                           unsigned room);

#endif
