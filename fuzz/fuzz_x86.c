/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The x86 boot protocol's header (src/arch/x86_64/bzimage.c): the input is
 * the first bytes of a "bzImage", padded to a file length its first four
 * bytes choose; a header that passes the checks is written into a zero
 * page with a layout the input also chooses. The checks here: what the
 * parser accepts lies inside the file, and the zero page is written only
 * within its 4 KiB (the sanitizers watch the rest).
 */
#include "ward/arch/x86_64/x86_boot.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t img[1 << 20];
        static uint8_t zp[WARD_X86_ZERO_PAGE_SIZE];
        if (size < 16)
                return 0;
        uint32_t want = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
        uint64_t len = want % sizeof(img);
        size_t n = size - 16 < len ? size - 16 : (size_t)len;
        memset(img, 0, (size_t)len);
        memcpy(img, data + 16, n);
        struct ward_bzimage bz;
        char err[200];
        if (ward_bzimage_parse(img, len, &bz, err, sizeof(err)))
                return 0;
        if (bz.kernel_offset + bz.kernel_size != len || bz.header_end > len ||
            bz.kernel_alignment & (bz.kernel_alignment - 1))
                abort(); /* accepted a header that lies */
        static const struct ward_x86_e820 map[2] = {{0, 0x9fc00, 1}, {0x100000, 0x1000000, 1}};
        struct ward_x86_boot_layout l = {
            .cmdline_gpa = (uint64_t)data[3] << 12,
            .cmdline_len = (uint32_t)data[4] << 4,
            .initrd_gpa = (uint64_t)data[5] << 24 | (uint64_t)data[6] << 32,
            .initrd_size = (uint64_t)data[7] << 20,
            .rsdp_gpa = 0xe0000,
            .e820 = map,
            .ne820 = data[8] & 1 ? 2 : 0,
        };
        (void)ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err));
        return 0;
}
