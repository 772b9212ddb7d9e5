/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API's pure parts: request parsing and validation, and the
 * policy check (docs/control-api.md). control_client.c is the client side.
 */
#include "ward/supervisor/control_api.h"
#include "ward/common/policy.h"
#include "ward/desc/json_strict.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *const op_names[WARD_CTL_NOPS] = {
    "list", "status", "start", "stop", "pause", "resume", "restart", "console", "shutdown", "net",
};

_Static_assert((int)WARD_SYS_NOPS == (int)WARD_POLICY_NOPS &&
                   (int)WARD_SYS_OP_RESTART == (int)WARD_POLICY_RESTART,
               "one list of run-time operations");

const char *ward_ctl_op_name(enum ward_ctl_op op)
{
        return (unsigned)op < WARD_CTL_NOPS ? op_names[op] : NULL;
}

int ward_ctl_op_from_name(const char *name)
{
        for (int i = 0; i < WARD_CTL_NOPS; i++)
                if (strcmp(name, op_names[i]) == 0)
                        return i;
        return -1;
}

/* Copies s (n bytes) to out with bytes outside printable ASCII as \xNN,
 * cut to at most 40 source bytes ("..." then). */
static void shown(char *out, size_t size, const char *s, size_t n)
{
        size_t o = 0;
        for (size_t i = 0; i < n && o + 8 < size; i++) {
                if (i == 40) {
                        o += (size_t)snprintf(out + o, size - o, "...");
                        break;
                }
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x20 && c < 0x7f)
                        out[o++] = (char)c;
                else
                        o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        }
        out[o] = '\0';
}

static bool takes_vm(enum ward_ctl_op op)
{
        return op != WARD_CTL_LIST && op != WARD_CTL_SHUTDOWN && op != WARD_CTL_NET;
}

static bool needs_vm(enum ward_ctl_op op)
{
        return takes_vm(op) && op != WARD_CTL_STATUS;
}

static bool takes_grace(enum ward_ctl_op op)
{
        return op == WARD_CTL_STOP || op == WARD_CTL_RESTART || op == WARD_CTL_SHUTDOWN;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
        snprintf(err, errlen, fmt, a, b);
        return -1;
}

static int get_int(struct json_object *v, const char *name, int64_t lo, int64_t hi, int64_t *out,
                   char *err, size_t errlen)
{
        char range[64];
        snprintf(range, sizeof(range), "%lld to %lld", (long long)lo, (long long)hi);
        if (!json_object_is_type(v, json_type_int))
                return fail(err, errlen, "'%s' must be an integer from %s", name, range);
        errno = 0;
        int64_t x = json_object_get_int64(v);
        /* json-c clamps out-of-range integers to INT64_MIN/MAX. */
        if (x < lo || x > hi || (errno == ERANGE))
                return fail(err, errlen, "'%s' must be an integer from %s", name, range);
        *out = x;
        return 0;
}

/* The request's JSON object, strictly parsed; NULL with err. */
static struct json_object *request_json(const char *text, size_t len, char *err, size_t errlen)
{
        if (len > WARD_CTL_MAX_REQUEST) {
                snprintf(err, errlen, "the request is larger than %d bytes", WARD_CTL_MAX_REQUEST);
                return NULL;
        }
        if (len && text[len - 1] == '\n')
                len--;
        if (memchr(text, '\n', len) || memchr(text, '\0', len)) {
                fail(err, errlen, "the request is not valid JSON%s%s", "", "");
                return NULL;
        }
        enum json_tokener_error jerr;
        size_t end;
        bool oom;
        struct json_object *root = ward_json_parse_strict(text, len, &jerr, &end, &oom);
        if (oom) {
                fail(err, errlen, "out of memory%s%s", "", "");
                return NULL;
        }
        if (jerr != json_tokener_success || end != len) {
                json_object_put(root);
                fail(err, errlen, "the request is not valid JSON%s%s", "", "");
                return NULL;
        }
        if (!json_object_is_type(root, json_type_object)) {
                fail(err, errlen, "the request is not a JSON object%s%s", "", "");
                json_object_put(root);
                return NULL;
        }
        return root;
}

