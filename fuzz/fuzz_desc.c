/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description: the input is a description's text, parsed
 * (json-c and ward's walk), checked (as ward system check does, without
 * files; also when parsing reported errors, as ward_sys_load does) and,
 * when valid, turned into a Microkit system (ward system sel4).
 */
#include "ward/desc/sel4_gen.h"
#include "ward/desc/system_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ward_sys_errors errs = {0}, warns = {0};
        struct ward_sys_desc *d = ward_sys_parse((const char *)data, size, &errs);
        if (d) {
                const struct ward_sys_facts facts = {.host_ram_bytes = 8ull << 30, .host_cpus = 8};
                /* As ward_sys_load does: the checker runs on what parsed, even
                 * with parse errors; the generator only on a valid description. */
                if (ward_sys_check(d, &facts, &errs) == 0 && ward_sys_errors_count(&errs) == 0) {
                        struct ward_sel4_out out;
                        if (ward_sel4_gen(d, NULL, &out, &errs, &warns) == 0)
                                ward_sel4_out_free(&out);
                }
                ward_sys_free(d);
        }
        ward_sys_errors_free(&errs);
        ward_sys_errors_free(&warns);
        return 0;
}
