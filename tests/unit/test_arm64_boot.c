/* SPDX-License-Identifier: BSD-2-Clause */
/* arm64 Image header parsing and the placement of kernel, initrd and DTB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/arm64/arm64_boot.h"

#define MiB (1ull << 20)
#define BASE 0x40000000ull

static void make_hdr(uint8_t h[64], uint64_t text_offset, uint64_t image_size)
{
        memset(h, 0, 64);
        ward_put_le64(h + 8, text_offset);
        ward_put_le64(h + 16, image_size);
        ward_put_le32(h + 56, WARD_ARM64_IMAGE_MAGIC);
}

static void parse_good_header(void **state)
{
        (void)state;
        uint8_t h[64];
        struct ward_arm64_image img;
        make_hdr(h, 0x80000, 0x1800000);
        assert_int_equal(ward_arm64_image_parse(h, 0x1200000, &img), WARD_OK);
        assert_int_equal(img.text_offset, 0x80000);
        assert_int_equal(img.image_size, 0x1800000);
        make_hdr(h, 0, 0x2000000);
        assert_int_equal(ward_arm64_image_parse(h, 64, &img), WARD_OK);
        assert_int_equal(img.text_offset, 0);
        assert_int_equal(img.image_size, 0x2000000);
}

static void parse_refuses_bad_magic_and_short_file(void **state)
{
        (void)state;
        uint8_t h[64];
        struct ward_arm64_image img = {0x1111, 0x2222};
        make_hdr(h, 0x80000, 0x1000000);
        assert_int_equal(ward_arm64_image_parse(h, 63, &img), WARD_EINVAL);
        assert_int_equal(ward_arm64_image_parse(h, 0, &img), WARD_EINVAL);
        h[56] ^= 0x20; /* "aRM\x64" */
        assert_int_equal(ward_arm64_image_parse(h, 0x1000000, &img), WARD_EINVAL);
        make_hdr(h, 0x80000, 0x1000000);
        ward_put_le32(h + 56, 0x016f2818); /* a 32-bit zImage's magic */
        assert_int_equal(ward_arm64_image_parse(h, 0x1000000, &img), WARD_EINVAL);
        assert_int_equal(img.text_offset, 0x1111); /* untouched on failure */
        assert_int_equal(img.image_size, 0x2222);
}

static void parse_text_offset_rules(void **state)
{
        (void)state;
        uint8_t h[64];
        struct ward_arm64_image img;
        const struct {
                uint64_t text_offset;
                int rc;
        } cases[] = {
            {0, WARD_OK},
            {0x1000, WARD_OK},
            {0x80000, WARD_OK},
            {0x1ff000, WARD_OK},
            {0x200000, WARD_EINVAL}, /* must stay inside the first 2 MiB */
            {0x280000, WARD_EINVAL},
            {0x80001, WARD_EINVAL}, /* must be page aligned */
            {0x800, WARD_EINVAL},
            {UINT64_MAX, WARD_EINVAL},
        };
        for (size_t i = 0; i < WARD_ARRAY_SIZE(cases); i++) {
                make_hdr(h, cases[i].text_offset, 0x1000000);
                assert_int_equal(ward_arm64_image_parse(h, 0x800000, &img), cases[i].rc);
                if (cases[i].rc == WARD_OK)
                        assert_int_equal(img.text_offset, cases[i].text_offset);
        }
}

static void parse_image_size_zero_means_old_kernel(void **state)
{
        (void)state;
        uint8_t h[64];
        struct ward_arm64_image img;
        /* Before 3.17 image_size is 0 and text_offset must be taken as 0x80000. */
        make_hdr(h, 0, 0);
        assert_int_equal(ward_arm64_image_parse(h, 0x900000, &img), WARD_OK);
        assert_int_equal(img.text_offset, 0x80000);
        assert_int_equal(img.image_size, 0x900000);
        make_hdr(h, 0x123456789, 0); /* whatever the field says */
        assert_int_equal(ward_arm64_image_parse(h, 0x900000, &img), WARD_OK);
        assert_int_equal(img.text_offset, 0x80000);
}

static void parse_size_covers_the_file(void **state)
{
        (void)state;
        uint8_t h[64];
        struct ward_arm64_image img;
        make_hdr(h, 0, 0x100000); /* header understates the file */
        assert_int_equal(ward_arm64_image_parse(h, 0x300001, &img), WARD_OK);
        assert_int_equal(img.image_size, 0x300001);
}

static void layout_typical(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0x80000, .image_size = 32 * MiB};
        struct ward_arm64_layout l;
        const uint64_t initrd = 5 * MiB + 123;
        assert_int_equal(ward_arm64_layout(BASE, 512 * MiB, &img, 20 * MiB, initrd, &l), WARD_OK);
        assert_int_equal(l.kernel_gpa, BASE + 0x80000);
        assert_int_equal(l.kernel_end, BASE + 34 * MiB); /* rounded up to 2 MiB */
        assert_int_equal(l.dtb_gpa, BASE + 510 * MiB);   /* the last 2 MiB */
        /* Just below the DTB, 4 KiB aligned. */
        assert_int_equal(l.initrd_gpa, BASE + 505 * MiB - 4096);
        assert_true(l.initrd_gpa + initrd <= l.dtb_gpa);
        assert_true(l.initrd_gpa >= l.kernel_end);
}