/* Unknown fields first, so that a misspelt field is named. */
static int known_fields(struct json_object *root, char *err, size_t errlen)
{
        json_object_object_foreach(root, key, val)
        {
                (void)val;
                if (strcmp(key, "api") && strcmp(key, "op") && strcmp(key, "vm") &&
                    strcmp(key, "grace_ms") && strcmp(key, "bytes") && strcmp(key, "from") &&
                    strcmp(key, "input") && strcmp(key, "network")) {
                        char k[200];
                        shown(k, sizeof(k), key, strlen(key));
                        return fail(err, errlen,
                                    "unknown field '%s' (a request has api, op, vm, network, "
                                    "grace_ms, bytes, from, input)%s",
                                    k, "");
                }
        }
        return 0;
}

/* "api" and "op". */
static int parse_op(struct json_object *root, struct ward_ctl_request *req, char *err,
                    size_t errlen)
{
        struct json_object *v;
        if (!json_object_object_get_ex(root, "api", &v))
                return fail(err, errlen, "missing field 'api' (this ward speaks api 1)%s%s", "",
                            "");
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != WARD_CTL_API)
                return fail(err, errlen, "'api' must be 1 (this ward speaks api 1)%s%s", "", "");
        if (!json_object_object_get_ex(root, "op", &v))
                return fail(err, errlen, "missing field 'op'%s%s", "", "");
        if (!json_object_is_type(v, json_type_string))
                return fail(err, errlen, "'op' must be a string%s%s", "", "");
        const char *op = json_object_get_string(v);
        size_t oplen = (size_t)json_object_get_string_len(v);
        int o = oplen == strlen(op) ? ward_ctl_op_from_name(op) : -1;
        if (o < 0) {
                char s[200];
                shown(s, sizeof(s), op, oplen);
                return fail(err, errlen,
                            "unknown op '%s' (expected list, status, start, stop, pause, resume, "
                            "restart, console, shutdown or net)%s",
                            s, "");
        }
        req->op = (enum ward_ctl_op)o;
        return 0;
}

static int parse_vm(struct json_object *root, struct ward_ctl_request *req, char *err,
                    size_t errlen)
{
        struct json_object *v;
        const char *opn = op_names[req->op];
        if (!json_object_object_get_ex(root, "vm", &v)) {
                if (needs_vm(req->op))
                        return fail(err, errlen, "op '%s' needs 'vm'%s", opn, "");
                return 0;
        }
        if (!takes_vm(req->op))
                return fail(err, errlen, "op '%s' takes no 'vm'%s", opn, "");
        if (!json_object_is_type(v, json_type_string))
                return fail(err, errlen, "'vm' must be a string%s%s", "", "");
        const char *name = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (n == 0 || n > WARD_SYS_MAX_NAME || n != strlen(name)) {
                char s[200];
                shown(s, sizeof(s), name, n);
                return fail(err, errlen, "unknown vm '%s'%s", s, "");
        }
        memcpy(req->vm, name, n + 1);
        return 0;
}

