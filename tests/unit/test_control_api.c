/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control API: the request parser and validator and the policy check
 * (tables with the exact errors), ward run's arguments from a description,
 * and the supervisor's loop driven with /bin/sleep and /bin/sh as fake VMs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ward/supervisor/control_api.h"
#include "ward/desc/vm_config.h"
#include "ward/supervisor/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char desc_json[] =
    "{\"ward_system\": 1, \"vms\": {"
    " \"a\": {\"kernel\": \"/k\", \"initrd\": \"i.gz\", \"memory\": [{\"gpa\": \"0x40000000\","
    "   \"size\": \"256M\"}], \"cpus\": 2, \"disks\": [{\"path\": \"/d.img\", \"read_only\": "
    "true}],"
    "   \"console\": \"virtio\", \"rng\": false,"
    "   \"policy\": {\"allow\": [\"start\", \"stop\", \"pause\", \"resume\", \"restart\"],"
    "   \"on_failure\": \"restart\", \"restart_backoff_ms\": 100, \"max_restarts\": 2}},"
    " \"b\": {\"kernel\": \"/k\", \"policy\": {\"allow\": [\"start\", \"restart\"]}},"
    " \"c\": {\"kernel\": \"/k\", \"policy\": {\"autostart\": false, \"allow\": [\"start\"]}}"
    "}}";

static struct ward_sys_desc *desc(void)
{
        struct ward_sys_errors e = {0};
        struct ward_sys_desc *d = ward_sys_parse(desc_json, strlen(desc_json), &e);
        assert_non_null(d);
        assert_int_equal(e.n, 0);
        ward_sys_errors_free(&e);
        return d;
}

struct req_case {
        const char *text;
        const char *error; /* NULL: valid */
};

static void test_parse_table(void **state)
{
        (void)state;
        static const struct req_case cases[] = {
            {"{\"api\":1,\"op\":\"list\"}", NULL},
            {"{\"api\":1,\"op\":\"list\"}\n", NULL},
            {"{\"api\":1,\"op\":\"status\"}", NULL},
            {"{\"api\":1,\"op\":\"status\",\"vm\":\"a\"}", NULL},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace_ms\":0}", NULL},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"bytes\":65536}", NULL},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"from\":0,\"input\":\"ls\\n\"}", NULL},
            {"{\"api\":1,\"op\":\"shutdown\",\"grace_ms\":3600000}", NULL},
            {"", "the request is not valid JSON"},
            {"{", "the request is not valid JSON"},
            {"{\"api\":1,\"op\":\"list\",}", "the request is not valid JSON"},
            {"{\"api\":1} {}", "the request is not valid JSON"},
            {"{\"api\":1,\n\"op\":\"list\"}", "the request is not valid JSON"},
            {"[1]", "the request is not a JSON object"},
            {"\"list\"", "the request is not a JSON object"},
            {"{\"op\":\"list\"}", "missing field 'api' (this ward speaks api 1)"},
            {"{\"api\":2,\"op\":\"list\"}", "'api' must be 1 (this ward speaks api 1)"},
            {"{\"api\":\"1\",\"op\":\"list\"}", "'api' must be 1 (this ward speaks api 1)"},
            {"{\"api\":1}", "missing field 'op'"},
            {"{\"api\":1,\"op\":7}", "'op' must be a string"},
            {"{\"api\":1,\"op\":\"reboot\"}",
             "unknown op 'reboot' (expected list, status, start, stop, pause, resume, restart, "
             "console, shutdown or net)"},
            {"{\"api\":1,\"op\":\"li\\u0000st\"}",
             "unknown op 'li\\x00st' (expected list, status, start, stop, pause, resume, "
             "restart, console, shutdown or net)"},
            {"{\"api\":1,\"op\":\"stop\"}", "op 'stop' needs 'vm'"},
            {"{\"api\":1,\"op\":\"list\",\"vm\":\"a\"}", "op 'list' takes no 'vm'"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":1}", "'vm' must be a string"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"\"}", "unknown vm ''"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace\":1}",
             "unknown field 'grace' (a request has api, op, vm, network, grace_ms, bytes, from, "
             "input)"},
            {"{\"api\":1,\"op\":\"net\"}", "op 'net' needs 'network'"},
            {"{\"api\":1,\"op\":\"net\",\"vm\":\"a\"}", "op 'net' takes no 'vm'"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"network\":\"lan\"}",
             "op 'stop' takes no 'network'"},
            {"{\"api\":1,\"op\":\"net\",\"network\":7}", "'network' must be a string"},
            {"{\"api\":1,\"op\":\"net\",\"network\":\"\"}", "unknown network ''"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace_ms\":-1}",
             "'grace_ms' must be an integer from 0 to 3600000"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace_ms\":1.5}",
             "'grace_ms' must be an integer from 0 to 3600000"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace_ms\":99999999999999999999}",
             "'grace_ms' must be an integer from 0 to 3600000"},
            {"{\"api\":1,\"op\":\"pause\",\"vm\":\"a\",\"grace_ms\":1}",
             "op 'pause' takes no 'grace_ms'"},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"bytes\":65537}",
             "'bytes' must be an integer from 0 to 65536"},
            {"{\"api\":1,\"op\":\"list\",\"bytes\":1}", "op 'list' takes no 'bytes'"},
            {"{\"api\":1,\"op\":\"status\",\"vm\":\"a\",\"input\":\"x\"}",
             "op 'status' takes no 'input'"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"from\":0}", "op 'stop' takes no 'from'"},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"input\":[\"x\"]}",
             "'input' must be a string"},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"from\":-1}",
             "'from' must be an integer from 0 to 9223372036854775807"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ward_ctl_request r;
                char err[512] = "";
                int rc = ward_ctl_parse_request(cases[i].text, strlen(cases[i].text), &r, err,
                                                sizeof(err));
                if (!cases[i].error) {
                        if (rc)
                                fail_msg("case %zu: %s: %s", i, cases[i].text, err);
                } else {
                        assert_int_equal(rc, -1);
                        if (strcmp(err, cases[i].error))
                                fail_msg("case %zu: %s:\n got  %s\n want %s", i, cases[i].text, err,
                                         cases[i].error);
                }
        }
        /* Oversized. */
        size_t big = WARD_CTL_MAX_REQUEST + 1;
        char *t = malloc(big);
        memset(t, ' ', big);
        struct ward_ctl_request r;
        char err[256];
        assert_int_equal(ward_ctl_parse_request(t, big, &r, err, sizeof(err)), -1);
        assert_string_equal(err, "the request is larger than 65536 bytes");
        free(t);
        /* Defaults. */
        const char *con = "{\"api\":1,\"op\":\"console\",\"vm\":\"b\"}";
        assert_int_equal(ward_ctl_parse_request(con, strlen(con), &r, err, sizeof(err)), 0);
        assert_int_equal(r.op, WARD_CTL_CONSOLE);
        assert_string_equal(r.vm, "b");
        assert_int_equal(r.bytes, WARD_CTL_DEFAULT_CONSOLE_BYTES);
        assert_int_equal(r.grace_ms, WARD_CTL_DEFAULT_GRACE_MS);
        assert_int_equal(r.from, -1);
        assert_int_equal(r.input_len, 0);
        /* Input: kept byte for byte (a NUL too), at most WARD_CTL_MAX_INPUT bytes. */
        const char *in =
            "{\"api\":1,\"op\":\"console\",\"vm\":\"b\",\"input\":\"a\\u0000\\u0003\"}";
        assert_int_equal(ward_ctl_parse_request(in, strlen(in), &r, err, sizeof(err)), 0);
        assert_int_equal(r.input_len, 3);
        assert_memory_equal(r.input, "a\0\3", 3);
        char longer[WARD_CTL_MAX_INPUT + 100];
        int n = snprintf(longer, sizeof(longer),
                         "{\"api\":1,\"op\":\"console\",\"vm\":\"b\",\"input\":\"");
        for (int k = 0; k <= WARD_CTL_MAX_INPUT; k++)
                longer[n++] = 'x';
        snprintf(longer + n, sizeof(longer) - (size_t)n, "\"}");
        assert_int_equal(ward_ctl_parse_request(longer, strlen(longer), &r, err, sizeof(err)), -1);
        assert_string_equal(err, "'input' is longer than 4096 bytes");
        longer[n - 1] = '"';
        longer[n] = '}';
        longer[n + 1] = '\0';
        assert_int_equal(ward_ctl_parse_request(longer, strlen(longer), &r, err, sizeof(err)), 0);
        assert_int_equal(r.input_len, WARD_CTL_MAX_INPUT);
}

