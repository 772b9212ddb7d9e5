/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest's ACPI tables (src/arch/x86_64/acpi.c): every table's
 * signature, length and checksum, the pointers between them, one local
 * APIC per vCPU and the I/O APIC, and a DSDT that Debian's iasl (package
 * acpica-tools, when installed) disassembles into the devices we meant:
 * LNRO0005 with its window and interrupt, PNP0501 with its ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ward/arch/x86_64/acpi.h"

#define GPA 0xe0000ull
#define ROOM 16384u

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
        return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
        uint8_t s = 0;
        for (size_t i = 0; i < n; i++)
                s = (uint8_t)(s + p[i]);
        return s;
}

static const struct ward_acpi_virtio virtio[] = {
    {0xd0000000, 0x200, 5, false},
    {0xd0000200, 0x200, 6, false},
    {0xd0000400, 0x200, 7, true},
};
static const struct ward_acpi_uart uart[] = {{0x3f8, 4}};

static struct ward_acpi_platform platform(unsigned ncpus)
{
        return (struct ward_acpi_platform){.ncpus = ncpus,
                                           .lapic_base = 0xfee00000,
                                           .ioapic_base = 0xfec00000,
                                           .ioapic_id = (uint8_t)ncpus,
                                           .sleep_control_port = 0x600,
                                           .sleep_status_port = 0x601,
                                           .reset_port = 0x602,
                                           .virtio = virtio,
                                           .nvirtio = 3,
                                           .uart = uart,
                                           .nuart = 1};
}

static uint8_t buf[ROOM];

static const uint8_t *at(uint64_t gpa)
{
        assert_true(gpa >= GPA && gpa < GPA + ROOM);
        return buf + (gpa - GPA);
}

static void tables_checksummed_and_linked(void **state)
{
        (void)state;
        struct ward_acpi_platform p = platform(4);
        struct ward_acpi_out out;
        char err[160];
        memset(buf, 0xcc, sizeof(buf));
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), 0);
        const uint8_t *rsdp = at(out.rsdp_gpa);
        assert_memory_equal(rsdp, "RSD PTR ", 8);
        assert_int_equal(sum(rsdp, 20), 0);
        assert_int_equal(sum(rsdp, 36), 0);
        assert_int_equal(rsdp[15], 2);
        const uint8_t *xsdt = at(get64(rsdp + 24));
        assert_memory_equal(xsdt, "XSDT", 4);
        assert_int_equal(get32(xsdt + 4), 36 + 16);
        assert_int_equal(sum(xsdt, get32(xsdt + 4)), 0);
        const uint8_t *fadt = at(get64(xsdt + 36)), *madt = at(get64(xsdt + 44));
        assert_memory_equal(fadt, "FACP", 4);
        assert_int_equal(get32(fadt + 4), 276);
        assert_int_equal(sum(fadt, 276), 0);
        assert_true(get32(fadt + 112) & (1u << 20)); /* hardware-reduced */
        assert_int_equal(fadt[244], 1);              /* sleep control: system I/O */
        assert_int_equal(get64(fadt + 248), 0x600);
        assert_int_equal(get64(fadt + 260), 0x601);
        assert_true(get32(fadt + 112) & (1u << 10)); /* a reset register */
        assert_int_equal(fadt[116], 1);              /* in system I/O */
        assert_int_equal(get64(fadt + 120), 0x602);
        assert_int_equal(fadt[128], 1); /* the value a reboot writes */
        const uint8_t *dsdt = at(get64(fadt + 140));
        assert_int_equal(get32(fadt + 40), (uint32_t)get64(fadt + 140));
        assert_memory_equal(dsdt, "DSDT", 4);
        assert_int_equal(sum(dsdt, get32(dsdt + 4)), 0);
        /* The MADT: 4 local APICs, ids 0-3, then the I/O APIC with id 4. */
        assert_memory_equal(madt, "APIC", 4);
        uint32_t mlen = get32(madt + 4);
        assert_int_equal(mlen, 36 + 8 + 4 * 8 + 12);
        assert_int_equal(sum(madt, mlen), 0);
        assert_int_equal(get32(madt + 36), 0xfee00000);
        for (unsigned i = 0; i < 4; i++) {
                const uint8_t *e = madt + 44 + 8 * i;
                assert_int_equal(e[0], 0);
                assert_int_equal(e[3], i);
                assert_int_equal(get32(e + 4), 1);
        }
        const uint8_t *io = madt + 44 + 32;
        assert_int_equal(io[0], 1);
        assert_int_equal(io[2], 4);
        assert_int_equal(get32(io + 4), 0xfec00000);
        /* Every table inside what was written, in order; the table list agrees. */
        for (int i = 0; i < 5; i++)
                assert_true(out.table[i].gpa - GPA + out.table[i].len <= out.used);
        assert_int_equal(out.table[4].gpa, get64(fadt + 140));
        /* The DSDT names each device. */
        const char *d = (const char *)dsdt;
        size_t dl = get32(dsdt + 4);
        int lnro = 0, pnp = 0;
        for (size_t i = 0; i + 8 <= dl; i++) {
                lnro += memcmp(d + i, "LNRO0005", 8) == 0;
                pnp += memcmp(d + i, "PNP0501", 7) == 0;
        }
        assert_int_equal(lnro, 3);
        assert_int_equal(pnp, 1);
}

