/* SPDX-License-Identifier: BSD-2-Clause */
/* The supervisor's side of the control API (docs/control-api.md): requests and replies. */
#include "supervisor_internal.h"
#include "ward/host/linux/switch_process.h"
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const state_names[] = {"stopped",  "running", "paused",
                                          "stopping", "failed",  "restarting"};

static struct json_object *vm_json(const struct vm_rt *v)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(v->d->name));
        json_object_object_add(o, "state", json_object_new_string(state_names[v->state]));
        json_object_object_add(o, "pid", v->pid > 0 ? json_object_new_int(v->pid) : NULL);
        json_object_object_add(o, "restarts", json_object_new_int64(v->restarts));
        struct json_object *le = NULL;
        if (v->last_kind) {
                le = json_object_new_object();
                json_object_object_add(le, v->last_kind == 1 ? "status" : "signal",
                                       json_object_new_int(v->last_val));
        }
        json_object_object_add(o, "last_exit", le);
        json_object_object_add(o, "console_log", json_object_new_string(v->log));
        if (v->launch_error[0])
                json_object_object_add(o, "error", json_object_new_string(v->launch_error));
        return o;
}

static struct json_object *reply_new(bool ok)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "api", json_object_new_int(WARD_CTL_API));
        json_object_object_add(o, "ok", json_object_new_boolean(ok));
        return o;
}

static void client_send(struct client *c, struct json_object *o)
{
        const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t n = strlen(t);
        free(c->out);
        c->out = malloc(n + 1);
        if (c->out) {
                memcpy(c->out, t, n);
                c->out[n] = '\n';
                c->outn = n + 1;
        } else {
                c->outn = 0;
        }
        c->outoff = 0;
        c->phase = C_WRITE;
        json_object_put(o);
}

void ward_sup_client_error(struct client *c, const char *msg)
{
        struct json_object *o = reply_new(false);
        json_object_object_add(o, "error", json_object_new_string(msg));
        client_send(c, o);
}

void ward_sup_client_vms(struct ward_sup *s, struct client *c, long only)
{
        struct json_object *o = reply_new(true), *a = json_object_new_array();
        for (size_t i = 0; i < s->nvms; i++)
                if (only < 0 || (size_t)only == i)
                        json_object_array_add(a, vm_json(&s->vms[i]));
        json_object_object_add(o, "vms", a);
        client_send(c, o);
}

/* Sends a console request's input to the VMM's stdin: whole, or an error. */
static int console_input(struct vm_rt *v, const struct ward_ctl_request *req, char *err,
                         size_t errlen)
{
        if (!req->input_len)
                return 0;
        if (v->in_fd < 0 || (v->state != ST_RUNNING && v->state != ST_PAUSED)) {
                snprintf(err, errlen, "vm %s: not running (%s); the input was not sent", v->d->name,
                         state_names[v->state]);
                return -1;
        }
        ssize_t w = send(v->in_fd, req->input, req->input_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)req->input_len)
                return 0;
        /* A short send or EAGAIN: the socket's buffer is full. */
        bool full = w >= 0 || errno == EAGAIN;
        snprintf(err, errlen, "vm %s: console input: %s; %zd of %zu bytes sent", v->d->name,
                 full ? "the VM is not reading it" : strerror(errno), w < 0 ? (ssize_t)0 : w,
                 req->input_len);
        return -1;
}

/*
 * The console op: input first, then the log from `from` (or its last
 * `bytes`), at most `bytes` of it. NUL and bytes outside ASCII are shown as
 * '?' (the reply is JSON text); control characters pass, escaped.
 */
static void console_reply(struct ward_sup *s, struct client *c, struct vm_rt *v,
                          const struct ward_ctl_request *req)
{
        (void)s;
        char err[512];
        if (console_input(v, req, err, sizeof(err))) {
                ward_sup_client_error(c, err);
                return;
        }
        struct json_object *o = reply_new(true);
        json_object_object_add(o, "vm", json_object_new_string(v->d->name));
        json_object_object_add(o, "state", json_object_new_string(state_names[v->state]));
        json_object_object_add(o, "console_log", json_object_new_string(v->log));
        int fd = open(v->log, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf = NULL;
        ssize_t got = 0;
        off_t size = 0, from = 0;
        if (fd >= 0 && fstat(fd, &st) == 0) {
                size = st.st_size;
                if (req->from >= 0)
                        from = req->from < size ? (off_t)req->from : size;
                else
                        from = size > req->bytes ? size - (off_t)req->bytes : 0;
                off_t n = size - from < req->bytes ? size - from : (off_t)req->bytes;
                buf = malloc((size_t)n + 1);
                got = buf ? pread(fd, buf, (size_t)n, from) : -1;
        }
        if (fd >= 0)
                close(fd);
        if (got < 0)
                got = 0;
        for (ssize_t i = 0; buf && i < got; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == 0 || ch >= 0x7f)
                        buf[i] = '?';
        }
        json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
        json_object_object_add(o, "next", json_object_new_int64((int64_t)(from + got)));
        json_object_object_add(o, "data",
                               json_object_new_string_len(buf ? buf : "", buf ? (int)got : 0));
        free(buf);
        client_send(c, o);
}

