/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A vCPU's CPUID (src/arch/x86_64/cpuid.c), from a list shaped like KVM's
 * KVM_GET_SUPPORTED_CPUID: each vCPU its own APIC id everywhere the guest
 * reads one, the topology of ncpus single-thread cores, the hypervisor bit
 * and KVM's leaves, and what ward does not give a guest hidden.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/x86_64/x86_cpuid.h"

#define SIG WARD_CPUID_SIGNIFICANT_INDEX

/* A host's list, as KVM gives it (the values are an EPYC's, trimmed). */
static unsigned host(struct ward_cpuid_entry *e)
{
        static const struct ward_cpuid_entry list[] = {
            {.function = 0x0, .eax = 0x10, .ebx = 0x68747541},
            {.function = 0x1,
             .eax = 0x00830f10,
             .ebx = 0x07080800,
             .ecx = 0xfed83203 | 0x8,
             .edx = 0x178bfbff},
            {.function = 0x5, .eax = 0x40, .ebx = 0x40, .ecx = 3, .edx = 0x11},
            {.function = 0x6, .eax = 0x4, .ecx = 0x1},
            {.function = 0x7,
             .index = 0,
             .flags = SIG,
             .ebx = 0x219c91a9 | 0x814,
             .ecx = 0x40000004},
            {.function = 0xa, .eax = 0x07300402},
            {.function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 9},
            {.function = 0xb,
             .index = 1,
             .flags = SIG,
             .eax = 7,
             .ebx = 64,
             .ecx = 0x201,
             .edx = 9},
            {.function = 0xb, .index = 2, .flags = SIG, .ecx = 2, .edx = 9},
            {.function = 0x40000001, .eax = 0x01000089},
        };
        memcpy(e, list, sizeof(list));
        return sizeof(list) / sizeof(list[0]);
}

static const struct ward_cpuid_entry *leaf(const struct ward_cpuid_entry *e, unsigned n,
                                           uint32_t fn, uint32_t index)
{
        for (unsigned i = 0; i < n; i++)
                if (e[i].function == fn && e[i].index == index)
                        return &e[i];
        fail_msg("no leaf 0x%x.%u", fn, index);
        return NULL;
}

static void each_vcpu_its_own_and_hidden_what_ward_lacks(void **state)
{
        (void)state;
        struct ward_cpuid_entry e[16];
        char err[120];
        for (unsigned vcpu = 0; vcpu < 3; vcpu++) {
                unsigned n = host(e);
                assert_int_equal(ward_x86_cpuid_filter(e, &n, 16, vcpu, 3, err, sizeof(err)), 0);
                const struct ward_cpuid_entry *l1 = leaf(e, n, 1, 0);
                assert_int_equal(l1->ebx >> 24, vcpu);       /* initial APIC id */
                assert_int_equal((l1->ebx >> 16) & 0xff, 3); /* logical processors */
                assert_int_equal(l1->ebx & 0xffff, 0x0800);  /* CLFLUSH size, brand: kept */
                assert_false(l1->ecx & WARD_CPUID_1_ECX_MONITOR);
                assert_true(l1->ecx & WARD_CPUID_1_ECX_HYPERVISOR);
                assert_int_equal(l1->eax, 0x00830f10);           /* the family is the host's */
                assert_int_equal(leaf(e, n, 0xb, 0)->edx, vcpu); /* x2APIC id */
                assert_int_equal(leaf(e, n, 0xb, 1)->edx, vcpu);
                assert_int_equal(leaf(e, n, 0xb, 0)->ebx, 1); /* one thread per core */
                assert_int_equal(leaf(e, n, 0xb, 1)->ebx, 3); /* three cores */
                assert_int_equal(leaf(e, n, 0xb, 1)->eax, 2); /* APIC id bits below the package */
                assert_int_equal(leaf(e, n, 0xb, 2)->ecx & 0xff00, 0); /* no level past core */
                /* Hidden: MONITOR's leaf, power management, the PMU, TSX and SGX. */
                assert_int_equal(leaf(e, n, 5, 0)->eax, 0);
                assert_int_equal(leaf(e, n, 6, 0)->eax, 0);
                assert_int_equal(leaf(e, n, 0xa, 0)->eax, 0);
                assert_int_equal(leaf(e, n, 7, 0)->ebx & 0x814, 0);
                /* KVM's signature, and kvm-clock among KVM's features (the rest kept). */
                const struct ward_cpuid_entry *s = leaf(e, n, 0x40000000, 0);
                char sig[13];
                memcpy(sig, &s->ebx, 4);
                memcpy(sig + 4, &s->ecx, 4);
                memcpy(sig + 8, &s->edx, 4);
                sig[12] = '\0';
                assert_string_equal(sig, "KVMKVMKVM");
                assert_true(leaf(e, n, 0x40000001, 0)->eax & WARD_CPUID_KVM_FEATURE_CLOCKSOURCE2);
                assert_true(leaf(e, n, 0x40000001, 0)->eax & 0x01000000);
        }
}

static void refuses_bad_calls(void **state)
{
        (void)state;
        struct ward_cpuid_entry e[16];
        char err[120];
        unsigned n = host(e);
        assert_int_equal(ward_x86_cpuid_filter(e, &n, 16, 3, 3, err, sizeof(err)), -1);
        assert_string_equal(err, "CPUID: vCPU 3 of 3 (1 to 255 vCPUs)");
        /* No room for KVM's signature leaf. */
        n = host(e);
        assert_int_equal(ward_x86_cpuid_filter(e, &n, n, 0, 1, err, sizeof(err)), -1);
        assert_string_equal(err, "CPUID: no room for leaf 0x40000000 (10 entries)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(each_vcpu_its_own_and_hidden_what_ward_lacks),
            cmocka_unit_test(refuses_bad_calls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