static void test_validate_table(void **state)
{
        (void)state;
        struct ward_sys_desc *d = desc();
        static const struct req_case cases[] = {
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"a\"}", NULL},
            {"{\"api\":1,\"op\":\"restart\",\"vm\":\"b\"}", NULL},
            {"{\"api\":1,\"op\":\"status\",\"vm\":\"c\"}", NULL},
            {"{\"api\":1,\"op\":\"console\",\"vm\":\"c\"}", NULL},
            {"{\"api\":1,\"op\":\"shutdown\"}", NULL},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"zz\"}", "unknown vm 'zz'"},
            {"{\"api\":1,\"op\":\"stop\",\"vm\":\"b\"}",
             "vm b: 'stop' is not in policy.allow [start, restart]"},
            {"{\"api\":1,\"op\":\"pause\",\"vm\":\"c\"}",
             "vm c: 'pause' is not in policy.allow [start]"},
            {"{\"api\":1,\"op\":\"resume\",\"vm\":\"b\"}",
             "vm b: 'resume' is not in policy.allow [start, restart]"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ward_ctl_request r;
                char err[512] = "";
                assert_int_equal(ward_ctl_parse_request(cases[i].text, strlen(cases[i].text), &r,
                                                        err, sizeof(err)),
                                 0);
                int rc = ward_ctl_validate(&r, d, err, sizeof(err));
                if (!cases[i].error) {
                        if (rc)
                                fail_msg("case %zu: %s: %s", i, cases[i].text, err);
                } else {
                        assert_int_equal(rc, -1);
                        if (strcmp(err, cases[i].error))
                                fail_msg("case %zu:\n got  %s\n want %s", i, err, cases[i].error);
                }
        }
        struct ward_sys_vm none = {.name = "n"};
        char err[256];
        assert_int_equal(ward_ctl_policy_check(&none, WARD_SYS_OP_STOP, err, sizeof(err)), -1);
        assert_string_equal(err, "vm n: 'stop' is not in policy.allow []");
        ward_sys_free(d);
}

