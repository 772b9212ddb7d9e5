/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API's pure parts: request parsing and validation, the policy
 * check (docs/control-api.md), and the client side of the socket.
 */
#include "ward/supervisor/control_api.h"

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
    "list", "status", "start", "stop", "pause", "resume", "restart", "console", "shutdown",
};

static const char *const sys_op_names[WARD_SYS_NOPS] = {
    "start", "stop", "pause", "resume", "restart",
};

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
        return op != WARD_CTL_LIST && op != WARD_CTL_SHUTDOWN;
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

int ward_ctl_parse_request(const char *text, size_t len, struct ward_ctl_request *req, char *err,
                           size_t errlen)
{
        memset(req, 0, sizeof(*req));
        req->grace_ms = WARD_CTL_DEFAULT_GRACE_MS;
        req->bytes = WARD_CTL_DEFAULT_CONSOLE_BYTES;
        req->from = -1;
        if (len > WARD_CTL_MAX_REQUEST) {
                snprintf(err, errlen, "the request is larger than %d bytes", WARD_CTL_MAX_REQUEST);
                return -1;
        }
        if (len && text[len - 1] == '\n')
                len--;
        if (memchr(text, '\n', len) || memchr(text, '\0', len))
                return fail(err, errlen, "the request is not valid JSON%s%s", "", "");
        struct json_tokener *tok = json_tokener_new();
        if (!tok)
                return fail(err, errlen, "out of memory%s%s", "", "");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (jerr != json_tokener_success || end != len) {
                json_object_put(root);
                return fail(err, errlen, "the request is not valid JSON%s%s", "", "");
        }
        int rc = -1;
        if (!json_object_is_type(root, json_type_object)) {
                fail(err, errlen, "the request is not a JSON object%s%s", "", "");
                goto out;
        }
        /* Unknown fields first, so that a misspelt field is named. */
        json_object_object_foreach(root, key, val)
        {
                (void)val;
                if (strcmp(key, "api") && strcmp(key, "op") && strcmp(key, "vm") &&
                    strcmp(key, "grace_ms") && strcmp(key, "bytes") && strcmp(key, "from") &&
                    strcmp(key, "input")) {
                        char k[200];
                        shown(k, sizeof(k), key, strlen(key));
                        fail(err, errlen,
                             "unknown field '%s' (a request has api, op, vm, grace_ms, bytes, "
                             "from, input)%s",
                             k, "");
                        goto out;
                }
        }
        struct json_object *v;
        if (!json_object_object_get_ex(root, "api", &v)) {
                fail(err, errlen, "missing field 'api' (this ward speaks api 1)%s%s", "", "");
                goto out;
        }
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != WARD_CTL_API) {
                fail(err, errlen, "'api' must be 1 (this ward speaks api 1)%s%s", "", "");
                goto out;
        }
        if (!json_object_object_get_ex(root, "op", &v)) {
                fail(err, errlen, "missing field 'op'%s%s", "", "");
                goto out;
        }
        if (!json_object_is_type(v, json_type_string)) {
                fail(err, errlen, "'op' must be a string%s%s", "", "");
                goto out;
        }
        const char *op = json_object_get_string(v);
        size_t oplen = (size_t)json_object_get_string_len(v);
        int o = oplen == strlen(op) ? ward_ctl_op_from_name(op) : -1;
        if (o < 0) {
                char s[200];
                shown(s, sizeof(s), op, oplen);
                fail(err, errlen,
                     "unknown op '%s' (expected list, status, start, stop, pause, resume, "
                     "restart, console or shutdown)%s",
                     s, "");
                goto out;
        }
        req->op = (enum ward_ctl_op)o;
        if (json_object_object_get_ex(root, "vm", &v)) {
                if (!takes_vm(req->op)) {
                        fail(err, errlen, "op '%s' takes no 'vm'%s", op_names[o], "");
                        goto out;
                }
                if (!json_object_is_type(v, json_type_string)) {
                        fail(err, errlen, "'vm' must be a string%s%s", "", "");
                        goto out;
                }
                const char *name = json_object_get_string(v);
                size_t n = (size_t)json_object_get_string_len(v);
                if (n == 0 || n > WARD_SYS_MAX_NAME || n != strlen(name)) {
                        char s[200];
                        shown(s, sizeof(s), name, n);
                        fail(err, errlen, "unknown vm '%s'%s", s, "");
                        goto out;
                }
                memcpy(req->vm, name, n + 1);
        } else if (needs_vm(req->op)) {
                fail(err, errlen, "op '%s' needs 'vm'%s", op_names[o], "");
                goto out;
        }
        if (json_object_object_get_ex(root, "grace_ms", &v)) {
                if (!takes_grace(req->op)) {
                        fail(err, errlen, "op '%s' takes no 'grace_ms'%s", op_names[o], "");
                        goto out;
                }
                if (get_int(v, "grace_ms", 0, WARD_CTL_MAX_GRACE_MS, &req->grace_ms, err, errlen))
                        goto out;
        }
        if (json_object_object_get_ex(root, "bytes", &v)) {
                if (req->op != WARD_CTL_CONSOLE) {
                        fail(err, errlen, "op '%s' takes no 'bytes'%s", op_names[o], "");
                        goto out;
                }
                if (get_int(v, "bytes", 0, WARD_CTL_MAX_CONSOLE_BYTES, &req->bytes, err, errlen))
                        goto out;
        }
        if (json_object_object_get_ex(root, "from", &v)) {
                if (req->op != WARD_CTL_CONSOLE) {
                        fail(err, errlen, "op '%s' takes no 'from'%s", op_names[o], "");
                        goto out;
                }
                if (get_int(v, "from", 0, INT64_MAX, &req->from, err, errlen))
                        goto out;
        }
        if (json_object_object_get_ex(root, "input", &v)) {
                if (req->op != WARD_CTL_CONSOLE) {
                        fail(err, errlen, "op '%s' takes no 'input'%s", op_names[o], "");
                        goto out;
                }
                if (!json_object_is_type(v, json_type_string)) {
                        fail(err, errlen, "'input' must be a string%s%s", "", "");
                        goto out;
                }
                size_t n = (size_t)json_object_get_string_len(v);
                if (n > WARD_CTL_MAX_INPUT) {
                        char lim[32];
                        snprintf(lim, sizeof(lim), "%d", WARD_CTL_MAX_INPUT);
                        fail(err, errlen, "'input' is longer than %s bytes%s", lim, "");
                        goto out;
                }
                memcpy(req->input, json_object_get_string(v), n);
                req->input_len = n;
        }
        rc = 0;
