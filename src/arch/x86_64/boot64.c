/* SPDX-License-Identifier: BSD-2-Clause */
/* A vCPU at the 64-bit Linux entry; see include/ward/arch/x86_64/x86_boot64.h. */
#include "ward/arch/x86_64/x86_boot64.h"
#include "ward/util/util.h"

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

/* The boot GDT: null, null, 64-bit code at 0x10, data at 0x18, as the segment
 * registers below hold them (accessed bit set, as KVM wants the cached ones). */
static const uint64_t gdt[4] = {0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull};

int ward_x86_boot64(uint8_t *ram, uint64_t ram_bytes, unsigned identity_gib, uint64_t entry_gpa,
                    uint64_t zero_page_gpa, struct ward_x86_boot_regs *r, char *err, size_t errlen)
{
        if (identity_gib < 1 || identity_gib > WARD_X86_BOOT_MAX_GIB) {
                ward_fmt(err, errlen, "an identity map of %u GiB: 1 to %u", identity_gib,
                         WARD_X86_BOOT_MAX_GIB);
                return -1;
        }
        uint64_t end = WARD_X86_BOOT_PD + 4096ull * identity_gib;
        if (ram_bytes < end || ram_bytes < 0x100000) {
                ward_fmt(err, errlen,
                         "%llu bytes of RAM at guest-physical 0: the boot structures need "
                         "0x%llx and the kernel's low memory 1 MiB",
                         (unsigned long long)ram_bytes, (unsigned long long)end);
                return -1;
        }
        for (int i = 0; i < 4; i++)
                ward_put_le64(ram + WARD_X86_BOOT_GDT + 8 * i, gdt[i]);
        memset(ram + WARD_X86_BOOT_PML4, 0, 4096);
        memset(ram + WARD_X86_BOOT_PDPT, 0, 4096);
        ward_put_le64(ram + WARD_X86_BOOT_PML4, WARD_X86_BOOT_PDPT | PTE_P | PTE_RW);
        for (unsigned g = 0; g < identity_gib; g++) {
                uint64_t pd = WARD_X86_BOOT_PD + 4096ull * g;
                ward_put_le64(ram + WARD_X86_BOOT_PDPT + 8 * g, pd | PTE_P | PTE_RW);
                for (unsigned e = 0; e < 512; e++)
                        ward_put_le64(ram + pd + 8 * e, ((uint64_t)g << 30 | (uint64_t)e << 21) |
                                                            PTE_P | PTE_RW | PTE_PS);
        }
        *r = (struct ward_x86_boot_regs){
            .rip = entry_gpa,
            .rsi = zero_page_gpa,
            .rflags = 0x2, /* bit 1 is always set; interrupts off */
            .cr0 = CR0_PE | CR0_ET | CR0_PG,
            .cr3 = WARD_X86_BOOT_PML4,
            .cr4 = CR4_PAE,
            .efer = EFER_LME | EFER_LMA,
            .gdt_base = WARD_X86_BOOT_GDT,
            .gdt_limit = sizeof(gdt) - 1,
            .cs = {.base = 0,
                   .limit = 0xfffff,
                   .selector = WARD_X86_BOOT_CS,
                   .type = 0xb,
                   .present = 1,
                   .dpl = 0,
                   .db = 0,
                   .s = 1,
                   .l = 1,
                   .g = 1},
            .ds = {.base = 0,
                   .limit = 0xfffff,
                   .selector = WARD_X86_BOOT_DS,
                   .type = 0x3,
                   .present = 1,
                   .dpl = 0,
                   .db = 1,
                   .s = 1,
                   .l = 0,
                   .g = 1},
        };
        return 0;
}
