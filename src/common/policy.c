/* SPDX-License-Identifier: BSD-2-Clause */
/* A VM's run-time policy; see include/ward/common/policy.h. */
#include "ward/common/policy.h"
#include "ward/util/util.h"

const char *const ward_policy_op_names[WARD_POLICY_NOPS] = {"start", "stop", "pause", "resume",
                                                            "restart"};

static bool same(const char *a, size_t alen, const char *b)
{
        size_t i = 0;
        for (; i < alen && b[i]; i++)
                if (a[i] != b[i])
                        return false;
        return i == alen && !b[i];
}

int ward_policy_op_find(const char *name, size_t len)
{
        for (int i = 0; i < WARD_POLICY_NOPS; i++)
                if (same(name, len, ward_policy_op_names[i]))
                        return i;
        return -1;
}

int ward_policy_check(const char *vm, unsigned allow, unsigned op, char *err, size_t errlen)
{
        if (op < WARD_POLICY_NOPS && (allow & (1u << op)))
                return 0;
        char list[64] = "";
        size_t n = 0;
        for (unsigned i = 0; i < WARD_POLICY_NOPS; i++)
                if (allow & (1u << i)) {
                        ward_fmt(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
                                 ward_policy_op_names[i]);
                        while (n < sizeof(list) - 1 && list[n])
                                n++;
                }
        ward_fmt(err, errlen, "vm %s: '%s' is not in policy.allow [%s]", vm,
                 op < WARD_POLICY_NOPS ? ward_policy_op_names[op] : "?", list);
        return -1;
}

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

/* The next word of line[*at, len): its start and length (0 at the end). */
static size_t word(const char *line, size_t len, size_t *at, const char **w)
{
        while (*at < len && blank(line[*at]))
                (*at)++;
        *w = line + *at;
        size_t n = 0;
        while (*at < len && !blank(line[*at])) {
                (*at)++;
                n++;
        }
        return n;
}

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int ward_admin_parse(const char *line, size_t len, struct ward_admin_command *out, char *err,
                     size_t errlen)
{
        *out = (struct ward_admin_command){.cmd = WARD_ADMIN_EMPTY};
        size_t at = 0;
        const char *w, *v, *extra;
        size_t wn = word(line, len, &at, &w);
        size_t vn = word(line, len, &at, &v);
        size_t xn = word(line, len, &at, &extra);
        if (!wn)
                return 0;
        for (size_t i = 0; i < wn; i++)
                if (!name_char(w[i])) {
                        ward_fmt(err, errlen, "not a command (try help)");
                        return -1;
                }
        if (same(w, wn, "status") || same(w, wn, "help")) {
                if (vn) {
                        ward_fmt(err, errlen, "%s takes no VM",
                                 same(w, wn, "help") ? "help" : "status");
                        return -1;
                }
                out->cmd = same(w, wn, "help") ? WARD_ADMIN_HELP : WARD_ADMIN_STATUS;
                return 0;
        }
        int op = ward_policy_op_find(w, wn);
        if (op < 0) {
                ward_fmt(err, errlen, "unknown command (try help)");
                return -1;
        }
        if (!vn || xn) {
                ward_fmt(err, errlen, "%s takes one VM: %s VM", ward_policy_op_names[op],
                         ward_policy_op_names[op]);
                return -1;
        }
        for (size_t i = 0; i < vn; i++)
                if (!name_char(v[i])) {
                        ward_fmt(err, errlen, "not a VM name (lowercase letters, digits and _)");
                        return -1;
                }
        *out = (struct ward_admin_command){WARD_ADMIN_OP, (unsigned)op, v, vn};
        return 0;
}