out:
        json_object_put(root);
        return rc;
}

int ward_ctl_policy_check(const struct ward_sys_vm *vm, enum ward_sys_op op, char *err,
                          size_t errlen)
{
        if (vm->policy.allow & (1u << op))
                return 0;
        char list[80] = "";
        size_t n = 0;
        for (int i = 0; i < WARD_SYS_NOPS; i++)
                if (vm->policy.allow & (1u << i))
                        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
                                              sys_op_names[i]);
        snprintf(err, errlen, "vm %s: '%s' is not in policy.allow [%s]", vm->name, sys_op_names[op],
                 list);
        return -1;
}

int ward_ctl_validate(const struct ward_ctl_request *req, const struct ward_sys_desc *d, char *err,
                      size_t errlen)
{
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
        };
        int sop = map[req->op];
        if (sop < 0)
                return 0;
        return ward_ctl_policy_check(&d->vms[i], (enum ward_sys_op)sop, err, errlen);
}

static int connect_to(const char *path, char *err, size_t errlen)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(a.sun_path)) {
                snprintf(err, errlen, "%s: socket path too long", path);
                return -1;
        }
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(err, errlen, "socket: %s", strerror(errno));
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
                snprintf(err, errlen, "%s: %s (is the system up?)", path, strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}

bool ward_ctl_socket_alive(const char *socket_path)
{
        char err[256];
        int fd = connect_to(socket_path, err, sizeof(err));
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int64_t ward_ctl_now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int ward_ctl_call(const char *socket_path, const char *request, int timeout_ms, char **reply,
                  char *err, size_t errlen)
{
        *reply = NULL;
        int fd = connect_to(socket_path, err, errlen);
        if (fd < 0)
                return -1;
        size_t len = strlen(request), off = 0;
        while (off < len) {
                ssize_t w = send(fd, request + off, len - off, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        snprintf(err, errlen, "%s: send: %s", socket_path, strerror(errno));
                        close(fd);
                        return -1;
                }
                off += (size_t)w;
        }
        if (len == 0 || request[len - 1] != '\n')
                (void)send(fd, "\n", 1, MSG_NOSIGNAL);
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        int64_t deadline = timeout_ms < 0 ? -1 : ward_ctl_now_ms() + timeout_ms;
        for (;;) {
                if (!buf) {
                        snprintf(err, errlen, "out of memory");
                        break;
                }
                if (n + 1 >= cap) {
                        if (cap >= (8u << 20)) {
                                snprintf(err, errlen, "%s: the reply is too large", socket_path);
                                break;
                        }
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                continue;
                        }
                        buf = nb;
                        cap *= 2;
                }
                int wait = -1;
                if (deadline >= 0) {
                        int64_t left = deadline - ward_ctl_now_ms();
                        wait = left > 0 ? (int)left : 0;
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int pr = poll(&p, 1, wait);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr == 0) {
                        snprintf(err, errlen, "%s: no reply within %d ms", socket_path, timeout_ms);
                        break;
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        snprintf(err, errlen, "%s: read: %s", socket_path, strerror(errno));
                        break;
                }
                n += (size_t)r;
                if (r == 0 || (n && buf[n - 1] == '\n')) {
                        if (n == 0) {
                                snprintf(err, errlen, "%s: the supervisor closed the connection",
                                         socket_path);
                                break;
                        }
                        buf[n] = '\0';
                        close(fd);
                        *reply = buf;
                        return 0;
                }
        }
        free(buf);
        close(fd);
        return -1;
}

int ward_ctl_socket_of(const char *file, char *buf, size_t size, char *err, size_t errlen)
{
        FILE *fp = fopen(file, "rb");
        if (!fp) {
                snprintf(err, errlen, "%s: %s", file, strerror(errno));
                return -1;
        }
        char *text = malloc(WARD_SYS_MAX_FILE + 1);
        size_t len = text ? fread(text, 1, WARD_SYS_MAX_FILE + 1, fp) : 0;
        fclose(fp);
        if (!text || len > WARD_SYS_MAX_FILE) {
                free(text);
                snprintf(err, errlen, "%s: too large or out of memory", file);
                return -1;
        }
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = ward_sys_parse(text, len, &errs);
        free(text);
        int rc = -1;
        if (!d || errs.n) {
                snprintf(err, errlen, "%s: not a valid description (see ward system check %s)",
                         file, file);
        } else {
                const char *sock = d->linux_opts.control_socket ? d->linux_opts.control_socket
                                                                : WARD_SYS_DEFAULT_SOCKET;
                char *dir = strdup(file);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash)
                        *slash = '\0';
                if (ward_sys_path_join(slash ? (dir[0] ? dir : "/") : ".", sock, buf, size))
                        snprintf(err, errlen, "%s: the control socket's path is too long", file);
                else
                        rc = 0;
                free(dir);
        }
        ward_sys_free(d);
        ward_sys_errors_free(&errs);
        return rc;
}
