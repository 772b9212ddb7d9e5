/* SPDX-License-Identifier: BSD-2-Clause */
/* The arm64 trap handler with fake vCPU registers, a bus and PSCI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/arm64/arm64_trap.h"

#define NCPU 2
#define DEV_BASE 0x9000000ull

struct vcpu_regs {
        uint64_t x[31];
        uint64_t pc;
};

struct fixture {
        struct vcpu_regs cpu[NCPU];
        struct ward_bus bus;
        struct ward_bus_window win[2];
        struct ward_psci psci;
        struct ward_arm64_trap_ctx ctx;
        /* The test device: remembers the last write, answers reads with `value`. */
        uint64_t last_off, last_write, value;
        unsigned last_len, writes;
};

static uint64_t get_x(void *o, unsigned v, unsigned r)
{
        return ((struct fixture *)o)->cpu[v].x[r];
}
static void set_x(void *o, unsigned v, unsigned r, uint64_t val)
{
        assert_true(r < 31);
        ((struct fixture *)o)->cpu[v].x[r] = val;
}
static uint64_t get_pc(void *o, unsigned v)
{
        return ((struct fixture *)o)->cpu[v].pc;
}
static void set_pc(void *o, unsigned v, uint64_t pc)
{
        ((struct fixture *)o)->cpu[v].pc = pc;
}
static const struct ward_arm64_regs_ops regs_ops = {get_x, set_x, get_pc, set_pc};

static void dev_read(void *d, uint64_t off, void *data, unsigned len)
{
        struct fixture *f = d;
        f->last_off = off;
        ward_store_len(data, f->value, len);
}
static void dev_write(void *d, uint64_t off, const void *data, unsigned len)
{
        struct fixture *f = d;
        f->last_off = off;
        f->last_len = len;
        f->last_write = ward_load_len(data, len);
        f->writes++;
}
static const struct ward_mmio_ops dev_ops = {dev_read, dev_write};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        ward_bus_init(&f->bus, f->win, 2);
        assert_int_equal(ward_bus_register(&f->bus, DEV_BASE, 0x1000, &dev_ops, f), WARD_OK);
        const uint64_t mpidr[NCPU] = {0, 1};
        assert_int_equal(ward_psci_init(&f->psci, NCPU, mpidr, 0x40000000, 0x10000000), WARD_OK);
        f->ctx = (struct ward_arm64_trap_ctx){&f->bus, &f->psci, NULL, &regs_ops, f};
        f->cpu[0].pc = 0x40001000;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        free(*state);
        return 0;
}

static uint32_t dabt(unsigned sas, bool sse, unsigned srt, bool sf, bool wnr)
{
        return (0x24u << 26) | (1u << 25) | (1u << 24) | (sas << 22) | (sse ? 1u << 21 : 0) |
               (srt << 16) | (sf ? 1u << 15 : 0) | (wnr ? 1u << 6 : 0);
}

static void mmio_write_and_read(void **state)
{
        struct fixture *f = *state;
        struct ward_trap_result r;
        /* str w2, [DEV+8] with x2 = 0x1122334455667788: the device sees 4 bytes. */
        f->cpu[0].x[2] = 0x1122334455667788ull;
        ward_arm64_trap(&f->ctx, 0, dabt(2, false, 2, false, true), DEV_BASE + 8, &r);
        assert_int_equal(r.outcome, WARD_TRAP_RESUME);
        assert_int_equal(f->last_off, 8);
        assert_int_equal(f->last_len, 4);
        assert_int_equal(f->last_write, 0x55667788);
        assert_int_equal(f->cpu[0].pc, 0x40001004);
        /* ldrsb x7, [DEV]: 0xf0 sign-extends into x7. */
        f->value = 0xf0;
        ward_arm64_trap(&f->ctx, 0, dabt(0, true, 7, true, false), DEV_BASE, &r);
        assert_int_equal(r.outcome, WARD_TRAP_RESUME);
        assert_int_equal(f->cpu[0].x[7], 0xfffffffffffffff0ull);
        assert_int_equal(f->cpu[0].pc, 0x40001008);
        /* str wzr: writes zero whatever x31 would be. */
        ward_arm64_trap(&f->ctx, 0, dabt(2, false, 31, false, true), DEV_BASE, &r);
        assert_int_equal(f->last_write, 0);
        /* ldr to xzr: the read happens, no register changes. */
        struct vcpu_regs before = f->cpu[0];
        ward_arm64_trap(&f->ctx, 0, dabt(3, false, 31, true, false), DEV_BASE, &r);
        assert_int_equal(memcmp(before.x, f->cpu[0].x, sizeof(before.x)), 0);
        /* Unmapped: reads zero, still steps over the instruction. */
        f->cpu[0].x[3] = 99;
        ward_arm64_trap(&f->ctx, 0, dabt(2, false, 3, false, false), 0x12345000, &r);
        assert_int_equal(r.outcome, WARD_TRAP_RESUME);
        assert_int_equal(f->cpu[0].x[3], 0);
}

