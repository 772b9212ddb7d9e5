/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ACPI tables an x86_64 guest learns its machine from (Debian's amd64
 * kernel has no virtio_mmio.device= command line of its own): RSDP ->
 * XSDT -> FADT (hardware-reduced ACPI, with the sleep registers a poweroff
 * writes and the reset register a reboot writes) and MADT (one local APIC per vCPU, the I/O APIC),
 * and a DSDT that declares each virtio-mmio transport as an LNRO0005 device with its window and
 * interrupt, each 16550 as PNP0501, and \_S5 (without it Linux has no ACPI poweroff). Written from
 * the same platform description the arm64 device tree is written from, by whoever places the
 * devices; freestanding, every table checksummed.
 */
#ifndef WARD_ARCH_X86_64_ACPI_H
#define WARD_ARCH_X86_64_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARD_ACPI_MAX_CPUS 64
#define WARD_ACPI_MAX_DEVICES 32

struct ward_acpi_virtio {
        uint64_t base;
        uint32_t size;
        uint32_t gsi; /* the I/O APIC input it raises */
        bool level;   /* level-triggered; else edge */
};

struct ward_acpi_uart {
        uint16_t port; /* its first I/O port, e.g. 0x3f8 */
        uint8_t irq;   /* its ISA IRQ, e.g. 4 */
};

struct ward_acpi_platform {
        unsigned ncpus;              /* APIC ids 0 .. ncpus-1 */
        uint32_t lapic_base;         /* 0xfee00000 */
        uint32_t ioapic_base;        /* 0xfec00000 */
        uint8_t ioapic_id;           /* after the vCPUs' APIC ids */
        uint16_t sleep_control_port; /* the I/O port of the FADT's sleep control register */
        uint16_t sleep_status_port;
        uint16_t reset_port; /* the FADT's reset register (a reboot writes 1), 0: none */
        const struct ward_acpi_virtio *virtio;
        unsigned nvirtio;
        const struct ward_acpi_uart *uart;
        unsigned nuart;
};

/* A table's place in the output, for tests and for a caller that maps them. */
struct ward_acpi_table {
        char sig[5];
        uint64_t gpa;
        uint32_t len;
};

struct ward_acpi_out {
        uint64_t rsdp_gpa;               /* what the zero page's acpi_rsdp_addr gets */
        uint32_t used;                   /* bytes of buf written */
        struct ward_acpi_table table[5]; /* RSDP, XSDT, FADT, MADT, DSDT */
};

/*
 * Writes the tables into buf (room bytes), which the guest will see at
 * guest-physical gpa: 0, or -1 with err (too many vCPUs or devices, no
 * room, a bad address).
 */
int ward_acpi_build(const struct ward_acpi_platform *p, uint8_t *buf, size_t room, uint64_t gpa,
                    struct ward_acpi_out *out, char *err, size_t errlen);

#endif
