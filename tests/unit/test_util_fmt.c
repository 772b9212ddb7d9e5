/* SPDX-License-Identifier: BSD-2-Clause */
/* ward_fmt, the freestanding core's formatter: a table of formats and results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ward/util/util.h"

static void formats_what_the_core_uses(void **state)
{
        (void)state;
        char b[64];
        ward_fmt(b, sizeof(b), "--ram 0x%llx: %s", 0x100000000ull, "no");
        assert_string_equal(b, "--ram 0x100000000: no");
        ward_fmt(b, sizeof(b), "%u %d %d %lu %c%%", 0u, -7, 2147483647, 123456789ul, 'z');
        assert_string_equal(b, "0 -7 2147483647 123456789 z%");
        ward_fmt(b, sizeof(b), "%lld|%llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
        assert_string_equal(b, "-9223372036854775808|18446744073709551615");
        const char *volatile nothing = NULL; /* hidden from the compiler's format check */
        ward_fmt(b, sizeof(b), "%s", nothing);
        assert_string_equal(b, "(null)");
}

static void truncates_and_terminates(void **state)
{
        (void)state;
        char b[6];
        memset(b, 'x', sizeof(b));
        ward_fmt(b, sizeof(b), "%s", "abcdefgh");
        assert_string_equal(b, "abcde");
        ward_fmt(b, 1, "%s", "abc");
        assert_string_equal(b, "");
        const char *volatile lone = "50%"; /* a lone % at the end is dropped */
        ward_fmt(b, sizeof(b), lone, 0);
        assert_string_equal(b, "50");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(formats_what_the_core_uses),
            cmocka_unit_test(truncates_and_terminates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
