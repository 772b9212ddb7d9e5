/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin protection domain: starts, stops, pauses, resumes and restarts
 * the system's VMs at run time, within what each VM's policy allows, as
 * `ward ctl` does on Linux. It takes commands from its own console on the
 * serial PD (Ctrl-E 0; prompt "ward> "), checks each against the policy
 * with the same code as the Linux control API (src/common/policy.c), and
 * calls the VM's ward PD (a protected procedure call on channel 1 + k,
 * k the VMM's place in the system), which carries it out.
 *
 * What it can reach: its console port and those channels. It maps no VM's
 * memory and no backend's; a VMM answers it with numbers only.
 *
 * Built per system by `ward system sel4` (vms.mk: ADMIN_VMS): ADMIN_NVMS
 * VMs named ADMIN_NAMES, whose policies allow ADMIN_ALLOW.
 */
#include <microkit.h>

#include "guest_layout.h" /* SERIAL_PORT_BYTES, SERIAL_RING_BYTES */

#include "ward/common/admin_call.h"
#include "ward/common/policy.h"
#include "ward/port/port_console.h"
#include "ward/util/util.h"

#ifndef ADMIN_NVMS
#error "ADMIN_NVMS, ADMIN_NAMES and ADMIN_ALLOW come from vms.mk (ward system sel4)"
#endif

#define CH_SERIAL 0
#define CH_VMM_FIRST 1

uintptr_t serial_port_vaddr; /* setvar: this PD's console on the serial PD */

static const char *const names[ADMIN_NVMS] = ADMIN_NAMES;
static const unsigned allow[ADMIN_NVMS] = ADMIN_ALLOW;
static struct ward_console_port con;
static char line[128];
static size_t len;
static bool too_long;

static void say(const char *s)
{
        ward_console_port_write(&con, s, (uint32_t)strlen(s));
}

static void notify_serial(void *o)
{
        (void)o;
        microkit_notify(CH_SERIAL);
}

static int find(const char *vm, size_t n)
{
        for (int i = 0; i < ADMIN_NVMS; i++)
                if (strlen(names[i]) == n && memcmp(names[i], vm, n) == 0)
                        return i;
        return -1;
}

/* Calls VM k's ward PD with op; its result, state and restarts. */
static unsigned call(int k, unsigned op, unsigned *state, unsigned *restarts)
{
        microkit_mr_set(0, op);
        microkit_msginfo r =
            microkit_ppcall(CH_VMM_FIRST + (microkit_channel)k, microkit_msginfo_new(0, 1));
        if (microkit_msginfo_get_label(r) != 0)
                return WARD_ADMIN_NOT_RUNNING;
        *state = (unsigned)microkit_mr_get(1);
        *restarts = (unsigned)microkit_mr_get(2);
        return (unsigned)microkit_mr_get(0);
}

static const char *state_name(unsigned s)
{
        static const char *const n[WARD_ADMIN_NSTATES] = {"running", "paused", "stopped",
                                                          "starting"};
        return s < WARD_ADMIN_NSTATES ? n[s] : "unknown";
}

static void status(void)
{
        char out[160];
        for (int k = 0; k < ADMIN_NVMS; k++) {
                unsigned st = WARD_ADMIN_NSTATES, restarts = 0;
                call(k, WARD_ADMIN_CALL_STATUS, &st, &restarts);
                ward_fmt(out, sizeof(out), "%s state=%s restarts=%u\r\n", names[k], state_name(st),
                         restarts);
                say(out);
        }
}

static void run(const struct ward_admin_command *c)
{
        char out[200], vm[64];
        size_t n = c->vmlen < sizeof(vm) - 1 ? c->vmlen : sizeof(vm) - 1;
        memcpy(vm, c->vm, n);
        vm[n] = '\0';
        int k = find(c->vm, c->vmlen);
        if (k < 0) {
                ward_fmt(out, sizeof(out), "error: unknown vm '%s'\r\n", vm);
                say(out);
                return;
        }
        if (ward_policy_check(names[k], allow[k], c->op, out, sizeof(out) - 2)) {
                say("error: ");
                say(out);
                say("\r\n");
                return;
        }
        unsigned st = WARD_ADMIN_NSTATES, restarts = 0; /* "unknown" if the call fails */
        unsigned r = call(k, c->op, &st, &restarts);
        static const char *const why[WARD_ADMIN_NRESULTS] = {
            "ok", "it is so already", "it is not running", "it is not paused",
            "starting once its disk is idle"};
        ward_fmt(out, sizeof(out), "%s: %s %s: %s (now %s)\r\n",
                 r == WARD_ADMIN_DONE ? "ok" : "note", ward_policy_op_names[c->op], names[k],
                 r < WARD_ADMIN_NRESULTS ? why[r] : "?", state_name(st));
        say(out);
}

static void execute(void)
{
        struct ward_admin_command c;
        char err[120];
        if (too_long) {
                say("error: a line of at most 127 bytes\r\n");
        } else if (ward_admin_parse(line, len, &c, err, sizeof(err))) {
                say("error: ");
                say(err);
                say("\r\n");
        } else if (c.cmd == WARD_ADMIN_OP) {
                run(&c);
        } else if (c.cmd == WARD_ADMIN_STATUS) {
                status();
        } else if (c.cmd == WARD_ADMIN_HELP) {
                say("commands: start VM, stop VM, pause VM, resume VM, restart VM, status, "
                    "help\r\n");
        }
        len = 0;
        too_long = false;
        say("ward> ");
}

/* Typed bytes: echoed, edited (backspace), run at the end of the line. */
static uint32_t typed(void *o, const void *buf, uint32_t n)
{
        (void)o;
        const char *b = buf;
        for (uint32_t i = 0; i < n; i++) {
                char c = b[i];
                if (c == '\r' || c == '\n') {
                        say("\r\n");
                        execute();
                } else if (c == 0x7f || c == '\b') {
                        if (len) {
                                len--;
                                say("\b \b");
                        }
                } else if (len < sizeof(line) - 1) { /* 127 bytes, as the error says */
                        line[len++] = c;
                        if (c >= 0x20 && c < 0x7f)
                                ward_console_port_write(&con, &c, 1);
                } else {
                        too_long = true;
                }
        }
        return n;
}

void init(void)
{
        struct ward_port_notify n = {notify_serial, NULL};
        ward_console_port_init(&con, (void *)serial_port_vaddr, SERIAL_PORT_BYTES,
                               SERIAL_RING_BYTES, WARD_PORT_CLIENT, &n);
        say("ward admin console: start, stop, pause, resume, restart VM; status; help\r\nward> ");
}

void notified(microkit_channel ch)
{
        if (ch == CH_SERIAL)
                ward_console_port_poll(&con, typed, NULL);
}
