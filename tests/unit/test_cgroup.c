/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cpu_max_us through cgroup v2: finding the mount in mountinfo, and the
 * files the supervisor writes, in a scratch directory standing in for the
 * cgroup root (plain files behave like cgroup files for single writes);
 * then the supervisor itself, whose fake VMs must join their cgroup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ward/host/linux/cgroup.h"
#include "ward/supervisor/supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

static void put(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static const char *get(const char *path)
{
        static char buf[256];
        buf[0] = '\0';
        FILE *f = fopen(path, "r");
        if (!f)
                return "(missing)";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static int setup(void **state)
{
        (void)state;
        snprintf(tmp, sizeof(tmp), "/tmp/ward-cg-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
        return system(cmd);
}

static void test_find_root(void **state)
{
        (void)state;
        char mi[128], root[256], err[256];
        snprintf(mi, sizeof(mi), "%s/mountinfo", tmp);
        put(mi, "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
                "30 22 0:26 / /sys/fs/cgroup\\040v2 rw,nosuid shared:9 master:3 - cgroup2 "
                "cgroup2 rw,nsdelegate\n");
        assert_int_equal(ward_cgroup_find_root(mi, root, sizeof(root), err, sizeof(err)), 0);
        assert_string_equal(root, "/sys/fs/cgroup v2");
        /* A cgroup v1 hierarchy is not v2. */
        put(mi, "22 1 0:21 / /proc rw - proc proc rw\n"
                "31 22 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
        assert_int_equal(ward_cgroup_find_root(mi, root, sizeof(root), err, sizeof(err)), -1);
        char want[256];
        snprintf(want, sizeof(want), "no cgroup v2 file system is mounted (%s)", mi);
        assert_string_equal(err, want);
        snprintf(mi, sizeof(mi), "%s/none", tmp);
        assert_int_equal(ward_cgroup_find_root(mi, root, sizeof(root), err, sizeof(err)), -1);
        snprintf(want, sizeof(want), "%s: No such file or directory", mi);
        assert_string_equal(err, want);
}

static void test_make_system_and_vm(void **state)
{
        (void)state;
        char p[512], dir[256], vm[256], err[512];
        /* No cpu controller in the root: refused, naming the file. */
        snprintf(p, sizeof(p), "%s/cgroup.controllers", tmp);
        put(p, "cpuset io memory pids\n");
        assert_int_equal(
            ward_cgroup_make_system(tmp, "sup-7", "cpu", dir, sizeof(dir), err, sizeof(err)), -1);
        char want[1024];
        snprintf(want, sizeof(want),
                 "the cgroup v2 cpu controller is not available (%s: \"cpuset io memory pids\")",
                 p);
        assert_string_equal(err, want);

        put(p, "cpuset cpu io memory pids\n");
        assert_int_equal(
            ward_cgroup_make_system(tmp, "sup-7", "cpu", dir, sizeof(dir), err, sizeof(err)), 0);
        snprintf(want, sizeof(want), "%s/ward/sup-7", tmp);
        assert_string_equal(dir, want);
        snprintf(p, sizeof(p), "%s/cgroup.subtree_control", tmp);
        assert_string_equal(get(p), "+cpu");
        snprintf(p, sizeof(p), "%s/ward/cgroup.subtree_control", tmp);
        assert_string_equal(get(p), "+cpu");
        snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
        assert_string_equal(get(p), "+cpu");
        /* Already handed down: left as it is. */
        snprintf(p, sizeof(p), "%s/cgroup.subtree_control", tmp);
        put(p, "cpuset cpu io\n");
        assert_int_equal(
            ward_cgroup_make_system(tmp, "sup-8", "cpu", dir, sizeof(dir), err, sizeof(err)), 0);
        assert_string_equal(get(p), "cpuset cpu io\n");

        struct ward_cgroup_limits budget = {true, 20000, 100000, 0};
        assert_int_equal(
            ward_cgroup_make_vm(dir, "vm_b", &budget, vm, sizeof(vm), err, sizeof(err)), 0);
        snprintf(p, sizeof(p), "%s/cpu.max", vm);
        assert_string_equal(get(p), "20000 100000");
        snprintf(p, sizeof(p), "%s/memory.max", vm);
        assert_string_equal(get(p), "(missing)"); /* no cap asked for, none written */
        /* A cgroup that cannot be made: the path and the reason. */
        snprintf(p, sizeof(p), "%s/nodir", tmp);
        assert_int_equal(ward_cgroup_make_vm(p, "vm_c", &budget, vm, sizeof(vm), err, sizeof(err)),
                         -1);
        snprintf(want, sizeof(want), "%s/nodir/vm_c: No such file or directory", tmp);
        assert_string_equal(err, want);
}

/* A jailed VMM's memory cap: both controllers in one write, memory.max and
 * no swap; a root without the memory controller is refused by name. */
static void test_memory_cap(void **state)
{
        (void)state;
        char p[512], dir[256], vm[256], err[512], want[1024];
        snprintf(p, sizeof(p), "%s/cgroup.controllers", tmp);
        put(p, "cpuset cpu io pids\n");
        assert_int_equal(
            ward_cgroup_make_system(tmp, "sup-9", "cpu memory", dir, sizeof(dir), err, sizeof(err)),
            -1);
        snprintf(want, sizeof(want),
                 "the cgroup v2 memory controller is not available (%s: \"cpuset cpu io pids\")",
                 p);
        assert_string_equal(err, want);
        put(p, "cpuset cpu io memory pids\n");
        assert_int_equal(
            ward_cgroup_make_system(tmp, "sup-9", "cpu memory", dir, sizeof(dir), err, sizeof(err)),
            0);
        snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
        assert_string_equal(get(p), "+cpu +memory");
        /* Only what is missing is asked for. */
        snprintf(p, sizeof(p), "%s/cgroup.subtree_control", tmp);
        put(p, "cpu io\n");
        assert_int_equal(ward_cgroup_make_system(tmp, "sup-10", "cpu memory", dir, sizeof(dir), err,
                                                 sizeof(err)),
                         0);
        assert_string_equal(get(p), "+memory");

        uint64_t cap = ward_cgroup_vmm_memory_max(512ull << 20);
        assert_true(cap == (512ull << 20) + (8ull << 20) + WARD_CGROUP_VMM_OVERHEAD);
        struct ward_cgroup_limits jail = {.memory_max = cap};
        assert_int_equal(ward_cgroup_make_vm(dir, "vm_a", &jail, vm, sizeof(vm), err, sizeof(err)),
                         0);
        snprintf(p, sizeof(p), "%s/memory.max", vm);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)cap);
        assert_string_equal(get(p), want);
        snprintf(p, sizeof(p), "%s/memory.swap.max", vm);
        assert_string_equal(get(p), "0");
        snprintf(p, sizeof(p), "%s/cpu.max", vm);
        assert_string_equal(get(p), "(missing)");
}

/* The supervisor: a budgeted VM's process writes itself into its cgroup. */
static char *const sleeper[] = {"/bin/sleep", "1000", NULL};
static char *const *fake(void *ctx, const char *vm)
{
        (void)ctx;
        (void)vm;
        return sleeper;
}

static void test_supervisor_cgroups(void **state)
{
        (void)state;
        static const char json[] =
            "{\"ward_system\":1,\"vms\":{\"a\":{\"kernel\":\"/k\"},\"b\":{\"kernel\":\"/k\"}},"
            "\"linux\":{\"vms\":{\"b\":{\"cpu_max_us\":30000,\"cpu_period_us\":50000}}}}";
        struct ward_sys_errors e = {0};
        struct ward_sys_desc *d = ward_sys_parse(json, strlen(json), &e);
        assert_non_null(d);
        assert_int_equal(e.n, 0);
        char p[512], sock[128], logs[128], err[1024];
        snprintf(sock, sizeof(sock), "%s/ctl.sock", tmp);
        snprintf(logs, sizeof(logs), "%s/logs", tmp);
        struct ward_sup_config cfg = {.socket_path = sock,
                                      .log_dir = logs,
                                      .desc_dir = tmp,
                                      .fake_argv = fake,
                                      .cgroup_root = tmp};
        /* Without a cpu controller nothing starts, and the error names the VM. */
        snprintf(p, sizeof(p), "%s/cgroup.controllers", tmp);
        put(p, "memory\n");
        struct ward_sup *s = ward_sup_new(d, &cfg, err, sizeof(err));
        assert_null(s);
        char want[1024];
        snprintf(want, sizeof(want),
                 "vm b: linux cpu_max_us: the cgroup v2 cpu controller is not available (%s: "
                 "\"memory\")",
                 p);
        assert_string_equal(err, want);

        put(p, "cpu memory\n");
        s = ward_sup_new(d, &cfg, err, sizeof(err));
        if (!s)
                fail_msg("%s", err);
        char vmdir[256];
        snprintf(vmdir, sizeof(vmdir), "%s/ward/sup-%d/b", tmp, (int)getpid());
        snprintf(p, sizeof(p), "%s/cpu.max", vmdir);
        assert_string_equal(get(p), "30000 50000");
        snprintf(p, sizeof(p), "%s/cgroup.procs", vmdir);
        for (int i = 0; i < 100 && strcmp(get(p), "0"); i++)
                ward_sup_poll(s, 10);
        assert_string_equal(get(p), "0"); /* the child wrote "0": itself */
        snprintf(p, sizeof(p), "%s/ward/sup-%d/a", tmp, (int)getpid());
        struct stat st;
        assert_int_equal(stat(p, &st), -1); /* a has no budget: no cgroup */
        ward_sup_free(s);
        ward_sys_free(d);
        ward_sys_errors_free(&e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_find_root, setup, teardown),
            cmocka_unit_test_setup_teardown(test_make_system_and_vm, setup, teardown),
            cmocka_unit_test_setup_teardown(test_memory_cap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_supervisor_cgroups, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
