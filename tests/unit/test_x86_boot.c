/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The x86 boot protocol (src/arch/x86_64/bzimage.c): a bzImage's setup
 * header, built here field by field as the kernel's header.S lays it out,
 * read back; hostile headers (no magic, old protocols, sizes that run past
 * the file or 2^64, setup_sects that lie) refused by name; and the zero
 * page. With WARD_TEST_BZIMAGE set to a real kernel (Debian's amd64
 * vmlinuz), that one is read too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/x86_64/x86_boot.h"

#define IMG 65536u

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        put16(p, (uint16_t)v);
        put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A well-formed protocol 2.15 header: 27 setup sectors, a 64-bit relocatable kernel. */
static void good(uint8_t *img)
{
        memset(img, 0, IMG);
        img[0x1f1] = 27;
        put16(img + 0x1fe, 0xaa55);
        img[0x200] = 0xeb;
        img[0x201] = 0x6a; /* the header ends at 0x26c */
        memcpy(img + 0x202, "HdrS", 4);
        put16(img + 0x206, 0x020f);
        img[0x211] = 0x01;              /* LOADED_HIGH */
        put32(img + 0x22c, 0x7fffffff); /* initrd_addr_max */
        put32(img + 0x230, 0x200000);   /* kernel_alignment */
        img[0x234] = 1;                 /* relocatable */
        put16(img + 0x236, 0x3);        /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
        put32(img + 0x238, 2047);       /* cmdline_size */
        put32(img + 0x258, 0x1000000);  /* pref_address */
        put32(img + 0x25c, 0);
        put32(img + 0x260, 0x100000); /* init_size */
}

static void reads_a_good_header(void **state)
{
        (void)state;
        static uint8_t img[IMG];
        good(img);
        struct ward_bzimage bz;
        char err[160];
        assert_int_equal(ward_bzimage_parse(img, IMG, &bz, err, sizeof(err)), 0);
        assert_int_equal(bz.version, 0x020f);
        assert_int_equal(bz.setup_bytes, 28 * 512);
        assert_int_equal(bz.kernel_offset, 28 * 512);
        assert_int_equal(bz.kernel_size, IMG - 28 * 512);
        assert_int_equal(bz.header_end, 0x26c);
        assert_true(bz.relocatable);
        assert_int_equal(bz.pref_address, 0x1000000);
        assert_int_equal(bz.cmdline_size, 2047);
        /* setup_sects 0 means 4, as in the oldest kernels. */
        img[0x1f1] = 0;
        assert_int_equal(ward_bzimage_parse(img, IMG, &bz, err, sizeof(err)), 0);
        assert_int_equal(bz.setup_bytes, 5 * 512);
}

