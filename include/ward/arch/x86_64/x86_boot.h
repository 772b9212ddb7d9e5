/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux x86 boot protocol (the kernel tree's Documentation/arch/x86/
 * boot.rst), 64-bit entry: a bzImage's setup header read and checked, and
 * the zero page (struct boot_params) a VMM hands the kernel in %rsi.
 * Freestanding; every byte of the image is untrusted: a header that lies
 * about its sizes is refused by name, never followed.
 */
#ifndef WARD_ARCH_X86_64_X86_BOOT_H
#define WARD_ARCH_X86_64_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARD_X86_ZERO_PAGE_SIZE 4096u
#define WARD_X86_E820_MAX 128u
#define WARD_X86_E820_RAM 1u
#define WARD_X86_E820_RESERVED 2u
#define WARD_X86_E820_ACPI 3u
/* The oldest protocol with a 64-bit entry and xloadflags. */
#define WARD_X86_MIN_BOOT_PROTOCOL 0x020c

/* What a bzImage says about itself, checked. */
struct ward_bzimage {
        uint16_t version;       /* boot protocol, e.g. 0x020f */
        uint32_t setup_bytes;   /* the real-mode part: (setup_sects + 1) * 512 */
        uint64_t kernel_offset; /* the protected-mode kernel in the file: == setup_bytes */
        uint64_t kernel_size;   /* its bytes, to the end of the file */
        uint32_t header_end;    /* the setup header is [0x1f1, header_end) of the file */
        uint32_t kernel_alignment;
        bool relocatable;
        uint32_t init_size;    /* bytes the kernel needs from where it is loaded */
        uint64_t pref_address; /* where it prefers to be loaded */
        uint32_t cmdline_size; /* the longest command line, without its NUL */
        uint32_t initrd_addr_max;
        uint16_t xloadflags;
};

/*
 * Reads and checks the header of a bzImage of len bytes: 0, or -1 with err
 * naming what is wrong (not a bzImage, a protocol older than 2.12, no
 * 64-bit entry, sizes that run past the file or overflow, an alignment that
 * is not a power of two).
 */
int ward_bzimage_parse(const uint8_t *img, uint64_t len, struct ward_bzimage *bz, char *err,
                       size_t errlen);

struct ward_x86_e820 {
        uint64_t addr, size;
        uint32_t type;
};

/* Where the VMM put what the kernel needs, in guest-physical addresses. */
struct ward_x86_boot_layout {
        uint64_t cmdline_gpa;
        uint32_t cmdline_len;             /* without its NUL */
        uint64_t initrd_gpa, initrd_size; /* size 0: none */
        uint64_t rsdp_gpa;                /* 0: none (the kernel searches) */
        const struct ward_x86_e820 *e820;
        unsigned ne820;
};

/*
 * Writes the zero page: zeroed, the image's setup header copied in, then
 * what the loader fills: loader type (0xff, undefined), CAN_USE_HEAP
 * cleared and no heap, the command line, the initrd, the RSDP, the e820
 * map. 0, or -1 with err (a command line longer than the kernel takes, an
 * initrd above what it reaches, too many e820 entries).
 */
int ward_x86_zero_page(uint8_t zp[WARD_X86_ZERO_PAGE_SIZE], const uint8_t *img,
                       const struct ward_bzimage *bz, const struct ward_x86_boot_layout *l,
                       char *err, size_t errlen);

#endif
