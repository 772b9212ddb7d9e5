/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The run-time policy check and the admin console's command parser
 * (src/common/policy.c), which the Linux control API and the seL4 admin PD
 * share: the same refusal, word for word, and hostile lines refused by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ward/common/policy.h"

static void check_allows_and_refuses_naming_the_rule(void **state)
{
        (void)state;
        char err[128];
        unsigned allow = 1u << WARD_POLICY_PAUSE | 1u << WARD_POLICY_RESUME;
        assert_int_equal(ward_policy_check("vm_b", allow, WARD_POLICY_PAUSE, err, sizeof(err)), 0);
        assert_int_equal(ward_policy_check("vm_b", allow, WARD_POLICY_STOP, err, sizeof(err)), -1);
        assert_string_equal(err, "vm vm_b: 'stop' is not in policy.allow [pause, resume]");
        assert_int_equal(ward_policy_check("a", 0, WARD_POLICY_RESTART, err, sizeof(err)), -1);
        assert_string_equal(err, "vm a: 'restart' is not in policy.allow []");
        assert_int_equal(ward_policy_check("a", ~0u, 99, err, sizeof(err)), -1); /* no such op */
        assert_int_equal(ward_policy_op_find("resume", 6), WARD_POLICY_RESUME);
        assert_int_equal(ward_policy_op_find("resumes", 7), -1);
        assert_int_equal(ward_policy_op_find("res", 3), -1);
}

static void parses_commands(void **state)
{
        (void)state;
        struct ward_admin_command c;
        char err[128];
        static const char line[] = "  restart\tvm_b  ";
        assert_int_equal(ward_admin_parse(line, strlen(line), &c, err, sizeof(err)), 0);
        assert_int_equal(c.cmd, WARD_ADMIN_OP);
        assert_int_equal(c.op, WARD_POLICY_RESTART);
        assert_int_equal(c.vmlen, 4);
        assert_memory_equal(c.vm, "vm_b", 4);
        assert_int_equal(ward_admin_parse("status", 6, &c, err, sizeof(err)), 0);
        assert_int_equal(c.cmd, WARD_ADMIN_STATUS);
        assert_int_equal(ward_admin_parse("help", 4, &c, err, sizeof(err)), 0);
        assert_int_equal(c.cmd, WARD_ADMIN_HELP);
        assert_int_equal(ward_admin_parse(" \t ", 3, &c, err, sizeof(err)), 0);
        assert_int_equal(c.cmd, WARD_ADMIN_EMPTY);
        /* The length bounds the line: nothing past it is read. */
        assert_int_equal(ward_admin_parse("pause vm_aXXXX", 10, &c, err, sizeof(err)), 0);
        assert_int_equal(c.vmlen, 4);
}

static void refuses_bad_lines_by_name(void **state)
{
        (void)state;
        static const struct {
                const char *line, *err;
        } cases[] = {
            {"reboot vm_a", "unknown command (try help)"},
            {"stop", "stop takes one VM: stop VM"},
            {"stop vm_a vm_b", "stop takes one VM: stop VM"},
            {"pause VM_A", "not a VM name (lowercase letters, digits and _)"},
            {"status vm_a", "status takes no VM"},
            {"\x1b[A", "not a command (try help)"},
            {"st\xffop vm_a", "not a command (try help)"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ward_admin_command c;
                char err[128] = "";
                assert_int_equal(
                    ward_admin_parse(cases[i].line, strlen(cases[i].line), &c, err, sizeof(err)),
                    -1);
                assert_string_equal(err, cases[i].err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(check_allows_and_refuses_naming_the_rule),
            cmocka_unit_test(parses_commands),
            cmocka_unit_test(refuses_bad_lines_by_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