static void refuses_hostile_headers(void **state)
{
        (void)state;
        static uint8_t img[IMG];
        struct ward_bzimage bz;
        static const struct {
                unsigned off, size;
                uint64_t value;
                uint64_t len;
                const char *err;
        } cases[] = {
            {0x1fe, 2, 0x1234, IMG,
             "not a bzImage (no boot sector flag 0xaa55 and \"HdrS\" header)"},
            {0x202, 4, 0x53726449, IMG,
             "not a bzImage (no boot sector flag 0xaa55 and \"HdrS\" header)"},
            {0, 0, 0, 0x263, "not a bzImage (no boot sector flag 0xaa55 and \"HdrS\" header)"},
            {0x206, 2, 0x020b, IMG,
             "boot protocol 2.11: ward needs 2.12 or later (a 64-bit entry)"},
            {0x201, 1, 0x10, IMG,
             "the setup header claims to end at 0x212: outside 0x264-0x290 or the file"},
            {0x201, 1, 0xff, IMG,
             "the setup header claims to end at 0x301: outside 0x264-0x290 or the file"},
            {0x236, 2, 0x2, IMG, "the kernel has no 64-bit entry (xloadflags 0x2)"},
            {0x211, 1, 0x0, IMG, "a zImage loaded low: ward loads bzImages only"},
            {0x1f1, 1, 200, IMG,
             "setup_sects 200 puts the kernel at byte 102912, past the file's 65536"},
            {0x230, 4, 0x300000, IMG, "kernel_alignment 0x300000 is not a power of two"},
            {0x230, 4, 0, IMG, "kernel_alignment 0x0 is not a power of two"},
            {0x260, 4, 0x1000, IMG,
             "init_size 0x1000 is smaller than the kernel's 0xc800 bytes in the file"},
            {0x258, 8, UINT64_MAX - 0x1000, IMG,
             "pref_address 0xffffffffffffefff + init_size runs past 2^64"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                good(img);
                for (unsigned b = 0; b < cases[i].size; b++)
                        img[cases[i].off + b] = (uint8_t)(cases[i].value >> (8 * b));
                char err[160] = "";
                if (ward_bzimage_parse(img, cases[i].len, &bz, err, sizeof(err)) != -1)
                        fail_msg("case %zu was accepted", i);
                if (strcmp(err, cases[i].err))
                        fail_msg("case %zu:\n got  %s\n want %s", i, err, cases[i].err);
        }
}

static void writes_the_zero_page(void **state)
{
        (void)state;
        static uint8_t img[IMG], zp[WARD_X86_ZERO_PAGE_SIZE];
        good(img);
        img[0x211] |= 0x80; /* CAN_USE_HEAP from the image: cleared, no heap given */
        struct ward_bzimage bz;
        char err[160];
        assert_int_equal(ward_bzimage_parse(img, IMG, &bz, err, sizeof(err)), 0);
        static const struct ward_x86_e820 map[] = {
            {0, 0x9fc00, WARD_X86_E820_RAM},
            {0x100000, 0x7f00000, WARD_X86_E820_RAM},
            {0x100000000ull, 0x40000000, WARD_X86_E820_RAM},
        };
        struct ward_x86_boot_layout l = {.cmdline_gpa = 0x20000,
                                         .cmdline_len = 100,
                                         .initrd_gpa = 0x17f00000,
                                         .initrd_size = 0x100000,
                                         .rsdp_gpa = 0xe0000,
                                         .e820 = map,
                                         .ne820 = 3};
        assert_int_equal(ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err)), 0);
        assert_memory_equal(zp + 0x202, "HdrS", 4); /* the header, copied */
        assert_int_equal(zp[0x1f1], 27);
        assert_int_equal(zp[0x210], 0xff);            /* loader type */
        assert_int_equal(zp[0x211], 0x01);            /* LOADED_HIGH, no CAN_USE_HEAP */
        assert_int_equal(get32(zp + 0x228), 0x20000); /* cmd_line_ptr */
        assert_int_equal(get32(zp + 0x218), 0x17f00000);
        assert_int_equal(get32(zp + 0x21c), 0x100000);
        assert_int_equal(get32(zp + 0x070), 0xe0000);        /* acpi_rsdp_addr */
        assert_int_equal(zp[0x1e8], 3);                      /* e820_entries */
        assert_int_equal(get32(zp + 0x2d0 + 2 * 20 + 4), 1); /* the third entry's addr >> 32 */
        assert_int_equal(get32(zp + 0x2d0 + 2 * 20 + 16), WARD_X86_E820_RAM);
        for (unsigned i = 0x26c; i < 0x2d0; i++)
                assert_int_equal(zp[i], 0); /* nothing past the header but what was set */

        /* A command line the kernel cannot take, too many entries, an initrd out of reach. */
        l.cmdline_len = 2048;
        assert_int_equal(ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err)), -1);
        assert_string_equal(err, "the command line has 2048 bytes; the kernel takes at most 2047");
        l.cmdline_len = 100;
        l.ne820 = 129;
        assert_int_equal(ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err)), -1);
        assert_string_equal(err, "129 e820 entries, at most 128");
        l.ne820 = 3;
        put16(img + 0x236, 0x1); /* not loadable above 4G: initrd_addr_max holds */
        assert_int_equal(ward_bzimage_parse(img, IMG, &bz, err, sizeof(err)), 0);
        l.initrd_gpa = 0x7ff80000;
        assert_int_equal(ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err)), -1);
        assert_string_equal(err, "the initrd at 0x7ff80000 is beyond what the kernel reaches");
        l.initrd_gpa = UINT64_MAX - 10;
        assert_int_equal(ward_x86_zero_page(zp, img, &bz, &l, err, sizeof(err)), -1);
}

/* A real kernel's header, when one is given (Debian's amd64 vmlinuz). */
static void reads_a_real_bzimage(void **state)
{
        (void)state;
        const char *path = getenv("WARD_TEST_BZIMAGE");
        if (!path || !*path) {
                print_message("skipped: set WARD_TEST_BZIMAGE to an amd64 vmlinuz\n");
                skip();
        }
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        assert_true(len > 0x1000);
        rewind(f);
        uint8_t *img = malloc((size_t)len);
        assert_non_null(img);
        assert_int_equal(fread(img, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        struct ward_bzimage bz;
        char err[160];
        if (ward_bzimage_parse(img, (uint64_t)len, &bz, err, sizeof(err)))
                fail_msg("%s: %s", path, err);
        assert_true(bz.version >= 0x020c);
        assert_true(bz.relocatable);
        assert_true(bz.init_size >= bz.kernel_size);
        free(img);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(reads_a_good_header),
            cmocka_unit_test(refuses_hostile_headers),
            cmocka_unit_test(writes_the_zero_page),
            cmocka_unit_test(reads_a_real_bzimage),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
