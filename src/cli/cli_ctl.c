/* SPDX-License-Identifier: BSD-2-Clause */
/* `ward ctl`: the control API's client on the command line. */
#include "ward/cli/cli_ctl.h"
#include "ward/cli/cli_util.h"
#include "ward/supervisor/control_api.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char ctl_usage[] =
    "usage: ward ctl [--socket PATH | FILE] OP [VM|NETWORK] [options]\n"
    "\n"
    "Talks to the supervisor of `ward system up` (docs/control-api.md). FILE is the\n"
    "system description (its linux.control_socket is used); default socket " WARD_SYS_DEFAULT_SOCKET
    ".\n"
    "\n"
    "ops: list, status [VM], start VM, stop VM, pause VM, resume VM, restart VM,\n"
    "     console VM, shutdown, net NETWORK (its switch and per-port counters)\n"
    "\n"
    "  --grace S      stop, restart, shutdown: seconds between SIGTERM and SIGKILL\n"
    "                 (default 10)\n"
    "  --bytes N      console: the last N bytes of the log (default 4096)\n"
    "  --attach       console: follow the log and send standard input to the VM's\n"
    "                 console; Ctrl-] detaches (on a terminal), or the end of\n"
    "                 standard input (after one more second of output)\n"
    "  --json         print the reply as JSON\n"
    "  --raw          send standard input as the request, unchecked (at most 1 MiB;\n"
    "                 for testing the supervisor), and print the reply as JSON\n"
    "\n"
    "Exit status: 0 when the reply is ok, 1 for an error reply, 2 for bad usage or\n"
    "no connection.\n";

static void print_vm(struct json_object *vm)
{
        struct json_object *v;
        const char *name =
            json_object_object_get_ex(vm, "name", &v) ? json_object_get_string(v) : "?";
        const char *state =
            json_object_object_get_ex(vm, "state", &v) ? json_object_get_string(v) : "?";
        char pid[32] = "-";
        if (json_object_object_get_ex(vm, "pid", &v) && v)
                snprintf(pid, sizeof(pid), "%d", json_object_get_int(v));
        long long restarts =
            json_object_object_get_ex(vm, "restarts", &v) ? (long long)json_object_get_int64(v) : 0;
        char last[48] = "-";
        if (json_object_object_get_ex(vm, "last_exit", &v) && v) {
                struct json_object *x;
                if (json_object_object_get_ex(v, "status", &x))
                        snprintf(last, sizeof(last), "status=%d", json_object_get_int(x));
                else if (json_object_object_get_ex(v, "signal", &x))
                        snprintf(last, sizeof(last), "signal=%d", json_object_get_int(x));
        }
        printf("%s state=%s pid=%s restarts=%lld last_exit=%s\n", name, state, pid, restarts, last);
}

/* One line for the switch, one per port: counters, then the drops that happened. */
static void print_network(struct json_object *n)
{
        struct json_object *v, *ports;
        json_object_object_get_ex(n, "switch_pid", &v);
        printf("%s switch_pid=%s restarts=",
               json_object_object_get_ex(n, "name", &ports) ? json_object_get_string(ports) : "?",
               v ? json_object_get_string(v) : "-");
        json_object_object_get_ex(n, "restarts", &v);
        printf("%s\n", v ? json_object_get_string(v) : "0");
        if (!json_object_object_get_ex(n, "ports", &ports))
                return;
        for (size_t i = 0; i < json_object_array_length(ports); i++) {
                struct json_object *p = json_object_array_get_idx(ports, i), *d;
                static const char *const f[] = {"vm",       "mac",       "rx_frames",
                                                "rx_bytes", "tx_frames", "tx_bytes"};
                for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
                        printf("%s%s=%s", k ? " " : "  ", f[k],
                               json_object_object_get_ex(p, f[k], &v) ? json_object_get_string(v)
                                                                      : "?");
                if (json_object_object_get_ex(p, "drops", &d)) {
                        json_object_object_foreach(d, key, val)
                        {
                                if (json_object_get_int64(val))
                                        printf(" drop_%s=%s", key, json_object_get_string(val));
                        }
                }
                printf("\n");
        }
}

static int reply_out(const char *reply, bool json)
{
        struct json_object *o = json_tokener_parse(reply);
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, "ok", &v)) {
                fprintf(stderr, "ward ctl: a malformed reply: %s", reply);
                json_object_put(o);
                return 2;
        }
        bool ok = json_object_get_boolean(v);
        if (json) {
                fputs(reply, stdout);
        } else if (!ok) {
                json_object_object_get_ex(o, "error", &v);
                fprintf(stderr, "ward ctl: %s\n", v ? json_object_get_string(v) : "error");
        } else if (json_object_object_get_ex(o, "vms", &v)) {
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        print_vm(json_object_array_get_idx(v, i));
        } else if (json_object_object_get_ex(o, "network", &v)) {
                print_network(v);
        } else if (json_object_object_get_ex(o, "data", &v)) {
                struct json_object *p;
                if (json_object_object_get_ex(o, "console_log", &p))
                        fprintf(stderr, "==> %s <==\n", json_object_get_string(p));
                fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v), stdout);
        }
        json_object_put(o);
        return ok ? 0 : 1;
}

/* One request, one reply printed; the exit status of `ward ctl`. */
static int call_and_print(const char *sock, const char *req, bool json)
{
        char *reply = NULL, err[512];
        if (ward_ctl_call(sock, req, -1, &reply, err, sizeof(err))) {
                fprintf(stderr, "ward ctl: %s\n", err);
                return 2;
        }
        int rc = reply_out(reply, json);
        free(reply);
        return rc;
}

