/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU at the 64-bit Linux entry (src/arch/x86_64/boot64.c): the page
 * tables walked as the CPU walks them (identity, 2 MiB pages, nothing past
 * what was asked), the GDT's descriptors decoded to what the segment
 * registers say, and the control registers of long mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/x86_64/x86_boot64.h"

#define RAM (4u << 20)

static uint64_t get64(const uint8_t *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* The physical address va maps to, or ~0 when it is not mapped. */
static uint64_t walk(const uint8_t *ram, uint64_t cr3, uint64_t va)
{
        uint64_t e = get64(ram + cr3 + 8 * ((va >> 39) & 511));
        if (!(e & 1))
                return ~0ull;
        e = get64(ram + (e & ~0xfffull) + 8 * ((va >> 30) & 511));
        if (!(e & 1))
                return ~0ull;
        assert_false(e & 0x80); /* no 1 GiB pages */
        e = get64(ram + (e & 0xffffffffff000ull) + 8 * ((va >> 21) & 511));
        if (!(e & 1))
                return ~0ull;
        assert_true(e & 0x80); /* 2 MiB pages */
        assert_true(e & 2);    /* writable */
        return (e & 0xfffffffe00000ull) | (va & 0x1fffff);
}

static void long_mode_with_an_identity_map(void **state)
{
        (void)state;
        uint8_t *ram = calloc(1, RAM);
        struct ward_x86_boot_regs r;
        char err[160];
        assert_int_equal(ward_x86_boot64(ram, RAM, 4, 0x1000200, 0x7000, &r, err, sizeof(err)), 0);
        assert_int_equal(r.rip, 0x1000200);
        assert_int_equal(r.rsi, 0x7000);
        assert_int_equal(r.rflags & 0x200, 0);   /* interrupts off */
        assert_true(r.cr0 & 0x80000001ull);      /* PE and PG */
        assert_true(r.cr4 & 0x20);               /* PAE */
        assert_int_equal(r.efer & 0x500, 0x500); /* LME and LMA */
        assert_int_equal(walk(ram, r.cr3, 0), 0);
        assert_int_equal(walk(ram, r.cr3, 0x1000200), 0x1000200);
        assert_int_equal(walk(ram, r.cr3, 0xfffff123ull), 0xfffff123ull);
        assert_int_equal(walk(ram, r.cr3, 4ull << 30), ~0ull); /* 4 GiB asked, no more */
        /* The GDT's code and data descriptors say what the registers hold. */
        uint64_t code = get64(ram + r.gdt_base + r.cs.selector);
        uint64_t data = get64(ram + r.gdt_base + r.ds.selector);
        assert_int_equal((code >> 40) & 0xf, r.cs.type);
        assert_int_equal((code >> 53) & 1, r.cs.l); /* L: 64-bit code */
        assert_int_equal((code >> 54) & 1, r.cs.db);
        assert_int_equal((code >> 47) & 1, r.cs.present);
        assert_int_equal((data >> 40) & 0xf, r.ds.type);
        assert_int_equal((data >> 54) & 1, r.ds.db);
        assert_int_equal(r.cs.l, 1);
        assert_int_equal(r.cs.db, 0); /* L and D both set is reserved */
        assert_true(r.gdt_limit >= r.ds.selector + 7);
        free(ram);
}

static void refuses_what_does_not_fit(void **state)
{
        (void)state;
        static uint8_t ram[RAM];
        struct ward_x86_boot_regs r;
        char err[160];
        assert_int_equal(ward_x86_boot64(ram, RAM, 0, 0, 0, &r, err, sizeof(err)), -1);
        assert_string_equal(err, "an identity map of 0 GiB: 1 to 64");
        assert_int_equal(ward_x86_boot64(ram, RAM, 65, 0, 0, &r, err, sizeof(err)), -1);
        assert_int_equal(ward_x86_boot64(ram, 0x80000, 1, 0, 0, &r, err, sizeof(err)), -1);
        assert_string_equal(err, "524288 bytes of RAM at guest-physical 0: the boot structures "
                                 "need 0xc000 and the kernel's low memory 1 MiB");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(long_mode_with_an_identity_map),
            cmocka_unit_test(refuses_what_does_not_fit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
