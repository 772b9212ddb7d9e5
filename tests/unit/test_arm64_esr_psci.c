/* SPDX-License-Identifier: BSD-2-Clause */
/* Syndrome decoding and PSCI, as tables of inputs and exact expectations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ward/arch/arm64/arm64_esr.h"
#include "ward/arch/arm64/arm64_psci.h"

/* Builds a lower-EL data abort syndrome. */
static uint32_t dabt(bool isv, unsigned sas, bool sse, unsigned srt, bool sf, bool wnr)
{
        return (0x24u << 26) | (1u << 25) | (isv ? 1u << 24 : 0) | (sas << 22) |
               (sse ? 1u << 21 : 0) | (srt << 16) | (sf ? 1u << 15 : 0) | (wnr ? 1u << 6 : 0);
}

static void esr_data_aborts(void **state)
{
        (void)state;
        static const struct {
                uint32_t esr;
                enum ward_esr_kind kind;
                bool write;
                unsigned size, reg;
                bool sse, sf;
        } t[] = {
            {0, WARD_ESR_UNKNOWN, false, 0, 0, false, false},
            /* str w3, [x0]: 4-byte write from w3 */
            {(0x24u << 26) | (1u << 25) | (1u << 24) | (2u << 22) | (3u << 16) | (1u << 6),
             WARD_ESR_MMIO, true, 4, 3, false, false},
            /* ldrsb x5, [..]: 1-byte signed load into a 64-bit register */
            {(0x24u << 26) | (1u << 24) | (0u << 22) | (1u << 21) | (5u << 16) | (1u << 15),
             WARD_ESR_MMIO, false, 1, 5, true, true},
            /* ldr x30: 8 bytes into x30 */
            {(0x24u << 26) | (1u << 24) | (3u << 22) | (30u << 16) | (1u << 15), WARD_ESR_MMIO,
             false, 8, 30, false, true},
            /* ISV clear: not decodable */
            {(0x24u << 26) | (2u << 22) | (1u << 6), WARD_ESR_MMIO_NISV, false, 0, 0, false, false},
            /* stage-1 page-table walk fault, even with ISV set */
            {(0x24u << 26) | (1u << 24) | (1u << 7), WARD_ESR_MMIO_NISV, false, 0, 0, false, false},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct ward_esr e;
                ward_arm64_esr_decode(t[i].esr, &e);
                assert_int_equal(e.kind, t[i].kind);
                if (e.kind != WARD_ESR_MMIO)
                        continue;
                assert_int_equal(e.is_write, t[i].write);
                assert_int_equal(e.size, t[i].size);
                assert_int_equal(e.reg, t[i].reg);
                assert_int_equal(e.sign_extend, t[i].sse);
                assert_int_equal(e.reg64, t[i].sf);
        }
}

static void esr_other_classes(void **state)
{
        (void)state;
        struct ward_esr e;
        ward_arm64_esr_decode((0x01u << 26) | (1u << 25), &e);
        assert_int_equal(e.kind, WARD_ESR_WFI);
        assert_true(e.il32);
        ward_arm64_esr_decode((0x01u << 26) | 1u, &e);
        assert_int_equal(e.kind, WARD_ESR_WFE);
        ward_arm64_esr_decode((0x16u << 26) | 0xbeef, &e);
        assert_int_equal(e.kind, WARD_ESR_HVC);
        assert_int_equal(e.imm16, 0xbeef);
        ward_arm64_esr_decode((0x17u << 26) | 7, &e);
        assert_int_equal(e.kind, WARD_ESR_SMC);
        assert_int_equal(e.imm16, 7);
        ward_arm64_esr_decode(0x18u << 26, &e);
        assert_int_equal(e.kind, WARD_ESR_SYSREG);
        ward_arm64_esr_decode(0x20u << 26, &e);
        assert_int_equal(e.kind, WARD_ESR_IABT);
        ward_arm64_esr_decode(0x3fu << 26, &e);
        assert_int_equal(e.kind, WARD_ESR_UNKNOWN);
        /* Every possible class decodes without surprises. */
        for (uint32_t ec = 0; ec < 64; ec++) {
                ward_arm64_esr_decode((ec << 26) | 0x1ffffff, &e);
                assert_int_equal(e.ec, ec);
                assert_true(e.kind <= WARD_ESR_UNKNOWN);
                if (e.kind == WARD_ESR_MMIO)
                        assert_true(e.size >= 1 && e.size <= 8 && e.reg <= 31);
        }
}