/* "network": the net op's, and only its. */
static int parse_network(struct json_object *root, struct ward_ctl_request *req, char *err,
                         size_t errlen)
{
        struct json_object *v;
        if (!json_object_object_get_ex(root, "network", &v)) {
                if (req->op == WARD_CTL_NET)
                        return fail(err, errlen, "op 'net' needs 'network'%s%s", "", "");
                return 0;
        }
        if (req->op != WARD_CTL_NET)
                return fail(err, errlen, "op '%s' takes no 'network'%s", op_names[req->op], "");
        if (!json_object_is_type(v, json_type_string))
                return fail(err, errlen, "'network' must be a string%s%s", "", "");
        const char *name = json_object_get_string(v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (n == 0 || n > WARD_SYS_MAX_NAME || n != strlen(name)) {
                char s[200];
                shown(s, sizeof(s), name, n);
                return fail(err, errlen, "unknown network '%s'%s", s, "");
        }
        memcpy(req->network, name, n + 1);
        return 0;
}

/* An integer field that only some ops take: absent, or within lo..hi. */
static int parse_int_field(struct json_object *root, const char *name, bool taken,
                           enum ward_ctl_op op, int64_t lo, int64_t hi, int64_t *out, char *err,
                           size_t errlen)
{
        struct json_object *v;
        if (!json_object_object_get_ex(root, name, &v))
                return 0;
        if (!taken)
                return fail(err, errlen, "op '%s' takes no '%s'", op_names[op], name);
        return get_int(v, name, lo, hi, out, err, errlen);
}

/* grace_ms (stop, restart, shutdown), bytes and from (console). */
static int parse_numbers(struct json_object *root, struct ward_ctl_request *req, char *err,
                         size_t errlen)
{
        bool console = req->op == WARD_CTL_CONSOLE;
        if (parse_int_field(root, "grace_ms", takes_grace(req->op), req->op, 0,
                            WARD_CTL_MAX_GRACE_MS, &req->grace_ms, err, errlen) ||
            parse_int_field(root, "bytes", console, req->op, 0, WARD_CTL_MAX_CONSOLE_BYTES,
                            &req->bytes, err, errlen))
                return -1;
        return parse_int_field(root, "from", console, req->op, 0, INT64_MAX, &req->from, err,
                               errlen);
}

static int parse_input(struct json_object *root, struct ward_ctl_request *req, char *err,
                       size_t errlen)
{
        struct json_object *v;
        if (!json_object_object_get_ex(root, "input", &v))
                return 0;
        if (req->op != WARD_CTL_CONSOLE)
                return fail(err, errlen, "op '%s' takes no 'input'%s", op_names[req->op], "");
        if (!json_object_is_type(v, json_type_string))
                return fail(err, errlen, "'input' must be a string%s%s", "", "");
        size_t n = (size_t)json_object_get_string_len(v);
        if (n > WARD_CTL_MAX_INPUT) {
                char lim[32];
                snprintf(lim, sizeof(lim), "%d", WARD_CTL_MAX_INPUT);
                return fail(err, errlen, "'input' is longer than %s bytes%s", lim, "");
        }
        memcpy(req->input, json_object_get_string(v), n);
        req->input_len = n;
        return 0;
}

int ward_ctl_parse_request(const char *text, size_t len, struct ward_ctl_request *req, char *err,
                           size_t errlen)
{
        memset(req, 0, sizeof(*req));
        req->grace_ms = WARD_CTL_DEFAULT_GRACE_MS;
        req->bytes = WARD_CTL_DEFAULT_CONSOLE_BYTES;
        req->from = -1;
        struct json_object *root = request_json(text, len, err, errlen);
        if (!root)
                return -1;
        int rc = -1;
        if (!known_fields(root, err, errlen) && !parse_op(root, req, err, errlen) &&
            !parse_vm(root, req, err, errlen) && !parse_numbers(root, req, err, errlen) &&
            !parse_input(root, req, err, errlen) && !parse_network(root, req, err, errlen))
                rc = 0;
        json_object_put(root);
        return rc;
}

int ward_ctl_policy_check(const struct ward_sys_vm *vm, enum ward_sys_op op, char *err,
                          size_t errlen)
{
        return ward_policy_check(vm->name, vm->policy.allow, (unsigned)op, err, errlen);
}

int ward_ctl_validate(const struct ward_ctl_request *req, const struct ward_sys_desc *d, char *err,
                      size_t errlen)
{
        if (req->op == WARD_CTL_NET) {
                for (size_t k = 0; k < d->nnetworks; k++)
                        if (d->networks[k].name && !strcmp(d->networks[k].name, req->network))
                                return 0;
                char s[200];
                shown(s, sizeof(s), req->network, strlen(req->network));
                return fail(err, errlen, "unknown network '%s'%s", s, "");
        }
        if (!req->vm[0])
                return 0;
        long i = ward_sys_find_vm(d, req->vm);
        if (i < 0) {
                char s[200];
                shown(s, sizeof(s), req->vm, strlen(req->vm));
                return fail(err, errlen, "unknown vm '%s'%s", s, "");
        }
        static const int map[WARD_CTL_NOPS] = {
            [WARD_CTL_LIST] = -1,
            [WARD_CTL_STATUS] = -1,
            [WARD_CTL_START] = WARD_SYS_OP_START,
            [WARD_CTL_STOP] = WARD_SYS_OP_STOP,
            [WARD_CTL_PAUSE] = WARD_SYS_OP_PAUSE,
            [WARD_CTL_RESUME] = WARD_SYS_OP_RESUME,
            [WARD_CTL_RESTART] = WARD_SYS_OP_RESTART,
            [WARD_CTL_CONSOLE] = -1,
            [WARD_CTL_SHUTDOWN] = -1,
            [WARD_CTL_NET] = -1,
        };
        int sop = map[req->op];
        if (sop < 0)
                return 0;
        return ward_ctl_policy_check(&d->vms[i], (enum ward_sys_op)sop, err, errlen);
}
