/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arm64 Linux boot (Documentation/arch/arm64/booting.rst): the Image header
 * and where kernel, initrd and device tree go in guest RAM. Pure
 * computation, shared by every hypervisor backend.
 */
#ifndef WARD_ARM64_BOOT_H
#define WARD_ARM64_BOOT_H

#include "ward/util/util.h"

#define WARD_ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" at offset 56 */
#define WARD_ARM64_DTB_MAX (2u << 20)      /* booting.rst: at most 2 MiB */

struct ward_arm64_image {
        uint64_t text_offset;
        uint64_t image_size; /* bytes the kernel claims from its load address, incl. BSS */
};

struct ward_arm64_layout {
        uint64_t kernel_gpa;
        uint64_t kernel_end;
        uint64_t initrd_gpa; /* 0 if no initrd */
        uint64_t dtb_gpa;
};

/* Parses and checks the 64-byte header. file_len is the Image file size. */
int ward_arm64_image_parse(const void *hdr, uint64_t file_len, struct ward_arm64_image *out);

/*
 * Places kernel, initrd and DTB in [ram_base, ram_base+ram_size). Fails with
 * WARD_ENOSPC when they do not fit. ram_base must be 2 MiB aligned.
 */
int ward_arm64_layout(uint64_t ram_base, uint64_t ram_size, const struct ward_arm64_image *img,
                      uint64_t file_len, uint64_t initrd_len, struct ward_arm64_layout *out);

/* PSTATE for entry: EL1h with D, A, I and F masked. */
#define WARD_ARM64_BOOT_PSTATE 0x3c5u

#endif
