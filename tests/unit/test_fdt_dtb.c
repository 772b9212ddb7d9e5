/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest device tree (arch/arm64/fdt.c through the platform) read back
 * with libfdt, and `ward dtb`'s arguments as a table of exact errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libfdt.h>
#include <unistd.h>

#include "ward/arch/arm64/arm64_boot.h"
#include "ward/arch/arm64/arm64_platform.h"
#include "ward/cli/cli_dtb.h"

static uint8_t blob[64 * 1024];

static const void *prop(const char *path, const char *name, int *len)
{
        int off = fdt_path_offset(blob, path);
        assert_true(off >= 0);
        const void *p = fdt_getprop(blob, off, name, len);
        assert_non_null(p);
        return p;
}

static uint64_t cell64(const void *p, int i)
{
        const fdt32_t *c = p;
        return ((uint64_t)fdt32_to_cpu(c[2 * i]) << 32) | fdt32_to_cpu(c[2 * i + 1]);
}

static void kvm_style_tree(void **state)
{
        (void)state;
        struct ward_arm64_platform p;
        assert_int_equal(ward_arm64_platform_init(&p, 256ull << 20, 2), WARD_OK);
        p.gic.gic_version = 3;
        assert_int_equal(ward_arm64_platform_add_virtio(&p), 0);
        assert_int_equal(ward_arm64_platform_add_virtio(&p), 1);
        const uint64_t mpidr[2] = {0x80000000, 0x80000001};
        uint8_t seed[32] = {1, 2, 3};
        struct ward_arm64_dt dt;
        ward_arm64_platform_dt(&p, mpidr, "console=hvc0 quiet", 0x48000000, 0x48001000, 42, seed,
                               &dt);
        assert_int_equal(ward_arm64_fdt_build(blob, sizeof(blob), &dt), 0);
        assert_int_equal(fdt_check_header(blob), 0);

        int len;
        assert_string_equal(prop("/chosen", "bootargs", &len), "console=hvc0 quiet");
        assert_string_equal(prop("/chosen", "stdout-path", &len), "/uart@9000000");
        assert_int_equal(cell64(prop("/chosen", "linux,initrd-start", &len), 0), 0x48000000);
        assert_int_equal(len, 8);
        const void *mem = prop("/memory@40000000", "reg", &len);
        assert_int_equal(cell64(mem, 0), 0x40000000);
        assert_int_equal(cell64(mem, 1), 256ull << 20);
        /* Both CPUs, named by affinity; the MPIDR's RES1 bit 31 is not part of reg. */
        assert_true(fdt_path_offset(blob, "/cpus/cpu@0") >= 0);
        assert_true(fdt_path_offset(blob, "/cpus/cpu@1") >= 0);
        assert_true(fdt_path_offset(blob, "/cpus/cpu@2") < 0);
        assert_string_equal(prop("/intc@8000000", "compatible", &len), "arm,gic-v3");
        const void *gic = prop("/intc@8000000", "reg", &len);
        assert_int_equal(cell64(gic, 2), WARD_ARM64_GIC_REDIST_BASE);
        assert_int_equal(cell64(gic, 3), 2 * WARD_ARM64_GIC_REDIST_PER_CPU);
        /* Second virtio window: next stride, next SPI, edge-triggered. */
        const void *vreg = prop("/virtio_mmio@a000200", "reg", &len);
        assert_int_equal(cell64(vreg, 0), 0xa000200);
        const fdt32_t *irq = prop("/virtio_mmio@a000200", "interrupts", &len);
        assert_int_equal(len, 12);
        assert_int_equal(fdt32_to_cpu(irq[0]), 0); /* SPI */
        assert_int_equal(fdt32_to_cpu(irq[1]), WARD_ARM64_VIRTIO_SPI_BASE + 1);
        assert_int_equal(fdt32_to_cpu(irq[2]), 1); /* edge rising */
        assert_string_equal(prop("/uart@9000000", "compatible", &len), "ns16550a");
}