static struct ward_sys_desc *parse_ok(const char *text)
{
        struct ward_sys_errors e = {0};
        struct ward_sys_desc *d = ward_sys_parse(text, strlen(text), &e);
        assert_non_null(d);
        assert_int_equal(e.n, 0);
        ward_sys_errors_free(&e);
        return d;
}

/* A description's VM as the VM core's config: no `ward run` arguments between. */
static void test_vm_config(void **state)
{
        (void)state;
        static struct ward_sys_vm_config vc;
        char err[256];
        struct ward_sys_desc *d = desc();
        assert_int_equal(ward_sys_vm_config(d, "a", "/sys", 4, &vc, err, sizeof(err)), 0);
        const struct ward_vm_config *c = &vc.cfg;
        assert_string_equal(c->kernel, "/k");
        assert_string_equal(c->initrd, "/sys/i.gz");
        assert_null(c->cmdline);
        assert_int_equal(c->mem_bytes, 256ull << 20);
        assert_int_equal(c->mem_gpa, 0x40000000ull);
        assert_int_equal(c->nram, 0);
        assert_int_equal(c->cpus, 2);
        assert_int_equal(c->ndisks, 1);
        assert_string_equal(c->disks[0].path, "/d.img");
        assert_true(c->disks[0].read_only);
        assert_int_equal(c->console, WARD_CONSOLE_VIRTIO);
        assert_false(c->rng);
        assert_int_equal(ward_sys_vm_config(d, "b", "/sys", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.mem_bytes, 512ull << 20);
        assert_true(vc.cfg.rng);
        assert_null(vc.cfg.initrd);
        assert_int_not_equal(ward_sys_vm_config(d, "zz", "/sys", 4, &vc, err, sizeof(err)), 0);
        assert_string_equal(err, "vm zz: not in the description");
        assert_int_equal(ward_sup_check_runnable(d, "/", err, sizeof(err)), 0);
        ward_sys_free(d);

        /* Several RAM regions: the first is the boot RAM, the rest follow in order. */
        d = parse_ok("{\"ward_system\":1,\"vms\":{\"x\":{\"kernel\":\"/k\","
                     "\"memory\":[{\"gpa\":\"0x80000000\",\"size\":\"64M\"},"
                     "{\"gpa\":\"0x40000000\",\"size\":\"64M\"},"
                     "{\"gpa\":\"0x100000000\",\"size\":\"4K\"}],"
                     "\"disks\":[{\"path\":\"a,b.img\"}]}}}");
        assert_int_equal(ward_sys_vm_config(d, "x", "/s", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.mem_gpa, 0x80000000ull);
        assert_int_equal(vc.cfg.nram, 2);
        assert_int_equal(vc.cfg.ram[0].gpa, 0x40000000ull);
        assert_int_equal(vc.cfg.ram[1].size, 4096);
        /* A path with a comma is just a path now. */
        assert_string_equal(vc.cfg.disks[0].path, "/s/a,b.img");
        assert_int_equal(vc.cfg.seccomp, WARD_SECCOMP_ON); /* on unless the linux section says */
        ward_sys_free(d);

        /* linux.vms.NAME.seccomp reaches the VMM's config. */
        d = parse_ok("{\"ward_system\":1,\"vms\":{\"x\":{\"kernel\":\"/k\"},\"y\":{\"kernel\":"
                     "\"/k\"}},\"linux\":{\"vms\":{\"x\":{\"seccomp\":\"log\"},\"y\":{\"seccomp\":"
                     "\"off\"}}}}");
        assert_int_equal(ward_sys_vm_config(d, "x", "/s", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.seccomp, WARD_SECCOMP_LOG);
        assert_int_equal(ward_sys_vm_config(d, "y", "/s", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.seccomp, WARD_SECCOMP_OFF);
        ward_sys_free(d);

        /* vsock: the cid as it is, a relative socket path from the description's
         * directory; none without the field. */
        d = parse_ok("{\"ward_system\":1,\"vms\":{\"x\":{\"kernel\":\"/k\",\"vsock\":{"
                     "\"cid\":7,\"path\":\"run/x.vsock\"}},\"y\":{\"kernel\":\"/k\"}}}");
        assert_int_equal(ward_sys_vm_config(d, "x", "/s", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.vsock.cid, 7);
        assert_string_equal(vc.cfg.vsock.path, "/s/run/x.vsock");
        assert_int_equal(ward_sys_vm_config(d, "y", "/s", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.vsock.cid, 0);
        /* Joined, the path no longer fits a socket's with room for _P. */
        char longdir[120];
        memset(longdir, 'd', sizeof(longdir) - 1);
        longdir[0] = '/';
        longdir[sizeof(longdir) - 1] = '\0';
        assert_int_equal(ward_sys_vm_config(d, "x", longdir, 4, &vc, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "vm x: vsock path /ddd"));
        assert_non_null(strstr(err, "bytes from the description's directory, at most 96"));
        ward_sys_free(d);
}

/* The shared regions and doorbells a VM takes part in get fds in one fixed order. */
static void test_vm_config_channels(void **state)
{
        (void)state;
        static struct ward_sys_vm_config vc;
        char err[256];
        struct ward_sys_desc *d = parse_ok(
            "{\"ward_system\":1,\"vms\":{\"p\":{\"kernel\":\"/k\"},\"q\":{\"kernel\":\"/k\"}},"
            "\"shared_regions\":[{\"name\":\"s0\",\"size\":\"4K\",\"maps\":[{\"vm\":\"q\","
            "\"gpa\":\"0x20000000\",\"access\":\"ro\"}]},{\"name\":\"s1\",\"size\":\"8K\","
            "\"maps\":[{\"vm\":\"p\",\"gpa\":\"0x20000000\"},{\"vm\":\"q\",\"gpa\":"
            "\"0x30000000\"}]}],\"doorbells\":[{\"name\":\"d0\",\"from\":\"p\",\"to\":\"q\"},"
            "{\"name\":\"d1\",\"from\":\"q\",\"to\":\"p\"}]}");
        assert_int_equal(ward_sys_vm_config(d, "q", "/", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.nshm, 2);
        assert_int_equal(vc.cfg.shm[0].fd, 4);
        assert_int_equal(vc.shm_src[0], 0);
        assert_true(vc.cfg.shm[0].read_only);
        assert_int_equal(vc.cfg.shm[1].fd, 5);
        assert_int_equal(vc.shm_src[1], 1);
        assert_int_equal(vc.cfg.shm[1].gpa, 0x30000000ull);
        assert_int_equal(vc.cfg.shm[1].size, 8192);
        assert_int_equal(vc.cfg.ndoorbells, 2);
        assert_int_equal(vc.cfg.doorbell_fd[0], 6);
        assert_int_equal(vc.db_src[0], 0);
        assert_int_equal(vc.db_end[0], 1); /* q is d0's "to" end */
        assert_int_equal(vc.cfg.doorbell_fd[1], 7);
        assert_int_equal(vc.db_end[1], 0);
        ward_sys_free(d);

        /* NICs come after the doorbells, three descriptors each, in network order. */
        d = parse_ok("{\"ward_system\":1,\"vms\":{\"p\":{\"kernel\":\"/k\"},\"q\":{\"kernel\":"
                     "\"/k\"}},\"doorbells\":[{\"name\":\"d0\",\"from\":\"p\",\"to\":\"q\"}],"
                     "\"networks\":[{\"name\":\"n0\",\"ports\":[{\"vm\":\"p\",\"mac\":"
                     "\"02:00:00:00:00:01\"},{\"vm\":\"q\",\"mac\":\"02:00:00:00:00:02\"}]},"
                     "{\"name\":\"n1\",\"ports\":[{\"vm\":\"q\",\"mac\":\"02:00:00:00:01:02\","
                     "\"vlan\":5,\"reach\":[]}]}]}");
        assert_int_equal(ward_sys_vm_config(d, "q", "/", 4, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.ndoorbells, 1);
        assert_int_equal(vc.cfg.nnets, 2);
        assert_int_equal(vc.cfg.nets[0].kind, WARD_NET_PORT);
        assert_int_equal(vc.cfg.nets[0].port_fd, 5);
        assert_int_equal(vc.net_src[0], 0);
        assert_int_equal(vc.net_port[0], 1);
        assert_int_equal(vc.cfg.nets[0].mac[5], 2);
        assert_int_equal(vc.cfg.nets[1].port_fd, 8);
        assert_int_equal(vc.net_src[1], 1);
        assert_int_equal(vc.net_port[1], 0);
        assert_int_equal(vc.cfg.nets[1].mac[4], 1);
        assert_int_equal(d->networks[1].ports[0].vlan, 5);
        assert_true(d->networks[1].ports[0].reach_set);
        assert_int_equal(d->networks[1].ports[0].nreach, 0);
        ward_sys_free(d);
}

/* --- the supervisor with fake VMs ------------------------------------------ */

static char *const sleeper[] = {"/bin/sleep", "1000", NULL};
static char *const crasher[] = {"/bin/sh", "-c", "echo fake-vm-output; exit 3", NULL};
static char *const poweroff[] = {"/bin/sh", "-c", "echo bye; exit 0", NULL};
/* Echoes its console input to its log; "bye" ends it with status 0. */
static char *const echoer[] = {
    "/bin/sh", "-c", "while read l; do echo \"got:$l\"; [ \"$l\" = bye ] && exit 0; done", NULL};
static const char *echo_vm = "";
static const char *crash_vm = "";
static const char *off_vm = "";

static char *const *fake(void *ctx, const char *vm)
{
        (void)ctx;
        if (!strcmp(vm, echo_vm))
                return echoer;
        if (!strcmp(vm, crash_vm))
                return crasher;
        if (!strcmp(vm, off_vm))
                return poweroff;
        return sleeper;
}

static char dir[64], sockp[128];

static int connect_raw(void)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, sockp);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        return fd;
}

/* Sends text, pumps the supervisor until the reply is complete; returns it parsed. */
static struct json_object *call(struct ward_sup *s, const char *text, size_t len)
{
        int fd = connect_raw();
        fcntl(fd, F_SETFL, O_NONBLOCK);
        size_t off = 0;
        char reply[1 << 17];
        size_t n = 0;
        for (int turn = 0; turn < 3000; turn++) {
                if (off < len) {
                        ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);
                        if (w > 0)
                                off += (size_t)w;
                        else if (errno != EAGAIN)
                                off = len;
                        if (off == len)
                                shutdown(fd, SHUT_WR); /* the end of the request: EOF */
                }
                ward_sup_poll(s, 10);
                ssize_t r = read(fd, reply + n, sizeof(reply) - 1 - n);
                if (r > 0)
                        n += (size_t)r;
                if (n && reply[n - 1] == '\n')
                        break;
        }
        close(fd);
        reply[n] = '\0';
        struct json_object *o = json_tokener_parse(reply);
        if (!o)
                fail_msg("no reply: [%s]", reply);
        return o;
}

static struct json_object *req(struct ward_sup *s, const char *text)
{
        return call(s, text, strlen(text));
}

static const char *field(struct json_object *o, const char *k)
{
        struct json_object *v;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "(none)";
}

static struct json_object *vm0(struct json_object *o)
{
        struct json_object *v;
        assert_true(json_object_object_get_ex(o, "vms", &v));
        return json_object_array_get_idx(v, 0);
}

static const char *state_of(struct ward_sup *s, const char *vm, int *pid, int *restarts)
{
        static char st[32];
        char q[128];
        snprintf(q, sizeof(q), "{\"api\":1,\"op\":\"status\",\"vm\":\"%s\"}", vm);
        struct json_object *o = req(s, q);
        if (strcmp(field(o, "ok"), "true"))
                fail_msg("%s: %s", q, field(o, "error"));
        struct json_object *v = vm0(o);
        snprintf(st, sizeof(st), "%s", field(v, "state"));
        struct json_object *x;
        if (pid)
                *pid = json_object_object_get_ex(v, "pid", &x) && x ? json_object_get_int(x) : 0;
        if (restarts)
                *restarts =
                    json_object_object_get_ex(v, "restarts", &x) ? json_object_get_int(x) : -1;
        json_object_put(o);
        return st;
}

static void pump_ms(struct ward_sup *s, int ms)
{
        for (int i = 0; i < ms / 10; i++)
                ward_sup_poll(s, 10);
}

static char proc_state(int pid)
{
        char p[64], buf[256];
        snprintf(p, sizeof(p), "/proc/%d/stat", pid);
        FILE *f = fopen(p, "r");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        return rp ? rp[2] : 0;
}

static void expect_error(struct ward_sup *s, const char *text, const char *error)
{
        struct json_object *o = req(s, text);
        assert_string_equal(field(o, "ok"), "false");
        assert_string_equal(field(o, "error"), error);
        json_object_put(o);
}

/* A supervisor of desc()'s VMs (fake ones) with its socket in a new scratch dir. */
static struct ward_sup *start_supervisor(struct ward_sys_desc **d)
{
        snprintf(dir, sizeof(dir), "/tmp/ward-sup-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(sockp, sizeof(sockp), "%s/ctl.sock", dir);
        static char logs[128];
        snprintf(logs, sizeof(logs), "%s/logs", dir);
        *d = desc();
        crash_vm = "";
        off_vm = "";
        struct ward_sup_config cfg = {
            .socket_path = sockp, .log_dir = logs, .desc_dir = dir, .fake_argv = fake};
        char err[256];
        struct ward_sup *s = ward_sup_new(*d, &cfg, err, sizeof(err));
        if (!s)
                fail_msg("%s", err);
        return s;
}

static void test_supervisor_loop(void **state)
{
        (void)state;
        struct ward_sys_desc *d;
        struct ward_sup *s = start_supervisor(&d);

        /* a and b autostart, c does not. */
        int pa, pb, r;
        assert_string_equal(state_of(s, "a", &pa, &r), "running");
        assert_int_equal(r, 0);
        assert_string_equal(state_of(s, "b", &pb, NULL), "running");
        assert_string_equal(state_of(s, "c", NULL, NULL), "stopped");
        assert_true(pa > 0 && pb > 0);
        assert_int_equal(getpgid(pa), pa); /* its own process group */

        struct json_object *o = req(s, "{\"api\":1,\"op\":\"list\"}");
        struct json_object *v;
        assert_true(json_object_object_get_ex(o, "vms", &v));
        assert_int_equal(json_object_array_length(v), 3);
        json_object_put(o);

        /* Refused or malformed: an error, and nothing changes. */
        expect_error(s, "{\"api\":1,\"op\":\"stop\",\"vm\":\"b\"}\n",
                     "vm b: 'stop' is not in policy.allow [start, restart]");
        expect_error(s, "{\"api\":1,\"op\":\"stop\",\"vm\":\"nope\"}\n", "unknown vm 'nope'");
        expect_error(s, "not json\n", "the request is not valid JSON");
        char want[128];
        snprintf(want, sizeof(want), "vm a: already running (pid %d)", pa);
        expect_error(s, "{\"api\":1,\"op\":\"start\",\"vm\":\"a\"}\n", want);
        /* Oversized: refused while it is still being sent. */
        size_t big = 200000;
        char *t = malloc(big);
        memset(t, 'x', big);
        o = call(s, t, big);
        free(t);
        assert_string_equal(field(o, "error"), "the request is larger than 65536 bytes");
        json_object_put(o);
        int p2;
        assert_string_equal(state_of(s, "a", &p2, NULL), "running");
        assert_int_equal(p2, pa);

        /* pause, resume: the process group is stopped and continued. */
        o = req(s, "{\"api\":1,\"op\":\"pause\",\"vm\":\"a\"}");
        assert_string_equal(field(vm0(o), "state"), "paused");
        json_object_put(o);
        pump_ms(s, 100);
        assert_int_equal(proc_state(pa), 'T');
        o = req(s, "{\"api\":1,\"op\":\"resume\",\"vm\":\"a\"}");
        assert_string_equal(field(vm0(o), "state"), "running");
        json_object_put(o);
        pump_ms(s, 100);
        assert_int_equal(proc_state(pa), 'S');

        /* SIGKILL of a: on_failure restart, a new pid, restarts 1. */
        kill(pa, SIGKILL);
        pump_ms(s, 50);
        assert_string_equal(state_of(s, "a", NULL, NULL), "restarting");
        pump_ms(s, 300);
        assert_string_equal(state_of(s, "a", &p2, &r), "running");
        assert_true(p2 > 0 && p2 != pa);
        assert_int_equal(r, 1);
        assert_string_equal(state_of(s, "b", &r, NULL), "running");
        assert_int_equal(r, pb);
        o = req(s, "{\"api\":1,\"op\":\"status\",\"vm\":\"a\"}");
        assert_string_equal(field(vm0(o), "last_exit"), "{ \"signal\": 9 }");
        json_object_put(o);

        /* stop (a paused VM, too), with the reply after it is gone. */
        o = req(s, "{\"api\":1,\"op\":\"pause\",\"vm\":\"a\"}");
        json_object_put(o);
        o = req(s, "{\"api\":1,\"op\":\"stop\",\"vm\":\"a\",\"grace_ms\":2000}");
        assert_string_equal(field(vm0(o), "state"), "stopped");
        json_object_put(o);
        assert_int_equal(kill(p2, 0), -1);
        expect_error(s, "{\"api\":1,\"op\":\"pause\",\"vm\":\"a\"}", "vm a: not running (stopped)");

        /* A crashing VM with on_failure restart: at most max_restarts, then failed. */
        crash_vm = "a";
        o = req(s, "{\"api\":1,\"op\":\"start\",\"vm\":\"a\"}");
        json_object_put(o);
        pump_ms(s, 1000);
        assert_string_equal(state_of(s, "a", NULL, &r), "failed");
        assert_int_equal(r, 2);
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"bytes\":40}");
        assert_non_null(strstr(field(o, "data"), "fake-vm-output\n"));
        json_object_put(o);

        /* Console input reaches the VMM's stdin; the log is read from an offset. */
        echo_vm = "c";
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"input\":\"x\\n\"}");
        assert_string_equal(field(o, "error"),
                            "vm c: not running (stopped); the input was not sent");
        json_object_put(o);
        o = req(s, "{\"api\":1,\"op\":\"start\",\"vm\":\"c\"}");
        json_object_put(o);
        o = req(s,
                "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"input\":\"hello 1\\nhello 2\\n\"}");
        assert_string_equal(field(o, "ok"), "true");
        assert_string_equal(field(o, "state"), "running");
        json_object_put(o);
        pump_ms(s, 300);
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"from\":0}");
        assert_string_equal(field(o, "data"), "got:hello 1\ngot:hello 2\n");
        assert_string_equal(field(o, "next"), "24");
        assert_string_equal(field(o, "size"), "24");
        json_object_put(o);
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"from\":12,\"bytes\":5}");
        assert_string_equal(field(o, "data"), "got:h");
        assert_string_equal(field(o, "next"), "17");
        json_object_put(o);
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"from\":99}");
        assert_string_equal(field(o, "data"), "");
        assert_string_equal(field(o, "next"), "24");
        json_object_put(o);
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"input\":\"bye\\n\"}");
        json_object_put(o);
        pump_ms(s, 300);
        assert_string_equal(state_of(s, "c", NULL, NULL), "stopped");
        o = req(s, "{\"api\":1,\"op\":\"console\",\"vm\":\"c\",\"from\":24}");
        assert_string_equal(field(o, "data"), "got:bye\n");
        assert_string_equal(field(o, "state"), "stopped");
        json_object_put(o);
        echo_vm = "";

        /* A VM that exits with 0 is stopped, not failed. */
        off_vm = "c";
        o = req(s, "{\"api\":1,\"op\":\"start\",\"vm\":\"c\"}");
        json_object_put(o);
        pump_ms(s, 300);
        assert_string_equal(state_of(s, "c", NULL, NULL), "stopped");

        /* restart of b: a new process. */
        o = req(s, "{\"api\":1,\"op\":\"restart\",\"vm\":\"b\"}");
        assert_string_equal(field(vm0(o), "state"), "running");
        json_object_put(o);
        assert_string_equal(state_of(s, "b", &r, NULL), "running");
        assert_true(r != pb);
        pb = r;

        /* shutdown: every VM stopped, then the loop ends. */
        o = req(s, "{\"api\":1,\"op\":\"shutdown\"}");
        assert_string_equal(field(o, "ok"), "true");
        json_object_put(o);
        for (int i = 0; i < 100 && !ward_sup_poll(s, 10); i++)
                ;
        assert_true(ward_sup_poll(s, 0));
        assert_int_equal(kill(pb, 0), -1);
        ward_sup_free(s);
        struct stat st;
        assert_int_equal(stat(sockp, &st), -1); /* the socket is gone */
        ward_sys_free(d);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

/* ---- 10,000 hostile requests (docs/security.md#the-control-socket) ---- */

#define STRESS_WORKERS 4
#define STRESS_EACH 2500 /* requests per worker: 10,000 in all */
#define STRESS_SLOW 24   /* connections that trickle a byte at a time meanwhile */

/* One whole request on a blocking socket; the reply's first line in out
 * ("" when the supervisor closed without one). -1 on a socket error. */
static int stress_call(const char *text, size_t len, bool whole, char *out, size_t outlen)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, sockp);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {15, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        size_t off = 0;
        while (off < len) {
                ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);
                if (w <= 0)
                        break; /* refused while sending (oversized): read the reply */
                off += (size_t)w;
        }
        out[0] = '\0';
        if (!whole) { /* truncated: gone before the end */
                close(fd);
                return 0;
        }
        shutdown(fd, SHUT_WR);
        size_t n = 0;
        ssize_t r;
        while (n + 1 < outlen && (r = read(fd, out + n, outlen - 1 - n)) > 0) {
                n += (size_t)r;
                if (memchr(out, '\n', n))
                        break;
        }
        out[n] = '\0';
        close(fd);
        return 0;
}