/* start, or restart of a VM that is not running: a fresh restart count. */
static void start_vm(struct ward_sup *s, struct client *c, struct vm_rt *v, long i)
{
        v->restarts = 0;
        if (ward_sup_launch(s, v))
                ward_sup_client_error(c, v->launch_error);
        else
                ward_sup_client_vms(s, c, i);
}

static void op_start(struct ward_sup *s, struct client *c, struct vm_rt *v, long i)
{
        char err[512];
        if (v->pid > 0) {
                snprintf(err, sizeof(err), "vm %s: already %s (pid %d)", v->d->name,
                         state_names[v->state], (int)v->pid);
                ward_sup_client_error(c, err);
                return;
        }
        start_vm(s, c, v, i);
}

/* stop and restart: the reply waits until the VM has stopped (or started again). */
static void op_stop(struct ward_sup *s, struct client *c, struct vm_rt *v, long i,
                    const struct ward_ctl_request *req)
{
        char err[512];
        if (v->pid <= 0) {
                if (req->op == WARD_CTL_RESTART) {
                        start_vm(s, c, v, i);
                        return;
                }
                if (v->state == ST_RESTARTING)
                        v->state = ST_STOPPED;
                else {
                        snprintf(err, sizeof(err), "vm %s: not running (%s)", v->d->name,
                                 state_names[v->state]);
                        ward_sup_client_error(c, err);
                        return;
                }
                ward_sup_client_vms(s, c, i);
                return;
        }
        ward_sup_begin_stop(v, req->grace_ms);
        v->start_after_stop = req->op == WARD_CTL_RESTART;
        if (req->op == WARD_CTL_RESTART)
                v->restarts = 0;
        c->phase = C_WAIT;
        c->wait_vm = (int)i;
}

static void op_pause(struct ward_sup *s, struct client *c, struct vm_rt *v, long i,
                     enum ward_ctl_op op)
{
        char err[512];
        enum vm_state from = op == WARD_CTL_PAUSE ? ST_RUNNING : ST_PAUSED;
        if (v->state != from) {
                snprintf(err, sizeof(err), "vm %s: not %s (%s)", v->d->name, state_names[from],
                         state_names[v->state]);
                ward_sup_client_error(c, err);
                return;
        }
        kill(-v->pid, op == WARD_CTL_PAUSE ? SIGSTOP : SIGCONT);
        v->state = op == WARD_CTL_PAUSE ? ST_PAUSED : ST_RUNNING;
        ward_sup_client_vms(s, c, i);
}

static void op_shutdown(struct ward_sup *s, struct client *c, const struct ward_ctl_request *req)
{
        if (!s->shutting_down)
                s->shutdown_grace_ms = req->grace_ms;
        ward_sup_request_shutdown(s);
        c->phase = C_WAIT;
        c->wait_shutdown = true;
}

