/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_boot.h"

#define SZ_2M (2ull << 20)
#define SZ_4K 4096ull

static uint64_t align_up(uint64_t v, uint64_t a)
{
        return (v + a - 1) & ~(a - 1);
}
static uint64_t align_down(uint64_t v, uint64_t a)
{
        return v & ~(a - 1);
}

int ward_arm64_image_parse(const void *hdr, uint64_t file_len, struct ward_arm64_image *out)
{
        const uint8_t *h = hdr;
        if (file_len < 64)
                return WARD_EINVAL;
        if (ward_le32(h + 56) != WARD_ARM64_IMAGE_MAGIC)
                return WARD_EINVAL;
        uint64_t text_offset = ward_le64(h + 8);
        uint64_t image_size = ward_le64(h + 16);
        if (image_size == 0) {
                /* Kernels before 3.17 leave it zero; booting.rst says assume 0x80000. */
                text_offset = 0x80000;
        }
        if (text_offset >= SZ_2M || (text_offset & 0xfff))
                return WARD_EINVAL;
        /* The effective size covers the file even if the header understates it. */
        if (image_size < file_len)
                image_size = file_len;
        out->text_offset = text_offset;
        out->image_size = image_size;
        return WARD_OK;
}

int ward_arm64_layout(uint64_t ram_base, uint64_t ram_size, const struct ward_arm64_image *img,
                      uint64_t file_len, uint64_t initrd_len, struct ward_arm64_layout *out)
{
        (void)file_len;
        if (ram_base & (SZ_2M - 1) || ram_base + ram_size < ram_base)
                return WARD_EINVAL;
        if (ram_size < 4 * SZ_2M)
                return WARD_ENOSPC; /* too little RAM is "does not fit", not a bad argument */
        uint64_t ram_end = ram_base + ram_size;
        out->kernel_gpa = ram_base + img->text_offset;
        if (img->image_size > ram_size - img->text_offset)
                return WARD_ENOSPC;
        out->kernel_end = align_up(out->kernel_gpa + img->image_size, SZ_2M);
        /* DTB in the last 2 MiB-aligned slot; initrd just below it. */
        out->dtb_gpa = align_down(ram_end - WARD_ARM64_DTB_MAX, SZ_2M);
        if (out->dtb_gpa < out->kernel_end)
                return WARD_ENOSPC;
        out->initrd_gpa = 0;
        if (initrd_len) {
                if (initrd_len > out->dtb_gpa - out->kernel_end)
                        return WARD_ENOSPC;
                out->initrd_gpa = align_down(out->dtb_gpa - initrd_len, SZ_4K);
                if (out->initrd_gpa < out->kernel_end)
                        return WARD_ENOSPC;
        }
        return WARD_OK;
}