static void refuses_what_it_cannot_say(void **state)
{
        (void)state;
        struct ward_acpi_out out;
        char err[160];
        struct ward_acpi_platform p = platform(65);
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), -1);
        assert_string_equal(err,
                            "65 vCPUs and I/O APIC id 65: 1 to 64 vCPUs, the I/O APIC after them");
        p = platform(2);
        p.ioapic_id = 1; /* a vCPU's APIC id */
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), -1);
        p = platform(2);
        struct ward_acpi_virtio high[] = {{0xfffffe00, 0x400, 5, false}};
        p.virtio = high;
        p.nvirtio = 1;
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), -1);
        assert_string_equal(err, "virtio device 0: window 0xfffffe00+0x400 or GSI 5 is not one the "
                                 "tables can say (below 4 GiB, GSI 0 to 23)");
        p = platform(2);
        assert_int_equal(ward_acpi_build(&p, buf, 200, GPA, &out, err, sizeof(err)), -1);
        assert_string_equal(err, "the ACPI tables do not fit in 200 bytes");
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA + 4, &out, err, sizeof(err)),
                         -1);
        /* 64 vCPUs and 32 devices fit in 16 KiB. */
        p = platform(64);
        struct ward_acpi_virtio many[WARD_ACPI_MAX_DEVICES];
        for (unsigned i = 0; i < WARD_ACPI_MAX_DEVICES; i++)
                many[i] =
                    (struct ward_acpi_virtio){0xd0000000 + 0x200 * i, 0x200, 5 + i % 19, false};
        p.virtio = many;
        p.nvirtio = WARD_ACPI_MAX_DEVICES;
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), 0);
}

/* Debian's iasl reads our tables back as what we meant. */
static void iasl_decodes_them(void **state)
{
        (void)state;
        if (system("command -v iasl >/dev/null 2>&1") != 0) {
                print_message("skipped: no iasl (Debian: acpica-tools)\n");
                skip();
        }
        struct ward_acpi_platform p = platform(2);
        struct ward_acpi_out out;
        char err[160], dir[] = "/tmp/ward-acpi-XXXXXX", cmd[512], path[128];
        assert_int_equal(ward_acpi_build(&p, buf, sizeof(buf), GPA, &out, err, sizeof(err)), 0);
        assert_non_null(mkdtemp(dir));
        static const char *const names[] = {"xsdt", "facp", "apic", "dsdt"};
        for (int i = 1; i < 5; i++) {
                snprintf(path, sizeof(path), "%s/%s.dat", dir, names[i - 1]);
                FILE *f = fopen(path, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(at(out.table[i].gpa), 1, out.table[i].len, f),
                                 out.table[i].len);
                fclose(f);
        }
        snprintf(cmd, sizeof(cmd),
                 "cd %s && iasl -d xsdt.dat facp.dat apic.dat dsdt.dat >iasl.log 2>&1 && "
                 "cat dsdt.dsl apic.dsl facp.dsl > all.dsl",
                 dir);
        int rc = system(cmd);
        snprintf(path, sizeof(path), "%s/all.dsl", dir);
        FILE *f = fopen(path, "r");
        static char text[65536];
        size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
        text[n] = '\0';
        if (f)
                fclose(f);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(rc, 0);
        assert_null(strstr(text, "Invalid checksum"));
        assert_null(strstr(text, "Incorrect checksum"));
        assert_non_null(strstr(text, "Name (_HID, \"LNRO0005\")"));
        assert_non_null(strstr(text, "0xD0000400"));
        assert_non_null(
            strstr(text, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )"));
        assert_non_null(
            strstr(text, "Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )"));
        assert_non_null(strstr(text, "Name (_HID, \"PNP0501\""));
        assert_non_null(strstr(text, "0x03F8"));
        assert_non_null(strstr(text, "Hardware Reduced (V5) : 1"));
        assert_non_null(strstr(text, "Reset Register Supported (V2) : 1"));
        assert_non_null(strstr(text, "Name (\\_S5, Package (0x02)"));
        assert_non_null(strstr(text, "I/O Apic ID : 02"));
        assert_non_null(strstr(text, "Local Apic ID : 01"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(tables_checksummed_and_linked),
            cmocka_unit_test(refuses_what_it_cannot_say),
            cmocka_unit_test(iasl_decodes_them),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
