/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a vCPU looks like at the Linux x86 boot protocol's 64-bit entry
 * (startup_64, at the protected-mode kernel's load address + 0x200): long
 * mode with paging on, an identity map of the low guest-physical space,
 * the boot GDT's code (0x10) and data (0x18) segments, %rsi the zero page.
 * This writes the GDT and page tables into guest memory and says what the
 * registers must hold; the seam sets them (KVM_SET_SREGS / KVM_SET_REGS).
 * Freestanding.
 */
#ifndef WARD_ARCH_X86_64_X86_BOOT64_H
#define WARD_ARCH_X86_64_X86_BOOT64_H

#include <stddef.h>
#include <stdint.h>

/* Where the boot structures go in guest-physical memory (below 1 MiB, clear of the zero page). */
#define WARD_X86_BOOT_GDT 0x500ull
#define WARD_X86_BOOT_PML4 0x9000ull
#define WARD_X86_BOOT_PDPT 0xa000ull
#define WARD_X86_BOOT_PD 0xb000ull /* identity_gib pages of 2 MiB entries, one per GiB */
#define WARD_X86_BOOT_MAX_GIB 64u

#define WARD_X86_BOOT_CS 0x10
#define WARD_X86_BOOT_DS 0x18

/* A segment as KVM's struct kvm_segment describes it (the fields ward sets). */
struct ward_x86_segment {
        uint64_t base;
        uint32_t limit;
        uint16_t selector;
        uint8_t type, present, dpl, db, s, l, g;
};

struct ward_x86_boot_regs {
        uint64_t rip, rsi, rflags, rsp;
        uint64_t cr0, cr3, cr4, efer;
        uint64_t gdt_base;
        uint16_t gdt_limit;
        struct ward_x86_segment cs, ds; /* ds is also es, fs, gs and ss */
};

/*
 * Writes the GDT at WARD_X86_BOOT_GDT and page tables identity-mapping the
 * first identity_gib GiB (2 MiB pages) into ram, the guest's memory from
 * guest-physical 0 (ram_bytes of it, at least 1 MiB), and fills r for an
 * entry at entry_gpa with the zero page at zero_page_gpa. 0, or -1 with
 * err (too little RAM, too many GiB to map).
 */
int ward_x86_boot64(uint8_t *ram, uint64_t ram_bytes, unsigned identity_gib, uint64_t entry_gpa,
                    uint64_t zero_page_gpa, struct ward_x86_boot_regs *r, char *err, size_t errlen);

#endif