/* A worker: a mix of malformed, truncated, oversized and valid requests,
 * each checked. Its exit status is the number of wrong answers (capped). */
static int stress_worker(unsigned seed)
{
        static const char *const bad[] = {
            "not json\n",
            "{\"api\":1\n",
            "{\"api\":2,\"op\":\"list\"}\n",
            "{\"api\":1,\"op\":\"stop\",\"vm\":\"b\"}\n",
            "{\"api\":1,\"op\":\"explode\"}\n",
            "[1,2,3]\n",
            "{\"api\":1,\"op\":\"status\",\"vm\":\"\\u0000\"}\n",
            "{\"api\":1,\"op\":\"start\",\"vm\":\"a\",\"grace_ms\":-5}\n",
            "\n",
            "{\"api\":1,\"op\":\"console\",\"vm\":\"a\",\"from\":\"x\"}\n",
        };
        static char big[WARD_CTL_MAX_REQUEST + 4096];
        memset(big, '{', sizeof(big));
        char out[4096], junk[256];
        unsigned wrong = 0;
        for (unsigned i = 0; i < STRESS_EACH; i++) {
                seed = seed * 1103515245u + 12345u;
                unsigned kind = (seed >> 16) % 10;
                int rc;
                if (kind < 4) { /* malformed or refused */
                        const char *t = bad[(seed >> 8) % (sizeof(bad) / sizeof(bad[0]))];
                        rc = stress_call(t, strlen(t), true, out, sizeof(out));
                        wrong += rc || !strstr(out, "\"ok\":false");
                } else if (kind < 6) { /* random bytes */
                        for (size_t k = 0; k < sizeof(junk); k++)
                                junk[k] = (char)(seed >> (k % 24));
                        rc = stress_call(junk, 1 + (seed >> 4) % sizeof(junk), true, out,
                                         sizeof(out));
                        wrong += rc || (out[0] && !strstr(out, "\"ok\":false"));
                } else if (kind < 8) { /* truncated: the client goes away mid-request */
                        const char *t = "{\"api\":1,\"op\":\"stat";
                        wrong += stress_call(t, strlen(t), false, out, sizeof(out)) != 0;
                } else if (kind < 9 && i % 50 == 0) { /* oversized, now and then */
                        rc = stress_call(big, sizeof(big), true, out, sizeof(out));
                        wrong += rc || !strstr(out, "larger than");
                } else { /* valid */
                        const char *t = (seed >> 9) & 1
                                            ? "{\"api\":1,\"op\":\"list\"}\n"
                                            : "{\"api\":1,\"op\":\"status\",\"vm\":\"a\"}\n";
                        rc = stress_call(t, strlen(t), true, out, sizeof(out));
                        wrong += rc || !strstr(out, "\"ok\":true");
                }
        }
        return wrong > 100 ? 100 : (int)wrong;
}