static void mmio_values(void **state)
{
        (void)state;
        struct ward_esr e;
        /* ldrsb x0: 0x80 becomes -128 in 64 bits. */
        ward_arm64_esr_decode(dabt(true, 0, true, 0, true, false), &e);
        assert_int_equal(ward_arm64_mmio_load_value(&e, 0xff80), 0xffffffffffffff80ull);
        /* ldrsh w0: sign-extended to 32 bits only. */
        ward_arm64_esr_decode(dabt(true, 1, true, 0, false, false), &e);
        assert_int_equal(ward_arm64_mmio_load_value(&e, 0x8001), 0xffff8001ull);
        /* ldrh w0: zero-extended, device garbage above the size dropped. */
        ward_arm64_esr_decode(dabt(true, 1, false, 0, false, false), &e);
        assert_int_equal(ward_arm64_mmio_load_value(&e, 0xdead8001), 0x8001);
        /* ldr x0: the whole 64 bits. */
        ward_arm64_esr_decode(dabt(true, 3, false, 0, true, false), &e);
        assert_int_equal(ward_arm64_mmio_load_value(&e, 0x0123456789abcdefull),
                         0x0123456789abcdefull);
        /* strb w1 writes only the low byte; str wzr writes 0. */
        ward_arm64_esr_decode(dabt(true, 0, false, 1, false, true), &e);
        assert_int_equal(ward_arm64_mmio_store_value(&e, 0x1234), 0x34);
        ward_arm64_esr_decode(dabt(true, 2, false, 31, false, true), &e);
        assert_int_equal(ward_arm64_mmio_store_value(&e, 0x1234), 0);
}

struct psci_ctx {
        struct ward_psci p;
};

static int psci_setup(void **state)
{
        struct psci_ctx *x = calloc(1, sizeof(*x));
        const uint64_t mpidr[3] = {0x80000000, 0x80000001, 0x80000100};
        assert_int_equal(ward_psci_init(&x->p, 3, mpidr, 0x40000000, 0x10000000), WARD_OK);
        *state = x;
        return 0;
}

static int psci_teardown(void **state)
{
        free(*state);
        return 0;
}

static int64_t call(struct ward_psci *p, unsigned caller, uint64_t a0, uint64_t a1, uint64_t a2,
                    uint64_t a3, struct ward_psci_action *act)
{
        const uint64_t x[4] = {a0, a1, a2, a3};
        return ward_psci_call(p, caller, x, act);
}

static void psci_version_and_features(void **state)
{
        struct psci_ctx *x = *state;
        struct ward_psci_action a;
        assert_int_equal(call(&x->p, 0, WARD_PSCI_VERSION, 0, 0, 0, &a), 0x10000);
        assert_int_equal(a.kind, WARD_PSCI_ACT_NONE);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_FEATURES, WARD_PSCI_CPU_ON_64, 0, 0, &a), 0);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_FEATURES, 0x8400000f, 0, 0, &a),
                         WARD_PSCI_NOT_SUPPORTED);
        assert_int_equal(call(&x->p, 0, 0xdeadbeef, 0, 0, 0, &a), WARD_PSCI_NOT_SUPPORTED);
        /* Upper bits of x0 are ignored (SMC64 convention: the ID is w0). */
        assert_int_equal(call(&x->p, 0, 0xffffffff00000000ull | WARD_PSCI_VERSION, 0, 0, 0, &a),
                         0x10000);
        /* A caller that does not exist gets nothing done. */
        assert_int_equal(call(&x->p, 7, WARD_PSCI_SYSTEM_OFF, 0, 0, 0, &a),
                         WARD_PSCI_NOT_SUPPORTED);
        assert_int_equal(a.kind, WARD_PSCI_ACT_NONE);
}