static void tree_too_big_for_buffer(void **state)
{
        (void)state;
        struct ward_arm64_platform p;
        assert_int_equal(ward_arm64_platform_init(&p, 256ull << 20, 1), WARD_OK);
        p.gic.gic_version = 2;
        const uint64_t mpidr[1] = {0};
        struct ward_arm64_dt dt;
        ward_arm64_platform_dt(&p, mpidr, "x", 0, 0, 0, NULL, &dt);
        assert_true(ward_arm64_fdt_build(blob, 256, &dt) < 0);
}

static void platform_limits(void **state)
{
        (void)state;
        struct ward_arm64_platform p;
        assert_int_equal(ward_arm64_platform_init(&p, 1 << 20, 0), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_init(&p, 1 << 20, WARD_ARM64_MAX_CPUS + 1),
                         WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_init(&p, 1ull << 40, 1), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_init(&p, 1 << 20, 1), WARD_OK);
        for (int i = 0; i < WARD_ARM64_MAX_VIRTIO; i++)
                assert_int_equal(ward_arm64_platform_add_virtio(&p), i);
        assert_int_equal(ward_arm64_platform_add_virtio(&p), WARD_ENOSPC);
}

/* More RAM regions: each one a memory node; overlaps and the device area refused. */
static void ram_regions(void **state)
{
        (void)state;
        struct ward_arm64_platform p;
        assert_int_equal(ward_arm64_platform_init(&p, 64ull << 20, 1), WARD_OK);
        assert_int_equal(ward_arm64_platform_set_ram_base(&p, 0x80000000), WARD_OK);
        assert_int_equal(ward_arm64_platform_set_ram_base(&p, 0x80100000), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_set_ram_base(&p, 0x06000000), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x100000000, 32ull << 20), WARD_OK);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0, 0x8000000), WARD_OK);
        /* Into the device windows, onto the boot RAM, onto another region, unaligned, 0. */
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x3ff00000, 2ull << 20), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x83000000, 4096), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x101fff000, 8192), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x200000800, 4096), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x200000000, 0), WARD_EINVAL);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0xfffffff000, 8192), WARD_EINVAL);
        /* Moving the boot RAM onto a region is refused too. */
        assert_int_equal(ward_arm64_platform_set_ram_base(&p, 0x100000000), WARD_EINVAL);
        for (uint64_t i = 2; i < WARD_ARM64_MAX_RAM - 1; i++)
                assert_int_equal(ward_arm64_platform_add_ram(&p, 0x200000000 + i * 4096, 4096),
                                 WARD_OK);
        assert_int_equal(ward_arm64_platform_add_ram(&p, 0x300000000, 4096), WARD_ENOSPC);
        p.gic.gic_version = 3;
        const uint64_t mpidr[1] = {0x80000000};
        struct ward_arm64_dt dt;
        ward_arm64_platform_dt(&p, mpidr, "x", 0, 0, 0, NULL, &dt);
        assert_int_equal(ward_arm64_fdt_build(blob, sizeof(blob), &dt), 0);
        int len;
        const void *mem = prop("/memory@80000000", "reg", &len);
        assert_int_equal(cell64(mem, 0), 0x80000000);
        assert_int_equal(cell64(mem, 1), 64ull << 20);
        mem = prop("/memory@100000000", "reg", &len);
        assert_int_equal(cell64(mem, 0), 0x100000000);
        assert_int_equal(cell64(mem, 1), 32ull << 20);
        assert_string_equal(prop("/memory@0", "device_type", &len), "memory");
        assert_true(fdt_path_offset(blob, "/memory@200002000") >= 0);
        assert_true(fdt_path_offset(blob, "/memory@40000000") < 0);
}

/* A file that passes for an arm64 Image: the 64-byte header and some bytes. */
static char image_path[64];

static int make_image(void **state)
{
        (void)state;
        strcpy(image_path, "/tmp/ward-dtb-image-XXXXXX");
        int fd = mkstemp(image_path);
        assert_true(fd >= 0);
        uint8_t img[4096] = {0};
        ward_put_le64(img + 16, sizeof(img)); /* image_size */
        ward_put_le32(img + 56, WARD_ARM64_IMAGE_MAGIC);
        assert_int_equal(write(fd, img, sizeof(img)), sizeof(img));
        close(fd);
        return 0;
}