static void hostile_mmio_is_fatal_and_changes_nothing(void **state)
{
        struct fixture *f = *state;
        struct ward_trap_result r;
        struct vcpu_regs before = f->cpu[0];
        /* 8-byte write whose last bytes fall past the device window. */
        ward_arm64_trap(&f->ctx, 0, dabt(3, false, 1, true, true), DEV_BASE + 0xffc, &r);
        assert_int_equal(r.outcome, WARD_TRAP_FATAL);
        assert_int_equal(f->writes, 0);
        /* ISV clear. */
        ward_arm64_trap(&f->ctx, 0, (0x24u << 26) | (1u << 6), DEV_BASE, &r);
        assert_int_equal(r.outcome, WARD_TRAP_FATAL);
        assert_non_null(r.reason);
        assert_int_equal(memcmp(&before, &f->cpu[0], sizeof(before)), 0);
}

static void hvc_psci(void **state)
{
        struct fixture *f = *state;
        struct ward_trap_result r;
        /* PSCI_VERSION by HVC: x0 gets 1.0, the PC stays (HVC returns past itself). */
        f->cpu[0].x[0] = WARD_PSCI_VERSION;
        ward_arm64_trap(&f->ctx, 0, 0x16u << 26, 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_RESUME);
        assert_int_equal(f->cpu[0].x[0], 0x10000);
        assert_int_equal(f->cpu[0].pc, 0x40001000);
        /* The same by SMC steps over the SMC. */
        f->cpu[0].x[0] = WARD_PSCI_VERSION;
        ward_arm64_trap(&f->ctx, 0, 0x17u << 26, 0, &r);
        assert_int_equal(f->cpu[0].pc, 0x40001004);
        /* CPU_ON starts vCPU 1 at the entry with its context in x0. */
        f->cpu[0].x[0] = WARD_PSCI_CPU_ON_64;
        f->cpu[0].x[1] = 1;
        f->cpu[0].x[2] = 0x40080000;
        f->cpu[0].x[3] = 0xc0ffee;
        ward_arm64_trap(&f->ctx, 0, 0x16u << 26, 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_CPU_ON);
        assert_int_equal(r.target, 1);
        assert_int_equal(f->cpu[1].pc, 0x40080000);
        assert_int_equal(f->cpu[1].x[0], 0xc0ffee);
        assert_int_equal(f->cpu[0].x[0], 0);
        /* SYSTEM_OFF from vCPU 1. */
        f->cpu[1].x[0] = WARD_PSCI_SYSTEM_OFF;
        ward_arm64_trap(&f->ctx, 1, 0x16u << 26, 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_SYSTEM_OFF);
}

static void wfi_and_unknown(void **state)
{
        struct fixture *f = *state;
        struct ward_trap_result r;
        ward_arm64_trap(&f->ctx, 0, (0x01u << 26) | (1u << 25), 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_WAIT);
        assert_int_equal(f->cpu[0].pc, 0x40001004);
        ward_arm64_trap(&f->ctx, 0, 0x18u << 26, 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_FATAL);
        ward_arm64_trap(&f->ctx, 0, 0x3fu << 26, 0, &r);
        assert_int_equal(r.outcome, WARD_TRAP_FATAL);
        assert_int_equal(f->cpu[0].pc, 0x40001004);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(mmio_write_and_read, setup, teardown),
            cmocka_unit_test_setup_teardown(hostile_mmio_is_fatal_and_changes_nothing, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(hvc_psci, setup, teardown),
            cmocka_unit_test_setup_teardown(wfi_and_unknown, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