/* Connections that send a valid request one byte every 20 ms while the
 * workers run: the supervisor serves everyone else meanwhile. */
static int stress_slow(void)
{
        const char *t = "{\"api\":1,\"op\":\"list\"}\n";
        int fd[STRESS_SLOW];
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, sockp);
        for (int k = 0; k < STRESS_SLOW; k++) {
                fd[k] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd[k] < 0 || connect(fd[k], (struct sockaddr *)&a, sizeof(a)))
                        return 1;
        }
        for (size_t off = 0; off < strlen(t); off++) {
                for (int k = 0; k < STRESS_SLOW; k++)
                        if (send(fd[k], t + off, 1, MSG_NOSIGNAL) != 1)
                                return 2;
                usleep(20000);
        }
        int wrong = 0;
        char out[4096];
        for (int k = 0; k < STRESS_SLOW; k++) {
                ssize_t r = read(fd[k], out, sizeof(out) - 1);
                out[r > 0 ? r : 0] = '\0';
                wrong += !strstr(out, "\"ok\":true");
                close(fd[k]);
        }
        return wrong;
}

static void test_control_stress(void **state)
{
        (void)state;
        struct ward_sys_desc *d;
        struct ward_sup *s = start_supervisor(&d);
        int pa, pb, ra, rb;
        assert_string_equal(state_of(s, "a", &pa, &ra), "running");
        assert_string_equal(state_of(s, "b", &pb, &rb), "running");
        struct json_object *before = req(s, "{\"api\":1,\"op\":\"list\"}");

        pid_t kids[STRESS_WORKERS + 1];
        for (int k = 0; k <= STRESS_WORKERS; k++) {
                kids[k] = fork();
                assert_true(kids[k] >= 0);
                if (kids[k] == 0)
                        _exit(k < STRESS_WORKERS ? stress_worker(0x9e3779b9u * (unsigned)(k + 1))
                                                 : stress_slow());
        }
        /* The supervisor's loop, as ward system up runs it, until all are done. */
        int running = STRESS_WORKERS + 1, status[STRESS_WORKERS + 1];
        for (int turn = 0; running && turn < 200000; turn++) {
                ward_sup_poll(s, 10);
                for (int k = 0; k <= STRESS_WORKERS; k++)
                        if (kids[k] > 0 && waitpid(kids[k], &status[k], WNOHANG) == kids[k]) {
                                kids[k] = 0;
                                running--;
                        }
        }
        assert_int_equal(running, 0);
        for (int k = 0; k <= STRESS_WORKERS; k++) {
                assert_true(WIFEXITED(status[k]));
                assert_int_equal(WEXITSTATUS(status[k]), 0); /* wrong answers */
        }

        /* Nothing changed: same VMs, same pids, no restarts, same list. */
        int pa2, pb2, ra2, rb2;
        assert_string_equal(state_of(s, "a", &pa2, &ra2), "running");
        assert_string_equal(state_of(s, "b", &pb2, &rb2), "running");
        assert_int_equal(pa2, pa);
        assert_int_equal(pb2, pb);
        assert_int_equal(ra2, ra);
        assert_int_equal(rb2, rb);
        struct json_object *after = req(s, "{\"api\":1,\"op\":\"list\"}");
        assert_string_equal(json_object_to_json_string(before), json_object_to_json_string(after));
        json_object_put(before);
        json_object_put(after);
        ward_sup_free(s);
        ward_sys_free(d);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

/* The reply a client running as uid (and gid) id gets to a list request;
 * the supervisor is pumped meanwhile. */
static char *as_user(struct ward_sup *s, unsigned id)
{
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                if (setgid(id) != 0 || setuid(id) != 0)
                        _exit(1);
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un a = {.sun_family = AF_UNIX};
                if (strlen(sockp) >= sizeof(a.sun_path))
                        _exit(4);
                memcpy(a.sun_path, sockp, strlen(sockp) + 1);
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
                        dprintf(p[1], "connect: %s", strerror(errno));
                        _exit(0);
                }
                static const char list[] = "{\"api\":1,\"op\":\"list\"}\n";
                if (write(fd, list, sizeof(list) - 1) < 0)
                        _exit(2);
                shutdown(fd, SHUT_WR);
                char buf[1024];
                ssize_t n;
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        if (write(p[1], buf, (size_t)n) < 0)
                                _exit(3);
                _exit(0);
        }
        close(p[1]);
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        static char out[4096];
        size_t n = 0;
        for (int turn = 0; turn < 500; turn++) {
                ward_sup_poll(s, 10);
                ssize_t r = read(p[0], out + n, sizeof(out) - 1 - n);
                if (r > 0)
                        n += (size_t)r;
                else if (r == 0)
                        break;
        }
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
        out[n] = '\0';
        return out;
}

