/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward ctl console VM --attach`: a terminal on a VM's console through the
 * control API alone. Each turn is one `console` request that carries what
 * was typed (`input`) and asks for the log from where the last reply ended
 * (`from`), so the supervisor keeps no per-client state and a client that
 * dies leaves nothing behind.
 */
#include "ward/cli/cli_ctl.h"
#include "ward/supervisor/control_api.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define DETACH_KEY 0x1d  /* Ctrl-] as in telnet and virsh console */
#define IDLE_POLL_MS 100 /* how often the log is read when nothing is typed */
#define LINGER_MS 1000   /* after standard input ends, output is followed this long */
#define CALL_TIMEOUT_MS 10000

static struct termios saved_tty;
static bool tty_raw;

static void restore_tty(void)
{
        if (tty_raw)
                tcsetattr(0, TCSAFLUSH, &saved_tty);
        tty_raw = false;
}

static void on_signal(int sig)
{
        restore_tty();
        signal(sig, SIG_DFL);
        raise(sig);
}

/* A terminal on stdin goes raw, so keys reach the guest as typed. */
static void make_raw(void)
{
        if (!isatty(0) || tcgetattr(0, &saved_tty))
                return;
        struct termios t = saved_tty;
        cfmakeraw(&t);
        t.c_oflag |= OPOST | ONLCR; /* our own messages still start at column 0 */
        if (tcsetattr(0, TCSAFLUSH, &t))
                return;
        tty_raw = true;
        atexit(restore_tty);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
}

/*
 * One turn: sends input (n bytes) and asks for the log from *next (or its
 * last `bytes` when *next < 0). Prints the data. Returns 0 and the VM's state
 * in state, 1 for an error reply (printed), 2 for no connection.
 */
static int turn(const char *sock, const char *vm, const char *input, size_t n, int64_t *next,
                int64_t bytes, char *state, size_t statelen)
{
        struct json_object *r = json_object_new_object();
        json_object_object_add(r, "api", json_object_new_int(WARD_CTL_API));
        json_object_object_add(r, "op", json_object_new_string("console"));
        json_object_object_add(r, "vm", json_object_new_string(vm));
        if (*next >= 0)
                json_object_object_add(r, "from", json_object_new_int64(*next));
        json_object_object_add(
            r, "bytes", json_object_new_int64(*next >= 0 ? WARD_CTL_MAX_CONSOLE_BYTES : bytes));
        if (n)
                json_object_object_add(r, "input", json_object_new_string_len(input, (int)n));
        char *reply = NULL, err[512];
        int rc = ward_ctl_call(sock, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
                               CALL_TIMEOUT_MS, &reply, err, sizeof(err));
        json_object_put(r);
        if (rc) {
                restore_tty();
                fprintf(stderr, "ward ctl: %s\n", err);
                return 2;
        }
        struct json_object *o = json_tokener_parse(reply), *v;
        free(reply);
        if (!o || !json_object_object_get_ex(o, "ok", &v)) {
                restore_tty();
                fprintf(stderr, "ward ctl: a malformed reply\n");
                json_object_put(o);
                return 2;
        }
        if (!json_object_get_boolean(v)) {
                restore_tty();
                json_object_object_get_ex(o, "error", &v);
                fprintf(stderr, "ward ctl: %s\n", v ? json_object_get_string(v) : "error");
                json_object_put(o);
                return 1;
        }
        if (json_object_object_get_ex(o, "data", &v)) {
                fwrite(json_object_get_string(v), 1, (size_t)json_object_get_string_len(v), stdout);
                fflush(stdout);
        }
        if (json_object_object_get_ex(o, "next", &v))
                *next = json_object_get_int64(v);
        if (json_object_object_get_ex(o, "state", &v))
                snprintf(state, statelen, "%s", json_object_get_string(v));
        json_object_put(o);
        return 0;
}

int ward_ctl_attach(const char *sock, const char *vm, int64_t bytes)
{
        char state[32] = "";
        int64_t next = -1;
        int rc = turn(sock, vm, NULL, 0, &next, bytes < 0 ? 0 : bytes, state, sizeof(state));
        if (rc)
                return rc;
        make_raw();
        fprintf(stderr, "ward ctl: attached to vm %s (%s)%s\n", vm, state,
                tty_raw ? "; Ctrl-] detaches" : "");
        bool eof = false;
        int64_t linger_until = 0;
        for (;;) {
                if (strcmp(state, "running") && strcmp(state, "paused")) {
                        restore_tty();
                        fprintf(stderr, "ward ctl: vm %s is %s\n", vm, state);
                        return 0;
                }
                if (eof && ward_ctl_now_ms() >= linger_until)
                        break;
                char in[WARD_CTL_MAX_INPUT];
                size_t n = 0;
                struct pollfd p = {.fd = 0, .events = POLLIN};
                if (!eof && poll(&p, 1, IDLE_POLL_MS) > 0) {
                        ssize_t r = read(0, in, sizeof(in));
                        if (r < 0 && errno == EINTR)
                                continue;
                        if (r <= 0) {
                                eof = true;
                                linger_until = ward_ctl_now_ms() + LINGER_MS;
                        } else {
                                n = (size_t)r;
                        }
                } else if (eof) {
                        usleep(IDLE_POLL_MS * 1000);
                }
                char *key = tty_raw && n ? memchr(in, DETACH_KEY, n) : NULL;
                if (key)
                        n = (size_t)(key - in);
                rc = turn(sock, vm, in, n, &next, 0, state, sizeof(state));
                if (rc)
                        return rc;
                if (key)
                        break;
        }
        restore_tty();
        fprintf(stderr, "\nward ctl: detached from vm %s\n", vm);
        return 0;
}
