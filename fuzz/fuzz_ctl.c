/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API's requests: the input is one request line as a client
 * sends it to the supervisor's socket, parsed and then validated against a
 * fixed description (VM names and their policies). The same bytes are also
 * a line typed at the seL4 admin console (src/common/policy.c), parsed and
 * checked against those policies: its VM name must lie inside the line.
 */
#include "ward/common/policy.h"
#include "ward/desc/system_desc.h"
#include "ward/supervisor/control_api.h"

#include <stdlib.h>

static const char desc_text[] =
    "{\"ward_system\": 1, \"vms\": {"
    "\"vm_a\": {\"kernel\": \"k\", \"policy\": {\"allow\": [\"start\", \"stop\", \"pause\"]}},"
    "\"vm_b\": {\"kernel\": \"k\"}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct ward_sys_desc *d;
        if (!d) {
                struct ward_sys_errors errs = {0};
                d = ward_sys_parse(desc_text, sizeof(desc_text) - 1, &errs);
                if (!d || errs.n)
                        abort();
        }
        struct ward_ctl_request req;
        char err[256];
        if (ward_ctl_parse_request((const char *)data, size, &req, err, sizeof(err)) == 0)
                (void)ward_ctl_validate(&req, d, err, sizeof(err));
        struct ward_admin_command c;
        const char *line = (const char *)data;
        if (ward_admin_parse(line, size, &c, err, sizeof(err)) == 0 && c.cmd == WARD_ADMIN_OP) {
                if (c.vm < line || c.vmlen > size || c.vm + c.vmlen > line + size ||
                    c.op >= WARD_POLICY_NOPS)
                        abort(); /* the parser pointed outside the line */
                for (size_t i = 0; i < d->nvms; i++)
                        (void)ward_policy_check(d->vms[i].name, d->vms[i].policy.allow, c.op, err,
                                                sizeof(err));
        }
        return 0;
}