/* A network's switch and its ports' counters, as the switch last wrote them. */
static void net_reply(struct ward_sup *s, struct client *c, const char *name)
{
        const struct net_rt *n = NULL;
        for (size_t i = 0; i < s->nnets; i++)
                if (!strcmp(s->nets[i].d->name, name))
                        n = &s->nets[i];
        if (!n) {
                ward_sup_client_error(c, "that network has no switch");
                return;
        }
        struct json_object *o = reply_new(true), *net = json_object_new_object();
        struct json_object *ports = json_object_new_array();
        json_object_object_add(net, "name", json_object_new_string(name));
        json_object_object_add(net, "switch_pid", n->pid > 0 ? json_object_new_int(n->pid) : NULL);
        json_object_object_add(net, "restarts", json_object_new_int64(n->restarts));
        for (size_t j = 0; j < n->d->nports && j < WARD_SYS_MAX_NET_PORTS; j++) {
                struct ward_vswitch_port_stats st;
                memcpy(&st, n->stats + WARD_SWITCH_STATS_HDR + j * sizeof(st), sizeof(st));
                const struct ward_sys_net_port *np = &n->d->ports[j];
                struct json_object *p = json_object_new_object(), *drops = json_object_new_object();
                char mac[18];
                snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", np->mac[0], np->mac[1],
                         np->mac[2], np->mac[3], np->mac[4], np->mac[5]);
                json_object_object_add(p, "vm", json_object_new_string(np->vm ? np->vm : ""));
                json_object_object_add(p, "mac", json_object_new_string(mac));
                json_object_object_add(p, "rx_frames",
                                       json_object_new_int64((int64_t)st.rx_frames));
                json_object_object_add(p, "rx_bytes", json_object_new_int64((int64_t)st.rx_bytes));
                json_object_object_add(p, "tx_frames",
                                       json_object_new_int64((int64_t)st.tx_frames));
                json_object_object_add(p, "tx_bytes", json_object_new_int64((int64_t)st.tx_bytes));
                for (int k = 0; k < WARD_VSW_DROP_KINDS; k++)
                        json_object_object_add(drops, ward_vswitch_drop_names[k],
                                               json_object_new_int64((int64_t)st.drops[k]));
                json_object_object_add(p, "drops", drops);
                json_object_array_add(ports, p);
        }
        json_object_object_add(net, "ports", ports);
        json_object_object_add(o, "network", net);
        client_send(c, o);
}

/* What no op may do now: 0, or -1 after replying with the reason. */
static int refused(struct ward_sup *s, struct client *c, const struct vm_rt *v, enum ward_ctl_op op)
{
        char err[512];
        bool mutating = op == WARD_CTL_START || op == WARD_CTL_STOP || op == WARD_CTL_PAUSE ||
                        op == WARD_CTL_RESUME || op == WARD_CTL_RESTART;
        if (s->shutting_down && (mutating || op == WARD_CTL_SHUTDOWN) && op != WARD_CTL_SHUTDOWN) {
                ward_sup_client_error(c, "the supervisor is shutting down");
                return -1;
        }
        if (v && mutating && v->state == ST_STOPPING) {
                snprintf(err, sizeof(err), "vm %s: a stop is in progress", v->d->name);
                ward_sup_client_error(c, err);
                return -1;
        }
        return 0;
}

void ward_sup_handle(struct ward_sup *s, struct client *c, const char *text, size_t len)
{
        struct ward_ctl_request req;
        char err[512];
        if (ward_ctl_parse_request(text, len, &req, err, sizeof(err)) ||
            ward_ctl_validate(&req, s->d, err, sizeof(err))) {
                ward_sup_client_error(c, err);
                return;
        }
        long i = req.vm[0] ? ward_sys_find_vm(s->d, req.vm) : -1;
        struct vm_rt *v = i >= 0 ? &s->vms[i] : NULL;
        if (refused(s, c, v, req.op))
                return;
        switch (req.op) {
        case WARD_CTL_LIST:
        case WARD_CTL_STATUS:
                ward_sup_client_vms(s, c, i);
                return;
        case WARD_CTL_START:
                op_start(s, c, v, i);
                return;
        case WARD_CTL_STOP:
        case WARD_CTL_RESTART:
                op_stop(s, c, v, i, &req);
                return;
        case WARD_CTL_PAUSE:
        case WARD_CTL_RESUME:
                op_pause(s, c, v, i, req.op);
                return;
        case WARD_CTL_CONSOLE:
                console_reply(s, c, v, &req);
                return;
        case WARD_CTL_SHUTDOWN:
                op_shutdown(s, c, &req);
                return;
        case WARD_CTL_NET:
                net_reply(s, c, req.network);
                return;
        case WARD_CTL_NOPS:
                break;
        }
        ward_sup_client_error(c, "internal error");
}

void ward_sup_request_shutdown(struct ward_sup *s)
{
        if (s->shutting_down)
                return;
        s->shutting_down = true;
        for (size_t i = 0; i < s->nvms; i++) {
                struct vm_rt *v = &s->vms[i];
                v->start_after_stop = false;
                if (v->state == ST_RESTARTING)
                        v->state = ST_STOPPED;
                else if (v->pid > 0 && v->state != ST_STOPPING)
                        ward_sup_begin_stop(v, s->shutdown_grace_ms);
        }
}