static void psci_cpu_on_off(void **state)
{
        struct psci_ctx *x = *state;
        struct ward_psci_action a;
        /* Unknown affinity, entry outside RAM, misaligned entry. */
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x5, 0x40080000, 0, &a),
                         WARD_PSCI_INVALID_PARAMETERS);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x100, 0x1000, 0, &a),
                         WARD_PSCI_INVALID_ADDRESS);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x100, 0x50000000 - 1, 0, &a),
                         WARD_PSCI_INVALID_ADDRESS);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x100, 0x50000000, 0, &a),
                         WARD_PSCI_INVALID_ADDRESS); /* one past the end of RAM */
        assert_int_equal(a.kind, WARD_PSCI_ACT_NONE);
        /* Valid: vCPU 2 (affinity 0x100) starts at the entry with x0 = context. */
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x100, 0x40080000, 0x1234, &a), 0);
        assert_int_equal(a.kind, WARD_PSCI_ACT_CPU_ON);
        assert_int_equal(a.target, 2);
        assert_int_equal(a.entry, 0x40080000);
        assert_int_equal(a.context, 0x1234);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_CPU_ON_64, 0x100, 0x40080000, 0, &a),
                         WARD_PSCI_ALREADY_ON);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_AFFINITY_INFO_64, 0x100, 0, 0, &a), 0);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_AFFINITY_INFO_64, 0x1, 0, 0, &a), 1);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_AFFINITY_INFO_64, 0x1, 1, 0, &a),
                         WARD_PSCI_INVALID_PARAMETERS);
        /* vCPU 2 turns itself off; it can then be started again. */
        call(&x->p, 2, WARD_PSCI_CPU_OFF, 0, 0, 0, &a);
        assert_int_equal(a.kind, WARD_PSCI_ACT_CPU_OFF);
        assert_int_equal(a.target, 2);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_AFFINITY_INFO_64, 0x100, 0, 0, &a), 1);
        /* CPU_ON_32 truncates its arguments to 32 bits. */
        assert_int_equal(
            call(&x->p, 0, WARD_PSCI_CPU_ON_32, 0xffffffff00000100ull, 0x40080000, 0, &a), 0);
        assert_int_equal(a.target, 2);
}

static void psci_system_calls(void **state)
{
        struct psci_ctx *x = *state;
        struct ward_psci_action a;
        call(&x->p, 1, WARD_PSCI_SYSTEM_OFF, 0, 0, 0, &a);
        assert_int_equal(a.kind, WARD_PSCI_ACT_SYSTEM_OFF);
        call(&x->p, 0, WARD_PSCI_SYSTEM_RESET, 0, 0, 0, &a);
        assert_int_equal(a.kind, WARD_PSCI_ACT_SYSTEM_RESET);
        call(&x->p, 0, WARD_PSCI_CPU_SUSPEND_64, 0, 0, 0, &a);
        assert_int_equal(a.kind, WARD_PSCI_ACT_WAIT);
        assert_int_equal(call(&x->p, 0, WARD_PSCI_MIGRATE_INFO_TYPE, 0, 0, 0, &a), 2);
}

static void psci_init_refuses_bad_config(void **state)
{
        (void)state;
        struct ward_psci p;
        uint64_t m[1] = {0};
        assert_int_equal(ward_psci_init(&p, 0, m, 0, 1), WARD_EINVAL);
        assert_int_equal(ward_psci_init(&p, WARD_PSCI_MAX_CPUS + 1, m, 0, 1), WARD_EINVAL);
        assert_int_equal(ward_psci_init(&p, 1, m, ~0ull, 2), WARD_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(esr_data_aborts),
            cmocka_unit_test(esr_other_classes),
            cmocka_unit_test(mmio_values),
            cmocka_unit_test_setup_teardown(psci_version_and_features, psci_setup, psci_teardown),
            cmocka_unit_test_setup_teardown(psci_cpu_on_off, psci_setup, psci_teardown),
            cmocka_unit_test_setup_teardown(psci_system_calls, psci_setup, psci_teardown),
            cmocka_unit_test(psci_init_refuses_bad_config),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