/* Sends standard input as it is: the supervisor must cope with anything. */
static int raw_call(const char *sock)
{
        enum { RAW_MAX = 1 << 20 };
        char *req = malloc(RAW_MAX + 1);
        if (!req) {
                fprintf(stderr, "ward ctl: out of memory\n");
                return 2;
        }
        size_t n = fread(req, 1, RAW_MAX, stdin);
        if (ferror(stdin) || !feof(stdin) || memchr(req, '\0', n)) {
                fprintf(stderr, "ward ctl: --raw: standard input must be at most 1 MiB of text\n");
                free(req);
                return 2;
        }
        req[n] = '\0';
        int rc = call_and_print(sock, req, true);
        free(req);
        return rc;
}

struct ctl_args {
        const char *sock, *file, *op, *vm;
        int64_t grace, bytes;
        bool json, raw, attach;
};

/* --socket, --grace or --bytes with its value val: 0, or 2 (printed). */
static int value_option(const char *o, const char *val, struct ctl_args *a)
{
        if (!strcmp(o, "--socket")) {
                a->sock = val;
        } else if (!strcmp(o, "--grace")) {
                if (ward_cli_parse_seconds_ms(val, &a->grace)) {
                        fprintf(stderr, "ward ctl: --grace %s: seconds from 0 to 3600\n", val);
                        return 2;
                }
        } else {
                char *end;
                errno = 0;
                long long n = strtoll(val, &end, 10);
                if (errno || *end || end == val || n < 0 || n > WARD_CTL_MAX_CONSOLE_BYTES) {
                        fprintf(stderr, "ward ctl: --bytes %s: 0 to %d\n", val,
                                WARD_CTL_MAX_CONSOLE_BYTES);
                        return 2;
                }
                a->bytes = n;
        }
        return 0;
}

/* The arguments, and which go together: -1 when they are good, else the
 * exit status (after printing the help or the problem). */
static int parse_args(int argc, char *const argv[], struct ctl_args *a)
{
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
                        fputs(ctl_usage, stdout);
                        return 0;
                } else if (!strcmp(s, "--json")) {
                        a->json = true;
                } else if (!strcmp(s, "--raw")) {
                        a->raw = true;
                } else if (!strcmp(s, "--attach")) {
                        a->attach = true;
                } else if (!strcmp(s, "--socket") || !strcmp(s, "--grace") ||
                           !strcmp(s, "--bytes")) {
                        if (i + 1 == argc) {
                                fprintf(stderr, "ward ctl: %s: needs a value\n", s);
                                return 2;
                        }
                        if (value_option(s, argv[++i], a))
                                return 2;
                } else if (s[0] == '-' && s[1]) {
                        fprintf(stderr, "ward ctl: %s: unknown option (see ward ctl --help)\n", s);
                        return 2;
                } else if (!a->op && !a->file && !a->sock && ward_ctl_op_from_name(s) < 0) {
                        a->file = s;
                } else if (!a->op) {
                        a->op = s;
                } else if (!a->vm) {
                        a->vm = s;
                } else {
                        fprintf(stderr, "ward ctl: %s: unexpected argument\n", s);
                        return 2;
                }
        }
        if (a->raw && (a->op || a->vm || a->grace >= 0 || a->bytes >= 0)) {
                fprintf(stderr, "ward ctl: --raw takes the whole request from standard input\n");
                return 2;
        }
        if (!a->op && !a->raw) {
                fprintf(stderr, "ward ctl: which op? (see ward ctl --help)\n");
                return 2;
        }
        if (a->attach && (a->raw || a->json || strcmp(a->op, "console") || !a->vm)) {
                fprintf(stderr, "ward ctl: --attach goes with console VM (and not --json)\n");
                return 2;
        }
        return -1;
}

int ward_cli_ctl(int argc, char *const argv[])
{
        struct ctl_args a = {.grace = -1, .bytes = -1};
        int usage = parse_args(argc, argv, &a);
        if (usage >= 0)
                return usage;
        const char *sock = a.sock, *file = a.file, *op = a.op, *vm = a.vm;
        int64_t grace = a.grace, bytes = a.bytes;
        bool json = a.json, raw = a.raw, attach = a.attach;
        char path[PATH_MAX], err[512];
        if (file) {
                if (ward_ctl_socket_of(file, path, sizeof(path), err, sizeof(err))) {
                        fprintf(stderr, "ward ctl: %s\n", err);
                        return 2;
                }
                sock = path;
        }
        if (!sock)
                sock = WARD_SYS_DEFAULT_SOCKET;
        if (raw)
                return raw_call(sock);
        if (attach)
                return ward_ctl_attach(sock, vm, bytes);
        /* The request is built as JSON; the supervisor checks the rest. */
        struct json_object *r = json_object_new_object();
        json_object_object_add(r, "api", json_object_new_int(WARD_CTL_API));
        json_object_object_add(r, "op", json_object_new_string(op));
        if (vm)
                json_object_object_add(r, strcmp(op, "net") ? "vm" : "network",
                                       json_object_new_string(vm));
        if (grace >= 0)
                json_object_object_add(r, "grace_ms", json_object_new_int64(grace));
        if (bytes >= 0)
                json_object_object_add(r, "bytes", json_object_new_int64(bytes));
        int rc =
            call_and_print(sock, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), json);
        json_object_put(r);
        return rc;
}