static int remove_image(void **state)
{
        (void)state;
        unlink(image_path);
        unlink("/tmp/ward-dtb-test.dtb");
        return 0;
}

static int run_dtb(const char *args, char *err, size_t errlen, char *info, size_t infolen)
{
        char buf[1024];
        char *argv[32];
        int argc = 0;
        snprintf(buf, sizeof(buf), "dtb %s", args);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 31;
             t = strtok_r(NULL, " ", &save))
                argv[argc++] = strcmp(t, "IMG") == 0 ? image_path : t;
        argv[argc] = NULL;
        FILE *f = fmemopen(info, infolen, "w");
        err[0] = '\0';
        int rc = ward_cli_dtb(argc, argv, f, err, errlen);
        fclose(f);
        return rc;
}

static void dtb_command(void **state)
{
        (void)state;
        static const struct {
                const char *args;
                int rc;
                const char *err;
        } t[] = {
            {"--out /tmp/ward-dtb-test.dtb", 2, "--kernel: missing"},
            {"--kernel IMG", 2, "--out: missing"},
            {"--kernel /nonexistent --out x", 2,
             "--kernel /nonexistent: No such file or directory"},
            {"--kernel IMG --out x --gic 4", 2, "--gic 4: must be 2 or 3"},
            {"--kernel IMG --out x --cpus 9", 2, "--cpus 9: GICv2 has at most 8 CPUs"},
            {"--kernel IMG --out x --cpus 0", 2, "--cpus 0: must be 1 to 64"},
            {"--kernel IMG --out x --mem lots", 2, "--mem lots: not a size"},
            {"--kernel IMG --out x --mem 4M", 2, "--mem: too small for this kernel and initrd"},
            {"--kernel IMG --out x --virtio blk,gpu", 2,
             "--virtio: unknown device 'gpu' (console, blk, rng, net, vsock)"},
            {"--kernel IMG --out x --frob", 2, "--frob: unknown option (see ward dtb --help)"},
            {"--kernel IMG --out /nonexistent-dir/x.dtb", 2,
             "--out /nonexistent-dir/x.dtb: cannot write: No such file or directory"},
            {"--kernel IMG --out /tmp/ward-dtb-test.dtb --virtio blk,rng --cpus 2", 0, ""},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char err[256], info[1024];
                int rc = run_dtb(t[i].args, err, sizeof(err), info, sizeof(info));
                if (rc != t[i].rc || strcmp(err, t[i].err) != 0)
                        fail_msg("'%s': got %d '%s', want %d '%s'", t[i].args, rc, err, t[i].rc,
                                 t[i].err);
        }
        /* The last row wrote a valid tree whose layout lines name the devices. */
        char err[256], info[1024];
        assert_int_equal(run_dtb("--kernel IMG --out /tmp/ward-dtb-test.dtb --virtio blk,rng", err,
                                 sizeof(err), info, sizeof(info)),
                         0);
        assert_non_null(strstr(info, "virtio1=rng base=0xa000200 irq=49\n"));
        assert_non_null(strstr(info, "dtb=0x5fe00000\n"));
        FILE *f = fopen("/tmp/ward-dtb-test.dtb", "rb");
        assert_non_null(f);
        size_t n = fread(blob, 1, sizeof(blob), f);
        fclose(f);
        assert_true(n > 64);
        assert_int_equal(fdt_check_header(blob), 0);
        assert_int_equal(fdt_totalsize(blob), n);
        assert_true(fdt_path_offset(blob, "/virtio_mmio@a000200") >= 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(kvm_style_tree),
            cmocka_unit_test(tree_too_big_for_buffer),
            cmocka_unit_test(platform_limits),
            cmocka_unit_test(ram_regions),
            cmocka_unit_test_setup_teardown(dtb_command, make_image, remove_image),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