static void layout_without_initrd(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0, .image_size = 10 * MiB};
        struct ward_arm64_layout l;
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 10 * MiB, 0, &l), WARD_OK);
        assert_int_equal(l.kernel_gpa, BASE);
        assert_int_equal(l.kernel_end, BASE + 10 * MiB);
        assert_int_equal(l.dtb_gpa, BASE + 62 * MiB);
        assert_int_equal(l.initrd_gpa, 0);
}

static void layout_dtb_with_ragged_ram_end(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0x80000, .image_size = 8 * MiB};
        struct ward_arm64_layout l;
        /* RAM ends 1 MiB past a 2 MiB boundary: the DTB slot stays 2 MiB aligned and inside. */
        assert_int_equal(ward_arm64_layout(BASE, 101 * MiB, &img, 8 * MiB, 4096, &l), WARD_OK);
        assert_int_equal(l.dtb_gpa, BASE + 98 * MiB);
        assert_true(l.dtb_gpa + WARD_ARM64_DTB_MAX <= BASE + 101 * MiB);
        assert_int_equal(l.initrd_gpa, BASE + 98 * MiB - 4096);
}

static void layout_initrd_exactly_fits(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0x80000, .image_size = 16 * MiB};
        struct ward_arm64_layout l;
        /* Kernel ends at 18 MiB, DTB at 62 MiB: 44 MiB between. */
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 16 * MiB, 44 * MiB, &l), WARD_OK);
        assert_int_equal(l.kernel_end, BASE + 18 * MiB);
        assert_int_equal(l.initrd_gpa, BASE + 18 * MiB);
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 16 * MiB, 44 * MiB - 1, &l),
                         WARD_OK);
        assert_int_equal(l.initrd_gpa, BASE + 18 * MiB);
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 16 * MiB, 44 * MiB + 1, &l),
                         WARD_ENOSPC);
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 16 * MiB, UINT64_MAX, &l),
                         WARD_ENOSPC);
}

static void layout_kernel_too_big(void **state)
{
        (void)state;
        struct ward_arm64_layout l;
        /* Kernel end rounds up to exactly the DTB slot: still fits. */
        struct ward_arm64_image img = {.text_offset = 0x80000, .image_size = 61 * MiB};
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 0, 0, &l), WARD_OK);
        assert_int_equal(l.kernel_end, BASE + 62 * MiB);
        assert_int_equal(l.dtb_gpa, BASE + 62 * MiB);
        /* One byte more and it runs into the DTB slot. */
        img.image_size = 61 * MiB + 0x80000 + 1;
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 0, 0, &l), WARD_ENOSPC);
        /* Larger than RAM, and absurdly large. */
        img.image_size = 64 * MiB;
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 0, 0, &l), WARD_ENOSPC);
        img.image_size = UINT64_MAX;
        assert_int_equal(ward_arm64_layout(BASE, 64 * MiB, &img, 0, 0, &l), WARD_ENOSPC);
}

static void layout_too_small_ram(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0, .image_size = 0x100000};
        struct ward_arm64_layout l;
        const uint64_t sizes[] = {0, 4096, 2 * MiB, 4 * MiB, 8 * MiB - 4096};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(sizes); i++)
                assert_int_equal(ward_arm64_layout(BASE, sizes[i], &img, 0, 0, &l), WARD_ENOSPC);
        assert_int_equal(ward_arm64_layout(BASE, 8 * MiB, &img, 0, 0, &l), WARD_OK);
        assert_int_equal(l.dtb_gpa, BASE + 6 * MiB);
}

static void layout_refuses_bad_ram(void **state)
{
        (void)state;
        struct ward_arm64_image img = {.text_offset = 0, .image_size = 0x100000};
        struct ward_arm64_layout l;
        /* RAM base not 2 MiB aligned. */
        assert_int_equal(ward_arm64_layout(BASE + 4096, 64 * MiB, &img, 0, 0, &l), WARD_EINVAL);
        assert_int_equal(ward_arm64_layout(BASE + MiB, 64 * MiB, &img, 0, 0, &l), WARD_EINVAL);
        /* RAM that wraps around the address space. */
        assert_int_equal(ward_arm64_layout(0xffffffffffe00000ull, 64 * MiB, &img, 0, 0, &l),
                         WARD_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(parse_good_header),
            cmocka_unit_test(parse_refuses_bad_magic_and_short_file),
            cmocka_unit_test(parse_text_offset_rules),
            cmocka_unit_test(parse_image_size_zero_means_old_kernel),
            cmocka_unit_test(parse_size_covers_the_file),
            cmocka_unit_test(layout_typical),
            cmocka_unit_test(layout_without_initrd),
            cmocka_unit_test(layout_dtb_with_ragged_ram_end),
            cmocka_unit_test(layout_initrd_exactly_fits),
            cmocka_unit_test(layout_kernel_too_big),
            cmocka_unit_test(layout_too_small_ram),
            cmocka_unit_test(layout_refuses_bad_ram),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
