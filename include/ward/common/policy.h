/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VM's run-time policy, as every place that enforces it reads it: the
 * operations by name, "is this operation allowed", and the admin console's
 * command line. Freestanding: the Linux control API (src/supervisor) and
 * the seL4 admin PD (src/host/sel4/admin_pd.c) use this one implementation,
 * so an operation is refused on both with the same words.
 */
#ifndef WARD_COMMON_POLICY_H
#define WARD_COMMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* The operations, in enum ward_sys_op's order; a policy's allow has bit (1u << op). */
enum {
        WARD_POLICY_START,
        WARD_POLICY_STOP,
        WARD_POLICY_PAUSE,
        WARD_POLICY_RESUME,
        WARD_POLICY_RESTART,
        WARD_POLICY_NOPS,
};

/* "start", "stop", "pause", "resume", "restart". */
extern const char *const ward_policy_op_names[WARD_POLICY_NOPS];

/* The operation named by name[0, len), or -1. */
int ward_policy_op_find(const char *name, size_t len);

/*
 * 0 when allow (bits 1u << op) has op; else -1 with err set to
 * "vm VM: 'OP' is not in policy.allow [ALLOWED, ...]".
 */
int ward_policy_check(const char *vm, unsigned allow, unsigned op, char *err, size_t errlen);

/* An admin console command: an operation on a VM, or one of these. */
enum ward_admin_cmd {
        WARD_ADMIN_OP,     /* op on the VM named vm[0, vmlen) */
        WARD_ADMIN_STATUS, /* "status": every VM's state */
        WARD_ADMIN_HELP,   /* "help" */
        WARD_ADMIN_EMPTY,  /* a blank line */
};

struct ward_admin_command {
        enum ward_admin_cmd cmd;
        unsigned op;
        const char *vm;
        size_t vmlen;
};

/*
 * Parses one line typed at the admin console ("restart vm_b", "status",
 * "help"; spaces and tabs around words are ignored, the line has no end of
 * line). 0, or -1 with err naming what is wrong. Every byte may be hostile:
 * nothing is read past len, and the result points into line.
 */
int ward_admin_parse(const char *line, size_t len, struct ward_admin_command *out, char *err,
                     size_t errlen);

#endif