/* SO_PEERCRED: only the supervisor's uid, and the ids the description lists. */
static void test_peer_credentials(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip(); /* a client of another uid needs root to make */
        snprintf(dir, sizeof(dir), "/tmp/ward-sup-XXXXXX");
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        snprintf(sockp, sizeof(sockp), "%s/ctl.sock", dir);
        char logs[128];
        snprintf(logs, sizeof(logs), "%s/logs", dir);
        static const char *const texts[2] = {
            "{\"ward_system\":1,\"vms\":{\"a\":{\"kernel\":\"/k\",\"policy\":{\"autostart\":"
            "false,\"allow\":[\"start\"]}}},\"linux\":{\"control_gids\":[12345]}}",
            "{\"ward_system\":1,\"vms\":{\"a\":{\"kernel\":\"/k\",\"policy\":{\"autostart\":"
            "false,\"allow\":[\"start\"]}}},\"linux\":{\"control_uids\":[65534]}}"};
        for (int k = 0; k < 2; k++) {
                struct ward_sys_errors e = {0};
                struct ward_sys_desc *d = ward_sys_parse(texts[k], strlen(texts[k]), &e);
                assert_non_null(d);
                assert_int_equal(ward_sys_check(d, NULL, &e), 0);
                struct ward_sup_config cfg = {
                    .socket_path = sockp, .log_dir = logs, .desc_dir = dir, .fake_argv = fake};
                char err[256];
                struct ward_sup *s = ward_sup_new(d, &cfg, err, sizeof(err));
                if (!s)
                        fail_msg("%s", err);
                /* With ids listed, others may connect; the credentials decide. */
                struct stat st;
                assert_int_equal(stat(sockp, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0777);
                const char *got = as_user(s, 65534);
                if (k == 0)
                        assert_string_equal(got,
                                            "{\"api\":1,\"ok\":false,\"error\":\"uid 65534 (gid "
                                            "65534) may not use this control socket "
                                            "(linux.control_uids, control_gids)\"}\n");
                else
                        assert_non_null(strstr(got, "\"ok\":true"));
                /* The supervisor's own uid always may. */
                struct json_object *o = req(s, "{\"api\":1,\"op\":\"list\"}");
                assert_string_equal(field(o, "ok"), "true");
                json_object_put(o);
                ward_sup_free(s);
                ward_sys_free(d);
        }
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_peer_credentials),   cmocka_unit_test(test_parse_table),
            cmocka_unit_test(test_validate_table),     cmocka_unit_test(test_vm_config),
            cmocka_unit_test(test_vm_config_channels), cmocka_unit_test(test_supervisor_loop),
            cmocka_unit_test(test_control_stress),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
