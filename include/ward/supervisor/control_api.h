/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API of `ward system up` (docs/control-api.md): one JSON
 * request per connection on a unix socket, one JSON reply. This header has
 * the pure parts (request parsing and validation, the policy check) and the
 * client used by `ward ctl` and `ward system down`.
 */
#ifndef WARD_CONTROL_API_H
#define WARD_CONTROL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/desc/system_desc.h"

#define WARD_CTL_API 1
#define WARD_CTL_MAX_REQUEST 65536          /* bytes, with the final newline */
#define WARD_CTL_DEFAULT_GRACE_MS 10000     /* stop: SIGTERM, then SIGKILL after this */
#define WARD_CTL_MAX_GRACE_MS 3600000       /* at most one hour */
#define WARD_CTL_DEFAULT_CONSOLE_BYTES 4096 /* console: the last bytes of the log */
#define WARD_CTL_MAX_CONSOLE_BYTES 65536
#define WARD_CTL_MAX_INPUT 4096 /* console: bytes of input per request */

enum ward_ctl_op {
        WARD_CTL_LIST,
        WARD_CTL_STATUS,
        WARD_CTL_START,
        WARD_CTL_STOP,
        WARD_CTL_PAUSE,
        WARD_CTL_RESUME,
        WARD_CTL_RESTART,
        WARD_CTL_CONSOLE,
        WARD_CTL_SHUTDOWN,
        WARD_CTL_NET, /* a network's switch: its process and per-port counters */
        WARD_CTL_NOPS,
};

struct ward_ctl_request {
        enum ward_ctl_op op;
        char vm[WARD_SYS_MAX_NAME + 1];      /* "" when the request names no VM */
        char network[WARD_SYS_MAX_NAME + 1]; /* net: the network */
        int64_t grace_ms;                    /* stop, restart, shutdown */
        int64_t bytes;                       /* console */
        int64_t from;                        /* console: log offset to read from, -1: the tail */
        size_t input_len;                    /* console: bytes in input */
        char input[WARD_CTL_MAX_INPUT];      /* console: sent to the VM's console input */
};

/* "list", "status", ...; NULL for an op out of range. */
const char *ward_ctl_op_name(enum ward_ctl_op op);
/* The op called name, or -1. */
int ward_ctl_op_from_name(const char *name);

/*
 * Parses one request (len bytes, need not be NUL-terminated; one trailing
 * newline is allowed). Returns 0, or -1 with one line in err. Checks the
 * shape only: the VM's existence and the policy are ward_ctl_validate's.
 */
int ward_ctl_parse_request(const char *text, size_t len, struct ward_ctl_request *req, char *err,
                           size_t errlen);

/*
 * Checks a parsed request against the description: the VM exists, and the
 * VM's policy.allow has the op (start, stop, pause, resume, restart).
 * Returns 0, or -1 with one line in err.
 */
int ward_ctl_validate(const struct ward_ctl_request *req, const struct ward_sys_desc *d, char *err,
                      size_t errlen);

/* Only the policy rule: 0 when vm's policy.allow has op, or -1 with the rule in err. */
int ward_ctl_policy_check(const struct ward_sys_vm *vm, enum ward_sys_op op, char *err,
                          size_t errlen);

/*
 * The client: connects to socket_path, sends request (one line) and reads
 * the reply (one line, NUL-terminated, in *reply; free it). Waits at most
 * timeout_ms for the reply (< 0: forever). Returns 0, or -1 with the reason
 * in err (no connection, timeout, reply too large).
 */
int ward_ctl_call(const char *socket_path, const char *request, int timeout_ms, char **reply,
                  char *err, size_t errlen);

/* CLOCK_MONOTONIC in milliseconds: deadlines of the supervisor and the clients. */
int64_t ward_ctl_now_ms(void);

/* True when something accepts connections on socket_path. */
bool ward_ctl_socket_alive(const char *socket_path);

/*
 * Reads and parses the description in file (no check) and writes its
 * control socket's path to buf (relative paths from file's directory).
 * Returns 0, or -1 with one line in err.
 */
int ward_ctl_socket_of(const char *file, char *buf, size_t size, char *err, size_t errlen);

#endif
