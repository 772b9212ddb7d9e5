/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description parser and checker.
 *
 * The corpus (tests/system-corpus, the way OpenBSD vmd's regress tests feed
 * its parser): every good/NAME.json must pass, and every bad/NAME.json must
 * give exactly the lines of bad/NAME.expected, with FILE shown as the file's
 * base name. The corpus runs with a host of 4G of RAM and 8 CPUs that runs
 * arm64 VMs (whatever this machine is); the files
 * it names are in tests/system-corpus/files. The corpus directory is
 * WARD_SYSTEM_CORPUS, or the first argument.
 *
 * Then direct tests: sizes, ranges and overlaps at their edges, the checker
 * on descriptions built by hand (no JSON), the example, and the command.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli_capture.h"

#include "ward/desc/system_desc.h"
#include "ward/desc/vm_config.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef WARD_SYSTEM_CORPUS
#define WARD_SYSTEM_CORPUS "tests/system-corpus"
#endif
#ifndef WARD_SOURCE_DIR
#define WARD_SOURCE_DIR "."
#endif

static const char *corpus_dir = WARD_SYSTEM_CORPUS;
static char tmpdir[64]; /* the group's temporary directory */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir ending in suffix, sorted. */
static size_t list_dir(const char *dir, const char *suffix, char ***out)
{
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open %s", dir);
        char **v = NULL;
        size_t n = 0;
        struct dirent *e;
        size_t sl = strlen(suffix);
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
                        continue;
                v = realloc(v, (n + 1) * sizeof(*v));
                assert_non_null(v);
                v[n] = strdup(e->d_name);
                assert_non_null(v[n]);
                n++;
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof(*v), cmp_str);
        *out = v;
        return n;
}

static void free_list(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static const struct ward_sys_facts corpus_facts = {
    .host_ram_bytes = 4 * GiB,
    .host_cpus = 8,
    .arch = WARD_SYS_ARCH_ARM64, /* the same errors on any build machine */
};

/* The error lines `ward system check` prints for dir/name, FILE = name. */
static char *run_corpus_file(const char *dir, const char *name)
{
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        size_t n = ward_sys_load(path, &corpus_facts, &d, &errs);
        assert_int_equal(n, errs.n);
        assert_true(n > 0 || d != NULL);
        char *out = NULL;
        size_t outlen = 0;
        FILE *m = open_memstream(&out, &outlen);
        assert_non_null(m);
        ward_sys_errors_print(&errs, name, m);
        fclose(m);
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
        return out;
}

static void corpus_good(void **state)
{
        (void)state;
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/good", corpus_dir);
        char **names;
        size_t n = list_dir(dir, ".json", &names);
        assert_true(n >= 5);
        int failures = 0;
        for (size_t i = 0; i < n; i++) {
                char *out = run_corpus_file(dir, names[i]);
                if (*out) {
                        print_error("good/%s must pass, but:\n%s", names[i], out);
                        failures++;
                }
                free(out);
        }
        free_list(names, n);
        assert_int_equal(failures, 0);
}

static void corpus_bad(void **state)
{
        (void)state;
        char dir[1024], path[1200];
        snprintf(dir, sizeof(dir), "%s/bad", corpus_dir);
        char **names, **expected;
        size_t n = list_dir(dir, ".json", &names);
        size_t ne = list_dir(dir, ".expected", &expected);
        assert_true(n >= 30);
        /* One .expected per .json, and no stray ones. */
        assert_int_equal(n, ne);
        int failures = 0;
        for (size_t i = 0; i < n; i++) {
                size_t stem = strlen(names[i]) - strlen(".json");
                if (strncmp(names[i], expected[i], stem) != 0 ||
                    strcmp(expected[i] + stem, ".expected") != 0) {
                        print_error("bad/%s has no .expected (found %s)\n", names[i], expected[i]);
                        failures++;
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, expected[i]);
                char *want = slurp(path, NULL);
                assert_non_null(want);
                char *got = run_corpus_file(dir, names[i]);
                if (!*want) {
                        print_error("bad/%s: the .expected file is empty\n", expected[i]);
                        failures++;
                } else if (strcmp(got, want) != 0) {
                        print_error("bad/%s:\n--- got\n%s--- want\n%s", names[i], got, want);
                        failures++;
                }
                free(got);
                free(want);
        }
        free_list(names, n);
        free_list(expected, ne);
        assert_int_equal(failures, 0);
}

/* ---- sizes ---- */

struct size_case {
        const char *s;
        int rc;
        uint64_t v;
};

static const struct size_case size_cases[] = {
    {"256M", 0, 256 * MiB},
    {"256MiB", 0, 256 * MiB},
    {"256MB", 0, 256 * MiB},
    {"2G", 0, 2 * GiB},
    {"4k", 0, 4 * KiB},
    {"0x40000000", 0, 0x40000000},
    {"0X4000ABCD", 0, 0x4000abcd},
    {"0xffffffffffffffff", 0, UINT64_MAX},
    {"0x0", 0, 0},
    {"0M", 0, 0},
    {"17179869183G", 0, 17179869183ull << 30},
    {"17179869184G", -1, 0},
    {"0x10000000000000000", -1, 0},
    {"256", -1, 0}, /* no unit: a plain number is a JSON number */
    {"0", -1, 0},
    {"", -1, 0},
    {"0x", -1, 0},
    {"0xg", -1, 0},
    {"-1M", -1, 0},
    {"+1M", -1, 0},
    {" 1M", -1, 0},
    {"1 M", -1, 0},
    {"1T", -1, 0},
    {"1.5G", -1, 0},
    {"M", -1, 0},
    {"1MX", -1, 0},
};

static void size_strings(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
                const struct size_case *c = &size_cases[i];
                uint64_t v = 0xdeadbeef;
                int rc = ward_sys_parse_size_string(c->s, &v);
                if (rc != c->rc || (rc == 0 && v != c->v)) {
                        print_error("\"%s\": got %d 0x%llx, want %d 0x%llx\n", c->s, rc,
                                    (unsigned long long)v, c->rc, (unsigned long long)c->v);
                        fail();
                }
        }
}

/* Parses text (no file checks) and returns the description; errors into errs. */
static struct ward_sys_desc *parse(const char *text, struct ward_sys_errors *errs)
{
        return ward_sys_parse(text, strlen(text), errs);
}

static void sizes_in_the_schema(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = parse("{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\","
                                        " \"memory\": [{\"gpa\": \"1G\", \"size\": 16777216},"
                                        " {\"gpa\": \"0x80000000\", \"size\": \"1024K\"},"
                                        " {\"gpa\": 8589934592, \"size\": \"2GiB\"}]}},"
                                        " \"shared_regions\": [{\"name\": \"s\", \"size\": \"2M\","
                                        " \"maps\": [{\"vm\": \"a\", \"gpa\": \"0xc0000000\"}]}]}",
                                        &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        assert_int_equal(d->nvms, 1);
        const struct ward_sys_vm *vm = &d->vms[0];
        assert_int_equal(vm->nmemory, 3);
        assert_false(vm->memory_default);
        assert_int_equal(vm->memory[0].gpa, GiB);
        assert_int_equal(vm->memory[0].size, 16 * MiB);
        assert_int_equal(vm->memory[1].gpa, 0x80000000);
        assert_int_equal(vm->memory[1].size, MiB);
        assert_int_equal(vm->memory[2].gpa, 8 * GiB);
        assert_int_equal(vm->memory[2].size, 2 * GiB);
        assert_int_equal(d->shared[0].size, 2 * MiB);
        assert_int_equal(d->shared[0].maps[0].gpa, 0xc0000000);
        assert_true(d->shared[0].maps[0].gpa_ok);
        assert_int_equal(ward_sys_check(d, NULL, &errs), 0);
        ward_sys_free(d);
        ward_sys_errors_free(&errs);
}

static void defaults(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d =
            parse("{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}}", &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        assert_int_equal(d->version, 1);
        assert_null(d->description);
        const struct ward_sys_vm *vm = &d->vms[0];
        assert_string_equal(vm->name, "a");
        assert_string_equal(vm->kernel, "k");
        assert_null(vm->initrd);
        assert_null(vm->cmdline);
        assert_true(vm->memory_default);
        assert_int_equal(vm->nmemory, 1);
        assert_int_equal(vm->memory[0].gpa, 0x40000000);
        assert_int_equal(vm->memory[0].size, 512 * MiB);
        assert_int_equal(vm->cpus, 1);
        assert_int_equal(vm->ndisks, 0);
        assert_int_equal(vm->console, WARD_CONSOLE_SERIAL);
        assert_true(vm->rng);
        assert_true(vm->policy.autostart);
        assert_int_equal(vm->policy.allow, 0);
        assert_int_equal(vm->policy.on_failure, WARD_SYS_ON_FAILURE_STOP);
        assert_int_equal(vm->policy.restart_backoff_ms, 1000);
        assert_int_equal(vm->policy.max_restarts, 5);
        assert_int_equal(d->nshared, 0);
        assert_int_equal(d->ndoorbells, 0);
        assert_string_equal(d->linux_opts.control_socket, "/run/ward/control.sock");
        assert_string_equal(d->linux_opts.console_log_dir, "/var/log/ward");
        assert_int_equal(d->linux_opts.nvms, 0);
        assert_int_equal(ward_sys_find_vm(d, "a"), 0);
        assert_int_equal(ward_sys_find_vm(d, "b"), -1);
        assert_int_equal(ward_sys_find_vm(d, NULL), -1);
        ward_sys_free(d);
        ward_sys_errors_free(&errs);
}

/* ---- ranges ---- */

static void range_edges(void **state)
{
        (void)state;
        /* Valid: not empty, not past 2^64 (ending exactly at 2^64 is fine). */
        assert_true(ward_sys_range_valid(0, 1));
        assert_true(ward_sys_range_valid(0, UINT64_MAX));
        assert_true(ward_sys_range_valid(UINT64_MAX, 1));
        assert_true(ward_sys_range_valid(0xfffffffffffff000ull, 0x1000));
        assert_false(ward_sys_range_valid(0x1000, 0));
        assert_false(ward_sys_range_valid(0xfffffffffffff000ull, 0x1001));
        assert_false(ward_sys_range_valid(UINT64_MAX, 2));
        assert_true(ward_sys_range_valid(1, UINT64_MAX)); /* last byte 2^64 - 1 */
        assert_false(ward_sys_range_valid(2, UINT64_MAX));

        /* Adjacent ranges do not overlap, either way round. */
        assert_false(ward_sys_ranges_overlap(0x1000, 0x1000, 0x2000, 0x1000));
        assert_false(ward_sys_ranges_overlap(0x2000, 0x1000, 0x1000, 0x1000));
        /* One shared byte is an overlap, either way round. */
        assert_true(ward_sys_ranges_overlap(0x1000, 0x1001, 0x2000, 0x1000));
        assert_true(ward_sys_ranges_overlap(0x2000, 0x1000, 0x1000, 0x1001));
        assert_true(ward_sys_ranges_overlap(0x1fff, 1, 0x1000, 0x1000));
        assert_false(ward_sys_ranges_overlap(0x2000, 1, 0x1000, 0x1000));
        /* Containment and equality. */
        assert_true(ward_sys_ranges_overlap(0x1000, 0x10000, 0x4000, 0x1000));
        assert_true(ward_sys_ranges_overlap(0x4000, 0x1000, 0x1000, 0x10000));
        assert_true(ward_sys_ranges_overlap(0x1000, 0x1000, 0x1000, 0x1000));
        /* At the top of the address space, no overflow in the arithmetic. */
        assert_true(ward_sys_ranges_overlap(UINT64_MAX, 1, 1, UINT64_MAX));
        assert_false(ward_sys_ranges_overlap(UINT64_MAX, 1, 0, UINT64_MAX)); /* ends before */
        assert_true(ward_sys_ranges_overlap(0xfffffffffffff000ull, 0x1000, UINT64_MAX, 1));
}

/* ---- the checker on descriptions built by hand ---- */

static const char *no_file_problem(void *ctx, const char *path, enum ward_sys_file_use use)
{
        (void)ctx;
        (void)path;
        (void)use;
        return NULL;
}

struct file_log {
        char calls[8][64];
        int uses[8];
        unsigned n;
};

static const char *logging_file_problem(void *ctx, const char *path, enum ward_sys_file_use use)
{
        struct file_log *log = ctx;
        if (log->n < 8) {
                snprintf(log->calls[log->n], sizeof(log->calls[0]), "%s", path);
                log->uses[log->n++] = (int)use;
        }
        return strcmp(path, "gone") == 0 ? "No such file or directory" : NULL;
}

/* The errors as "PATH: reason" lines. */
static char *lines(const struct ward_sys_errors *e)
{
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        assert_non_null(m);
        for (size_t i = 0; i < e->n; i++)
                fprintf(m, "%s: %s\n", e->v[i].path, e->v[i].reason);
        fclose(m);
        return out;
}

static void expect_lines(const struct ward_sys_errors *e, const char *want)
{
        char *got = lines(e);
        if (strcmp(got, want) != 0) {
                print_error("--- got\n%s--- want\n%s", got, want);
                free(got);
                fail();
        }
        free(got);
}

/* One VM with the given RAM regions, and nothing else. */
static struct ward_sys_desc *hand_desc(struct ward_sys_vm *vm, struct ward_sys_region *r, size_t nr)
{
        static struct ward_sys_desc d;
        memset(&d, 0, sizeof(d));
        memset(vm, 0, sizeof(*vm));
        *vm = (struct ward_sys_vm){
            .name = "a",
            .kernel = "k",
            .memory = r,
            .nmemory = nr,
            .cpus = 1,
            .rng = true,
            .policy = {.autostart = true},
        };
        d.version = WARD_SYS_VERSION;
        d.vms = vm;
        d.nvms = 1;
        return &d;
}

static void check_overlap_edges(void **state)
{
        (void)state;
        struct ward_sys_vm vm;
        struct ward_sys_errors errs = {0};
        const struct ward_sys_facts facts = {.file_problem = no_file_problem};

        /* Adjacent: no error. */
        struct ward_sys_region adj[] = {
            {0x40000000, 16 * MiB, true, false},
            {0x41000000, 4 * KiB, true, false},
            {0x41001000, 4 * KiB, true, false},
            {0, 0x08000000, true, false}, /* right up to the device area */
        };
        assert_int_equal(ward_sys_check(hand_desc(&vm, adj, 4), &facts, &errs), 0);

        /* One byte of overlap (possible only with a misaligned size, which is refused too). */
        struct ward_sys_region one[] = {
            {0x40000000, 16 * MiB, true, false},
            {0x41000000, 0x1001, true, false},
            {0x41001000, 4 * KiB, true, false},
        };
        assert_int_equal(ward_sys_check(hand_desc(&vm, one, 3), &facts, &errs), 2);
        expect_lines(&errs, "/vms/a/memory/1/size: 0x1001 is not a multiple of 4K (the page size)\n"
                            "/vms/a/memory/2: 0x41001000-0x41001fff overlaps /vms/a/memory/1 "
                            "(0x41000000-0x41001000)\n");
        ward_sys_errors_free(&errs);

        /* Wrap-around: refused, and left out of the overlap checks. */
        struct ward_sys_region wrap[] = {
            {0x40000000, 16 * MiB, true, false},
            {0xfffffffffffff000ull, 0x2000, true, false},
            {0xffffffffffffe000ull, 0x3000, true, false},
        };
        assert_int_equal(ward_sys_check(hand_desc(&vm, wrap, 3), &facts, &errs), 2);
        expect_lines(&errs, "/vms/a/memory/1: 0xfffffffffffff000 + 0x2000 runs past the end of "
                            "the 64-bit address space\n"
                            "/vms/a/memory/2: 0xffffffffffffe000 + 0x3000 runs past the end of "
                            "the 64-bit address space\n");
        ward_sys_errors_free(&errs);

        /* The device area's edges. */
        struct ward_sys_region dev[] = {
            {0x40000000, 16 * MiB, true, false},
            {0x07fff000, 0x2000, true, false},
            {0x3ffff000, 0x1000, true, false},
        };
        assert_int_equal(ward_sys_check(hand_desc(&vm, dev, 3), &facts, &errs), 2);
        expect_lines(&errs, "/vms/a/memory/1: 0x7fff000-0x8000fff overlaps ward's device area "
                            "0x8000000-0x3fffffff (GIC, UART, virtio-mmio)\n"
                            "/vms/a/memory/2: 0x3ffff000-0x3fffffff overlaps ward's device area "
                            "0x8000000-0x3fffffff (GIC, UART, virtio-mmio)\n");
        ward_sys_errors_free(&errs);

        /* A region the parser already refused is left alone. */
        struct ward_sys_region skipped[] = {
            {0x40000000, 16 * MiB, true, false},
            {0x40000000, 0, false, false},
        };
        assert_int_equal(ward_sys_check(hand_desc(&vm, skipped, 2), &facts, &errs), 0);
}

static void check_shared_and_host(void **state)
{
        (void)state;
        struct ward_sys_region ra = {0x40000000, 1 * GiB, true, false};
        struct ward_sys_region rb = {0x40000000, 1 * GiB, true, false};
        struct ward_sys_vm vms[2] = {
            {.name = "a", .kernel = "k", .memory = &ra, .nmemory = 1, .cpus = 1},
            {.name = "b", .kernel = "gone", .memory = &rb, .nmemory = 1, .cpus = 2},
        };
        vms[0].policy.autostart = vms[1].policy.autostart = true;
        struct ward_sys_disk disk = {.path = "img"};
        vms[1].disks = &disk;
        vms[1].ndisks = 1;
        struct ward_sys_map maps[2] = {
            {"a", 0x80000000, true, WARD_SYS_ACCESS_RW}, /* right after a's RAM: fine */
            {"b", 0x7fff0000, true, WARD_SYS_ACCESS_RO}, /* inside b's RAM */
        };
        struct ward_sys_shared sh = {"s", 64 * KiB, true, maps, 2, false};
        struct ward_sys_doorbell db = {"d", "a", "b"};
        struct ward_sys_desc d = {
            .version = 1,
            .vms = vms,
            .nvms = 2,
            .shared = &sh,
            .nshared = 1,
            .doorbells = &db,
            .ndoorbells = 1,
        };
        struct file_log log = {0};
        struct ward_sys_facts facts = {
            .host_ram_bytes = 2 * GiB,
            .host_cpus = 4,
            .file_problem = logging_file_problem,
            .ctx = &log,
        };
        struct ward_sys_errors errs = {0};
        assert_int_equal(ward_sys_check(&d, &facts, &errs), 3);
        expect_lines(&errs, "/vms/b/kernel: gone: No such file or directory\n"
                            "/shared_regions/0/maps/1: 0x7fff0000-0x7fffffff overlaps "
                            "/vms/b/memory/0 (0x40000000-0x7fffffff)\n"
                            "/: the VMs' RAM and the shared regions add up to 2097216K, more "
                            "than this host's 2G of RAM\n");
        ward_sys_errors_free(&errs);
        /* The callback was asked about each file, for the right use. */
        assert_int_equal(log.n, 3);
        assert_string_equal(log.calls[0], "k");
        assert_int_equal(log.uses[0], WARD_SYS_FILE_READ);
        assert_string_equal(log.calls[1], "gone");
        assert_string_equal(log.calls[2], "img");
        assert_int_equal(log.uses[2], WARD_SYS_FILE_DISK_RW);
}

static void check_host_memory_total(void **state)
{
        (void)state;
        struct ward_sys_region ra = {0x40000000, 1 * GiB, true, false};
        struct ward_sys_vm vm = {
            .name = "a", .kernel = "k", .memory = &ra, .nmemory = 1, .cpus = 1};
        vm.policy.autostart = true;
        struct ward_sys_desc d = {.version = 1, .vms = &vm, .nvms = 1};
        struct ward_sys_errors errs = {0};
        struct ward_sys_facts facts = {.host_ram_bytes = GiB};
        assert_int_equal(ward_sys_check(&d, &facts, &errs), 0); /* exactly the host's */
        facts.host_ram_bytes = GiB - 1;
        assert_int_equal(ward_sys_check(&d, &facts, &errs), 1);
        expect_lines(&errs, "/: the VMs' RAM and the shared regions add up to 1G, more than "
                            "this host's 1073741823 bytes of RAM\n");
        ward_sys_errors_free(&errs);
        facts.host_ram_bytes = 0; /* unknown: no check */
        assert_int_equal(ward_sys_check(&d, &facts, &errs), 0);
}

/* ---- paths and error text ---- */

static void paths_and_sanitizing(void **state)
{
        (void)state;
        char buf[64] = "/vms";
        assert_int_equal(ward_sys_path_key(buf, sizeof(buf), 4, "a/b~c"), 12);
        assert_string_equal(buf, "/vms/a~1b~0c");
        size_t n = ward_sys_path_key(
            buf, sizeof(buf), 4, "01234567890123456789012345678901234567890123456789012345678901");
        assert_int_equal(n, 63); /* cut to fit */
        assert_int_equal(strlen(buf), 63);
        char big[256] = "";
        char key[100];
        memset(key, 'k', 99);
        key[99] = '\0';
        n = ward_sys_path_key(big, sizeof(big), 0, key);
        assert_int_equal(n, 1 + 64 + 3); /* long keys are shown cut, with "..." */
        assert_string_equal(big + 65, "...");

        struct ward_sys_errors errs = {0};
        ward_sys_error_add(&errs, "/a\nb", "x\ty\x7f\xc3\xa9 %d", 5);
        ward_sys_error_add(&errs, "", "root");
        assert_int_equal(errs.n, 2);
        assert_string_equal(errs.v[0].path, "/a\\x0ab");
        assert_string_equal(errs.v[0].reason, "x\\x09y\\x7f\\xc3\\xa9 5");
        assert_string_equal(errs.v[1].path, "/");
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        ward_sys_errors_print(&errs, "f\n.json", m);
        fclose(m);
        assert_string_equal(out, "f\\x0a.json: /a\\x0ab: x\\x09y\\x7f\\xc3\\xa9 5\n"
                                 "f\\x0a.json: /: root\n");
        free(out);
        ward_sys_errors_free(&errs);
        assert_int_equal(errs.n, 0);
        assert_null(errs.v);
}

static void parse_text_limits(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        /* Not NUL-terminated: the parser reads exactly len bytes. */
        const char text[] = "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}}XXXX";
        struct ward_sys_desc *d = ward_sys_parse(text, sizeof(text) - 5, &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        ward_sys_free(d);
        /* Too large. */
        size_t big = WARD_SYS_MAX_FILE + 1;
        char *huge = malloc(big);
        assert_non_null(huge);
        memset(huge, ' ', big);
        huge[0] = '{';
        assert_null(ward_sys_parse(huge, big, &errs));
        free(huge);
        expect_lines(&errs, "/: 1048577 bytes, more than a description may have (1024K)\n");
        ward_sys_errors_free(&errs);
        /* Nested too deeply for json-c. */
        char deep[200];
        size_t k = 0;
        deep[k++] = '{';
        memcpy(deep + k, "\"vms\":", 6);
        k += 6;
        for (int i = 0; i < 40; i++)
                deep[k++] = '[';
        deep[k] = '\0';
        assert_null(parse(deep, &errs));
        assert_int_equal(errs.n, 1);
        assert_non_null(strstr(errs.v[0].reason, "JSON syntax error at line 1"));
        ward_sys_errors_free(&errs);
}

/* ---- hostile sizes: the errors stay few and the checker near-linear ---- */

/* A growing text buffer for the big descriptions below. */
struct text {
        char *s;
        size_t n, cap;
};

static void put(struct text *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (t->n + (size_t)n + 1 > t->cap) {
                t->cap = (t->n + (size_t)n + 1) * 2;
                t->s = realloc(t->s, t->cap);
                assert_non_null(t->s);
        }
        va_start(ap, fmt);
        vsnprintf(t->s + t->n, (size_t)n + 1, fmt, ap);
        va_end(ap);
        t->n += (size_t)n;
}

/* Parses and checks t (no files); the errors in errs. */
static void check_big(struct text *t, struct ward_sys_errors *errs)
{
        struct ward_sys_desc *d = ward_sys_parse(t->s, t->n, errs);
        assert_non_null(d);
        ward_sys_check(d, NULL, errs);
        ward_sys_free(d);
        free(t->s);
        *t = (struct text){0};
}

static size_t count_reason(const struct ward_sys_errors *e, const char *part)
{
        size_t n = 0;
        for (size_t i = 0; i < e->n; i++)
                n += strstr(e->v[i].reason, part) != NULL;
        return n;
}

static void hostile_counts(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        struct text t = {0};

        /* 2000 identical RAM regions (66 KB): the count, the first 8 regions'
         * overlaps (28 pairs: 8 listed, 20 counted), nothing per region past 8. */
        put(&t, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\", \"memory\": [");
        for (int i = 0; i < 2000; i++)
                put(&t, "%s{\"gpa\": \"0x40000000\", \"size\": \"64M\"}", i ? ", " : "");
        put(&t, "]}}}");
        check_big(&t, &errs);
        assert_int_equal(count_reason(&errs, "2000 RAM regions, at most 8"), 1);
        assert_int_equal(count_reason(&errs, " overlaps /vms/a/memory/"), 8);
        assert_int_equal(count_reason(&errs, "20 more overlaps in this VM's guest-physical "
                                             "address space, not listed (the first 8 are)"),
                         1);
        assert_int_equal(errs.suppressed, 0);
        ward_sys_errors_free(&errs);

        /* A host_cpus list of 5000 zeros: the count, then "listed twice" for
         * the first 1024 only, and the total cap: 100 kept, the rest counted. */
        put(&t, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}, \"linux\": "
                "{\"vms\": {\"a\": {\"host_cpus\": [");
        for (int i = 0; i < 5000; i++)
                put(&t, "%s0", i ? ", " : "");
        put(&t, "]}}}}");
        check_big(&t, &errs);
        assert_int_equal(errs.n, WARD_SYS_MAX_ERRORS);
        assert_int_equal(ward_sys_errors_count(&errs), 1 + 1023);
        assert_string_equal(errs.v[0].reason, "5000 CPUs, at most 1024");
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        assert_non_null(f);
        ward_sys_errors_print(&errs, "x.json", f);
        fclose(f);
        assert_non_null(strstr(out, "\nx.json: /: 924 more errors not shown (only the first 100 "
                                    "are)\n"));
        free(out);
        ward_sys_errors_free(&errs);

        /* 3000 seL4 entries on two VMs' RAM: the count, "no VM" for the first
         * 64 only, and the one real overlap. */
        put(&t, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}, \"b\": "
                "{\"kernel\": \"k\"}}, \"sel4\": {\"vms\": {\"a\": {\"ram_phys\": \"0x40000000\"}, "
                "\"b\": {\"ram_phys\": \"0x40000000\"}");
        for (int i = 0; i < 3000; i++)
                put(&t, ", \"v%d\": {\"ram_phys\": \"0x40000000\"}", i);
        put(&t, "}}}");
        check_big(&t, &errs);
        assert_int_equal(count_reason(&errs, "3002 entries, at most 64 (one per VM)"), 1);
        assert_int_equal(count_reason(&errs, "no VM named"), 62);
        assert_int_equal(count_reason(&errs, "overlaps the RAM of VM \"a\""), 1);
        ward_sys_errors_free(&errs);

        /* A shared region mapped 500 times: the count, and the first 64 maps. */
        put(&t, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}, "
                "\"shared_regions\": [{\"name\": \"s\", \"size\": \"2M\", \"maps\": [");
        for (int i = 0; i < 500; i++)
                put(&t, "%s{\"vm\": \"a\", \"gpa\": \"0x80000000\"}", i ? ", " : "");
        put(&t, "]}]}");
        check_big(&t, &errs);
        assert_int_equal(count_reason(&errs, "500 maps, at most 64 (a VM maps a region once)"), 1);
        assert_int_equal(count_reason(&errs, "\"a\" maps this region already"), 63);
        ward_sys_errors_free(&errs);
}

/* ---- what only Linux has ---- */

/* vsock is refused for an seL4 image, by path, and passes for Linux; networks pass for both. */
static void linux_only_sections(void **state)
{
        (void)state;
        static const char text[] =
            "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\", \"vsock\": "
            "{\"cid\": 3, \"path\": \"/run/a.vsock\"}}, \"b\": {\"kernel\": \"k\"}}, "
            "\"networks\": [{\"name\": \"lan\", \"ports\": [{\"vm\": \"a\", \"mac\": "
            "\"02:00:00:00:00:0a\"}, {\"vm\": \"b\", \"mac\": \"02:00:00:00:00:0b\"}]}]}";
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = ward_sys_parse(text, strlen(text), &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        const struct ward_sys_facts on_linux = {0};
        assert_int_equal(ward_sys_check(d, &on_linux, &errs), 0);
        const struct ward_sys_facts on_sel4 = {.target = WARD_SYS_TARGET_SEL4};
        ward_sys_check(d, &on_sel4, &errs);
        assert_int_equal(errs.n, 1);
        assert_string_equal(errs.v[0].path, "/vms/a/vsock");
        assert_non_null(strstr(errs.v[0].reason, "ward system up only"));
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
}

/* ---- the machine: "arch", the first region's address, the device area ---- */

static void arch_field(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        /* Absent: follows the host; parsed alone, laid out for arm64. */
        struct ward_sys_desc *d =
            parse("{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}}", &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        assert_int_equal(d->arch, WARD_SYS_ARCH_UNSET);
        assert_int_equal(d->machine, WARD_SYS_ARCH_ARM64);
        ward_sys_free(d);

        d = parse("{\"ward_system\": 1, \"arch\": \"x86_64\", \"vms\": {\"a\": {\"kernel\": "
                  "\"k\"}}}",
                  &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        assert_int_equal(d->arch, WARD_SYS_ARCH_X86_64);
        assert_int_equal(d->machine, WARD_SYS_ARCH_X86_64);
        assert_int_equal(d->vms[0].memory[0].gpa, 0); /* the default region, at x86_64's base */
        ward_sys_place(d, WARD_SYS_ARCH_ARM64);       /* the description's arch wins */
        assert_int_equal(d->machine, WARD_SYS_ARCH_X86_64);
        assert_int_equal(d->vms[0].memory[0].gpa, 0);
        ward_sys_free(d);

        d = parse("{\"ward_system\": 1, \"arch\": \"arm64\", \"vms\": {\"a\": {\"kernel\": "
                  "\"k\"}}}",
                  &errs);
        assert_int_equal(errs.n, 0);
        ward_sys_place(d, WARD_SYS_ARCH_X86_64);
        assert_int_equal(d->machine, WARD_SYS_ARCH_ARM64);
        assert_int_equal(d->vms[0].memory[0].gpa, 0x40000000);
        ward_sys_free(d);

        /* Not a machine ward has, or not a string: refused by path; the
         * description is then laid out as if it named none. */
        static const char *const bad[][2] = {
            {"\"aarch64\"", "/arch: unknown arch \"aarch64\" (expected \"arm64\" or \"x86_64\")\n"},
            {"\"X86_64\"", "/arch: unknown arch \"X86_64\" (expected \"arm64\" or \"x86_64\")\n"},
            {"\"\"", "/arch: unknown arch \"\" (expected \"arm64\" or \"x86_64\")\n"},
            {"64", "/arch: expected a string, got an integer\n"},
            {"[\"arm64\"]", "/arch: expected a string, got an array\n"},
            {"null", "/arch: expected a string, got null\n"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                char text[256];
                snprintf(text, sizeof(text),
                         "{\"ward_system\": 1, \"arch\": %s, \"vms\": {\"a\": {\"kernel\": "
                         "\"k\"}}}",
                         bad[i][0]);
                d = parse(text, &errs);
                assert_non_null(d);
                expect_lines(&errs, bad[i][1]);
                assert_int_equal(d->arch, WARD_SYS_ARCH_UNSET);
                ward_sys_free(d);
                ward_sys_errors_free(&errs);
        }

        /* The names and the machines behind them. */
        assert_int_equal(ward_sys_arch_named("arm64"), WARD_SYS_ARCH_ARM64);
        assert_int_equal(ward_sys_arch_named("x86_64"), WARD_SYS_ARCH_X86_64);
        assert_int_equal(ward_sys_arch_named("amd64"), WARD_SYS_ARCH_UNSET);
        assert_int_equal(ward_sys_arch_named(NULL), WARD_SYS_ARCH_UNSET);
        assert_ptr_equal(ward_sys_machine(WARD_SYS_ARCH_UNSET),
                         ward_sys_machine(WARD_SYS_ARCH_ARM64));
        assert_string_equal(ward_sys_machine(WARD_SYS_ARCH_X86_64)->name, "x86_64");
        assert_int_equal(ward_sys_machine(WARD_SYS_ARCH_X86_64)->max_cpus, 64);
        assert_int_equal(ward_sys_machine(WARD_SYS_ARCH_ARM64)->max_cpus, 64);
}

/* The first region's "gpa" may be left out: it is the machine's RAM base. */
static void default_gpa_per_arch(void **state)
{
        (void)state;
        static const char text[] =
            "{\"ward_system\": 1, \"vms\": {"
            "\"a\": {\"kernel\": \"k\", \"memory\": [{\"size\": \"256M\"}, "
            "{\"gpa\": \"0x100000000\", \"size\": \"64M\"}]},"
            " \"b\": {\"kernel\": \"k\"},"
            " \"c\": {\"kernel\": \"k\", \"memory\": [{\"gpa\": 0, \"size\": \"64M\"}]}},"
            " \"shared_regions\": [{\"name\": \"s\", \"size\": \"2M\", \"maps\": "
            "[{\"vm\": \"a\", \"gpa\": \"0x80000000\"}, {\"vm\": \"b\", \"gpa\": "
            "\"0x80000000\"}]}]}";
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = parse(text, &errs);
        assert_non_null(d);
        assert_int_equal(errs.n, 0);
        const struct ward_sys_vm *a = &d->vms[0], *b = &d->vms[1], *c = &d->vms[2];
        assert_true(a->memory[0].gpa_default);
        assert_false(a->memory[1].gpa_default);
        assert_true(b->memory[0].gpa_default);
        assert_false(c->memory[0].gpa_default);

        static const struct {
                enum ward_sys_arch host, machine;
                uint64_t base;
        } cases[] = {
            {WARD_SYS_ARCH_UNSET, WARD_SYS_ARCH_ARM64, 0x40000000},
            {WARD_SYS_ARCH_X86_64, WARD_SYS_ARCH_X86_64, 0},
            {WARD_SYS_ARCH_ARM64, WARD_SYS_ARCH_ARM64, 0x40000000},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                ward_sys_place(d, cases[i].host);
                assert_int_equal(d->machine, cases[i].machine);
                assert_int_equal(a->memory[0].gpa, cases[i].base);
                assert_int_equal(b->memory[0].gpa, cases[i].base);
                assert_int_equal(b->memory[0].size, 512 * MiB);
                assert_int_equal(a->memory[1].gpa, 0x100000000); /* written: stays */
                assert_int_equal(c->memory[0].gpa, 0);
                assert_int_equal(d->shared[0].maps[0].gpa, 0x80000000);
                const struct ward_sys_facts facts = {.arch = cases[i].host};
                /* Valid for both machines (c's RAM at 0 is below arm64's devices). */
                assert_int_equal(ward_sys_check(d, &facts, &errs), 0);
        }
        ward_sys_free(d);
}

/* On x86_64 the first region is the boot RAM, at 0, of 32M to 3G in whole 2M. */
static void x86_first_region(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
            {"{\"gpa\": \"0x40000000\", \"size\": \"256M\"}",
             "/vms/a/memory/0/gpa: 0x40000000: on x86_64 the first RAM region is the boot RAM, "
             "which starts at 0 (leave \"gpa\" out, or write 0)\n"},
            {"{\"gpa\": \"0x200000\", \"size\": \"256M\"}",
             "/vms/a/memory/0/gpa: 0x200000: on x86_64 the first RAM region is the boot RAM, "
             "which starts at 0 (leave \"gpa\" out, or write 0)\n"},
            {"{\"gpa\": 0, \"size\": \"256M\"}", ""},
            {"{\"size\": \"256M\"}", ""},
            {"{\"size\": \"3G\"}", ""}, /* right up to the device area */
            {"{\"size\": \"16M\"}",
             "/vms/a/memory/0/size: 16M: the first RAM region holds the kernel, initrd, boot "
             "structures and ACPI tables and must be at least 32M on x86_64\n"},
            {"{\"size\": \"33M\"}",
             "/vms/a/memory/0/size: 33M: on x86_64 the first RAM region's size must be a "
             "multiple of 2M\n"},
            {"{\"size\": \"3074M\"}",
             "/vms/a/memory/0: 0x0-0xc01fffff overlaps ward's device area 0xc0000000-0xffffffff "
             "(I/O APIC, local APICs, virtio-mmio)\n"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char text[256];
                snprintf(text, sizeof(text),
                         "{\"ward_system\": 1, \"arch\": \"x86_64\", \"vms\": {\"a\": "
                         "{\"kernel\": \"k\", \"memory\": [%s]}}}",
                         cases[i][0]);
                struct ward_sys_errors errs = {0};
                struct ward_sys_desc *d = parse(text, &errs);
                assert_non_null(d);
                assert_int_equal(errs.n, 0);
                const struct ward_sys_facts facts = {.arch = WARD_SYS_ARCH_X86_64};
                ward_sys_check(d, &facts, &errs);
                expect_lines(&errs, cases[i][1]);
                ward_sys_errors_free(&errs);
                ward_sys_free(d);
        }
        /* The same sizes are fine on arm64 (16M least, 4K multiples). */
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = parse("{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": "
                                        "\"k\", \"memory\": [{\"size\": \"16M\"}]}, \"b\": "
                                        "{\"kernel\": \"k\", \"memory\": [{\"size\": "
                                        "\"33M\"}]}}}",
                                        &errs);
        assert_non_null(d);
        assert_int_equal(ward_sys_check(d, NULL, &errs), 0);
        /* ...and refused once the description is laid out for x86_64. */
        ward_sys_place(d, WARD_SYS_ARCH_X86_64);
        assert_int_equal(ward_sys_check(d, NULL, &errs), 2);
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
}

/* Each machine's device area, at its edges, for RAM and shared regions. */
static void device_area_per_arch(void **state)
{
        (void)state;
        struct ward_sys_vm vm;
        struct ward_sys_errors errs = {0};
        const struct ward_sys_facts facts = {.file_problem = no_file_problem};
        struct ward_sys_region r[] = {
            {0, 64 * MiB, true, true},                  /* placed below */
            {0x07fff000, 0x2000, true, false},          /* arm64's area starts at 0x08000000 */
            {0xbffff000, 0x1000, true, false},          /* right below x86_64's */
            {0xbffff000 + 0x1000, 0x1000, true, false}, /* its first page */
            {0xfffff000, 0x2000, true, false},          /* its last page and the next */
            {0x100001000, 0x1000, true, false},         /* above both */
        };
        struct ward_sys_desc *d = hand_desc(&vm, r, ARRAY_SIZE(r));
        d->machine = WARD_SYS_ARCH_ARM64;
        r[0].gpa = 0x40000000;
        assert_int_equal(ward_sys_check(d, &facts, &errs), 1);
        expect_lines(&errs, "/vms/a/memory/1: 0x7fff000-0x8000fff overlaps ward's device area "
                            "0x8000000-0x3fffffff (GIC, UART, virtio-mmio)\n");
        ward_sys_errors_free(&errs);

        d->machine = WARD_SYS_ARCH_X86_64;
        r[0].gpa = 0;
        assert_int_equal(ward_sys_check(d, &facts, &errs), 2);
        expect_lines(&errs, "/vms/a/memory/3: 0xc0000000-0xc0000fff overlaps ward's device area "
                            "0xc0000000-0xffffffff (I/O APIC, local APICs, virtio-mmio)\n"
                            "/vms/a/memory/4: 0xfffff000-0x100000fff overlaps ward's device area "
                            "0xc0000000-0xffffffff (I/O APIC, local APICs, virtio-mmio)\n");
        ward_sys_errors_free(&errs);

        /* A shared region: at 0xd0000000 (x86_64's virtio windows) and at
         * 0x09000000 (arm64's UART), each refused on its own machine only. */
        struct ward_sys_region ram = {0, 64 * MiB, true, true};
        struct ward_sys_map maps[2] = {
            {"a", 0xd0000000, true, WARD_SYS_ACCESS_RW},
            {"b", 0x09000000, true, WARD_SYS_ACCESS_RW},
        };
        struct ward_sys_region ram_b = ram;
        struct ward_sys_vm vms[2] = {
            {.name = "a", .kernel = "k", .memory = &ram, .nmemory = 1, .cpus = 1},
            {.name = "b", .kernel = "k", .memory = &ram_b, .nmemory = 1, .cpus = 1},
        };
        vms[0].policy.autostart = vms[1].policy.autostart = true;
        struct ward_sys_shared sh = {"s", 4 * KiB, true, maps, 2, false};
        struct ward_sys_desc two = {
            .version = 1, .vms = vms, .nvms = 2, .shared = &sh, .nshared = 1};
        two.machine = WARD_SYS_ARCH_X86_64;
        assert_int_equal(ward_sys_check(&two, &facts, &errs), 1);
        expect_lines(&errs, "/shared_regions/0/maps/0: 0xd0000000-0xd0000fff overlaps ward's "
                            "device area 0xc0000000-0xffffffff (I/O APIC, local APICs, "
                            "virtio-mmio)\n");
        ward_sys_errors_free(&errs);
        two.machine = WARD_SYS_ARCH_ARM64;
        ram.gpa = ram_b.gpa = 0x40000000;
        assert_int_equal(ward_sys_check(&two, &facts, &errs), 1);
        expect_lines(&errs, "/shared_regions/0/maps/1: 0x9000000-0x9000fff overlaps ward's "
                            "device area 0x8000000-0x3fffffff (GIC, UART, virtio-mmio)\n");
        ward_sys_errors_free(&errs);
}

/* A description that names its machine runs there only. */
static void arch_mismatch(void **state)
{
        (void)state;
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *x86 = parse("{\"ward_system\": 1, \"arch\": \"x86_64\", \"vms\": "
                                          "{\"a\": {\"kernel\": \"k\"}}}",
                                          &errs);
        struct ward_sys_desc *arm = parse("{\"ward_system\": 1, \"arch\": \"arm64\", \"vms\": "
                                          "{\"a\": {\"kernel\": \"k\"}}}",
                                          &errs);
        struct ward_sys_desc *any =
            parse("{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"k\"}}}", &errs);
        assert_int_equal(errs.n, 0);
        struct ward_sys_facts f = {.arch = WARD_SYS_ARCH_ARM64};
        assert_int_equal(ward_sys_check(x86, &f, &errs), 1);
        expect_lines(&errs, "/arch: this description is for x86_64; this host runs arm64 VMs\n");
        ward_sys_errors_free(&errs);
        assert_int_equal(ward_sys_check(arm, &f, &errs), 0);
        assert_int_equal(ward_sys_check(any, &f, &errs), 0);
        f.arch = WARD_SYS_ARCH_X86_64;
        assert_int_equal(ward_sys_check(arm, &f, &errs), 1);
        expect_lines(&errs, "/arch: this description is for arm64; this host runs x86_64 VMs\n");
        ward_sys_errors_free(&errs);
        assert_int_equal(ward_sys_check(x86, &f, &errs), 0);
        f.arch = WARD_SYS_ARCH_UNSET; /* unknown host: nothing to compare */
        assert_int_equal(ward_sys_check(x86, &f, &errs), 0);
        assert_int_equal(ward_sys_check(arm, &f, &errs), 0);
        /* The error comes first among the checker's, before anything else. */
        static const char text[] = "{\"ward_system\": 2, \"arch\": \"x86_64\", \"vms\": "
                                   "{\"a\": {\"kernel\": \"k\", \"cpus\": 65}}}";
        struct ward_sys_desc *d = parse(text, &errs);
        f.arch = WARD_SYS_ARCH_ARM64;
        assert_int_equal(ward_sys_check(d, &f, &errs), 3);
        expect_lines(&errs, "/ward_system: unknown version 2 (this ward reads version 1)\n"
                            "/arch: this description is for x86_64; this host runs arm64 VMs\n"
                            "/vms/a/cpus: 65 vCPUs: must be from 1 to 64\n");
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
        ward_sys_free(x86);
        ward_sys_free(arm);
        ward_sys_free(any);
}

/* ward_sys_load lays a description out for the facts' machine, and the VM
 * config the VMM builds from it has its boot RAM there. */
static void load_places_for_host(void **state)
{
        (void)state;
        char path[128], kernel[128];
        snprintf(path, sizeof(path), "%s/place.json", tmpdir);
        snprintf(kernel, sizeof(kernel), "%s/k", tmpdir);
        write_file(kernel, "kernel");
        /* 0x10000000 is in arm64's device area, and clear of x86_64's. */
        static const char text[] = "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": "
                                   "\"k\", \"memory\": [{\"size\": \"64M\"}, {\"gpa\": "
                                   "\"0x10000000\", \"size\": \"2M\"}]}}}";
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        const struct ward_sys_facts x86 = {.arch = WARD_SYS_ARCH_X86_64};
        assert_int_equal(ward_sys_load_text(path, text, strlen(text), &x86, &d, &errs), 0);
        assert_non_null(d);
        assert_int_equal(d->machine, WARD_SYS_ARCH_X86_64);
        static struct ward_sys_vm_config vc;
        char err[256];
        assert_int_equal(ward_sys_vm_config(d, "a", tmpdir, 3, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.mem_gpa, 0);
        assert_int_equal(vc.cfg.mem_bytes, 64 * MiB);
        assert_int_equal(vc.cfg.nram, 1);
        assert_int_equal(vc.cfg.ram[0].gpa, 0x10000000);
        ward_sys_free(d);

        const struct ward_sys_facts arm = {.arch = WARD_SYS_ARCH_ARM64};
        assert_int_equal(ward_sys_load_text(path, text, strlen(text), &arm, &d, &errs), 1);
        assert_null(d);
        expect_lines(&errs, "/vms/a/memory/1: 0x10000000-0x101fffff overlaps ward's device area "
                            "0x8000000-0x3fffffff (GIC, UART, virtio-mmio)\n");
        ward_sys_errors_free(&errs);

        /* Without the region in arm64's devices, it is laid out at 0x40000000 there. */
        static const char text2[] = "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": "
                                    "\"k\", \"memory\": [{\"size\": \"64M\"}]}}}";
        assert_int_equal(ward_sys_load_text(path, text2, strlen(text2), &arm, &d, &errs), 0);
        assert_int_equal(d->machine, WARD_SYS_ARCH_ARM64);
        assert_int_equal(ward_sys_vm_config(d, "a", tmpdir, 3, &vc, err, sizeof(err)), 0);
        assert_int_equal(vc.cfg.mem_gpa, 0x40000000);
        ward_sys_free(d);
        unlink(kernel);
}

/* ---- the example ---- */

static void example_is_valid(void **state)
{
        (void)state;
        size_t len = 0;
        char *text = slurp(WARD_SOURCE_DIR "/examples/two-vms-shared.json", &len);
        assert_non_null(text);
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = ward_sys_parse(text, len, &errs);
        free(text);
        assert_non_null(d);
        struct file_log log = {0};
        const struct ward_sys_facts facts = {
            .host_ram_bytes = 2 * GiB,
            .host_cpus = 2,
            .file_problem = logging_file_problem,
            .ctx = &log,
        };
        assert_int_equal(ward_sys_check(d, &facts, &errs), 0);
        assert_int_equal(errs.n, 0);
        assert_int_equal(log.n, 4);
        assert_string_equal(log.calls[0], "/guest/Image");
        assert_string_equal(log.calls[1], "/guest/initramfs.cpio.gz");
        /* What the issue asks of it. */
        assert_int_equal(d->nvms, 2);
        const struct ward_sys_vm *a = &d->vms[0], *b = &d->vms[1];
        assert_string_equal(a->kernel, "/guest/Image");
        assert_string_equal(b->initrd, "/guest/initramfs.cpio.gz");
        assert_true(a->policy.allow & (1u << WARD_SYS_OP_RESTART));
        assert_false(b->policy.allow & (1u << WARD_SYS_OP_RESTART));
        assert_int_equal(d->nshared, 1);
        assert_int_equal(d->shared[0].nmaps, 2);
        assert_string_equal(d->shared[0].maps[0].vm, a->name);
        assert_string_equal(d->shared[0].maps[1].vm, b->name);
        assert_int_equal(d->ndoorbells, 1);
        assert_string_equal(d->doorbells[0].from, a->name);
        assert_string_equal(d->doorbells[0].to, b->name);
        ward_sys_free(d);
}

/* The examples that name no machine run on both: RAM at each machine's
 * base, the shared region at 0x80000000 clear of both device areas. The
 * seL4 one names arm64. */
static void examples_on_both_machines(void **state)
{
        (void)state;
        static const char *const names[] = {"two-vms-shared.json", "three-vms-net.json",
                                            "two-vms-shared-sel4.json"};
        static const enum ward_sys_arch hosts[] = {WARD_SYS_ARCH_ARM64, WARD_SYS_ARCH_X86_64};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                char path[512];
                size_t len = 0;
                snprintf(path, sizeof(path), "%s/examples/%s", WARD_SOURCE_DIR, names[i]);
                char *text = slurp(path, &len);
                assert_non_null(text);
                bool sel4 = strstr(names[i], "sel4") != NULL;
                for (size_t h = 0; h < ARRAY_SIZE(hosts); h++) {
                        struct ward_sys_errors errs = {0};
                        struct ward_sys_desc *d = ward_sys_parse(text, len, &errs);
                        assert_non_null(d);
                        assert_int_equal(d->arch, sel4 ? WARD_SYS_ARCH_ARM64 : WARD_SYS_ARCH_UNSET);
                        ward_sys_place(d, hosts[h]);
                        const struct ward_sys_facts f = {.arch = hosts[h]};
                        size_t n = ward_sys_check(d, &f, &errs);
                        if (sel4 && hosts[h] == WARD_SYS_ARCH_X86_64) {
                                assert_int_equal(n, 1);
                                expect_lines(&errs, "/arch: this description is for arm64; this "
                                                    "host runs x86_64 VMs\n");
                        } else {
                                assert_int_equal(n, 0);
                        }
                        uint64_t base = hosts[h] == WARD_SYS_ARCH_X86_64 && !sel4 ? 0 : 0x40000000;
                        for (size_t v = 0; v < d->nvms; v++) {
                                assert_int_equal(d->vms[v].nmemory, 1);
                                assert_int_equal(d->vms[v].memory[0].gpa, base);
                                assert_int_equal(d->vms[v].memory[0].size, 256 * MiB);
                        }
                        for (size_t k = 0; k < d->nshared; k++)
                                for (size_t m = 0; m < d->shared[k].nmaps; m++)
                                        assert_int_equal(d->shared[k].maps[m].gpa, 0x80000000);
                        ward_sys_errors_free(&errs);
                        ward_sys_free(d);
                }
                free(text);
        }
}

/* ---- the command ---- */

static void cli_check_example(void **state)
{
        (void)state;
        /* The example, with /guest/ pointing at files in a temporary directory. */
        char *text = slurp(WARD_SOURCE_DIR "/examples/two-vms-shared.json", NULL);
        assert_non_null(text);
        char guest[128], path[160], copy[160];
        snprintf(guest, sizeof(guest), "%s/guest", tmpdir);
        assert_int_equal(mkdir(guest, 0755), 0);
        snprintf(path, sizeof(path), "%s/Image", guest);
        write_file(path, "kernel");
        snprintf(path, sizeof(path), "%s/initramfs.cpio.gz", guest);
        write_file(path, "initrd");
        snprintf(copy, sizeof(copy), "%s/two-vms-shared.json", tmpdir);
        FILE *f = fopen(copy, "w");
        assert_non_null(f);
        for (const char *p = text; *p;) {
                if (strncmp(p, "\"/guest/", 8) == 0) {
                        fprintf(f, "\"%s/", guest);
                        p += 8;
                } else {
                        fputc(*p++, f);
                }
        }
        fclose(f);
        free(text);

        const char *args[] = {"check", "--host-ram", "2G", "--host-cpus", "4", copy};
        struct cli_out r = cli(6, args);
        char want[256];
        snprintf(want, sizeof(want),
                 "%s: ok: 2 VMs, 2 vCPUs, 512M of RAM, 1 shared region (2M), 1 doorbell\n", copy);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.out, want);
        assert_string_equal(r.err, "");
        cli_free(&r);

        /* Not enough RAM, one missing file: exit 2 and every error. */
        snprintf(path, sizeof(path), "%s/initramfs.cpio.gz", guest);
        unlink(path);
        const char *args2[] = {"check", "--host-ram", "256M", copy};
        r = cli(4, args2);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.out, "");
        char want2[1024];
        snprintf(want2, sizeof(want2),
                 "%s: /vms/vm_a/initrd: %s/initramfs.cpio.gz: No such file or directory\n"
                 "%s: /vms/vm_b/initrd: %s/initramfs.cpio.gz: No such file or directory\n"
                 "%s: /: the VMs' RAM and the shared regions add up to 514M, more than this "
                 "host's 256M of RAM\n",
                 copy, guest, copy, guest, copy);
        assert_string_equal(r.err, want2);
        cli_free(&r);
        unlink(copy);
        snprintf(path, sizeof(path), "%s/Image", guest);
        unlink(path);
        rmdir(guest);
}

static void cli_relative_paths(void **state)
{
        (void)state;
        /* Relative paths are taken from the description's directory, not the cwd. */
        char path[160], sub[128];
        snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
        assert_int_equal(mkdir(sub, 0755), 0);
        snprintf(path, sizeof(path), "%s/Image", tmpdir);
        write_file(path, "kernel");
        snprintf(path, sizeof(path), "%s/sub/sys.json", tmpdir);
        write_file(path, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"../Image\"}, "
                         "\"b\": {\"kernel\": \"Image\"}, \"c\": {\"kernel\": \"sub\"}}}");
        const char *args[] = {"check", "--host-ram", "0", path};
        struct cli_out r = cli(4, args);
        char want[512];
        snprintf(want, sizeof(want),
                 "%s: /vms/b/kernel: Image: No such file or directory\n"
                 "%s: /vms/c/kernel: sub: No such file or directory\n",
                 path, path);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, want);
        cli_free(&r);
        unlink(path);
        snprintf(path, sizeof(path), "%s/Image", tmpdir);
        unlink(path);
        rmdir(sub);

        /* The host's file callback on its own. */
        struct ward_sys_host_dirs dfd = {.desc_dir = open(tmpdir, O_PATH | O_DIRECTORY),
                                         .root = -1};
        assert_true(dfd.desc_dir >= 0);
        snprintf(path, sizeof(path), "%s/disk", tmpdir);
        write_file(path, "disk");
        /* With a root, an absolute path is the root's: /disk is tmpdir/disk. */
        assert_string_equal(ward_sys_host_file_problem(&dfd, "/disk", WARD_SYS_FILE_READ),
                            "No such file or directory");
        dfd.root = dfd.desc_dir;
        assert_null(ward_sys_host_file_problem(&dfd, "/disk", WARD_SYS_FILE_READ));
        assert_null(ward_sys_host_file_problem(&dfd, "//disk", WARD_SYS_FILE_READ));
        assert_string_equal(ward_sys_host_file_problem(&dfd, "/", WARD_SYS_FILE_READ),
                            "not a regular file");
        dfd.root = -1;
        assert_null(ward_sys_host_file_problem(&dfd, "disk", WARD_SYS_FILE_READ));
        assert_null(ward_sys_host_file_problem(&dfd, "disk", WARD_SYS_FILE_DISK_RW));
        assert_null(ward_sys_host_file_problem(NULL, path, WARD_SYS_FILE_DISK_RO));
        assert_string_equal(ward_sys_host_file_problem(&dfd, ".", WARD_SYS_FILE_READ),
                            "not a regular file");
        assert_string_equal(ward_sys_host_file_problem(&dfd, ".", WARD_SYS_FILE_DISK_RO),
                            "not a regular file or block device");
        assert_string_equal(ward_sys_host_file_problem(&dfd, "nope", WARD_SYS_FILE_READ),
                            "No such file or directory");
        unlink(path);
        close(dfd.desc_dir);
}

/* check --arch: the machine to check for, instead of this host's. */
static void cli_check_arch(void **state)
{
        (void)state;
        char path[160], kernel[160], want[512];
        snprintf(kernel, sizeof(kernel), "%s/Image", tmpdir);
        write_file(kernel, "kernel");
        snprintf(path, sizeof(path), "%s/arch.json", tmpdir);
        /* Valid on both machines, laid out for each in turn. */
        write_file(path, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"Image\", "
                         "\"memory\": [{\"size\": \"64M\"}]}}}");
        for (int i = 0; i < 2; i++) {
                const char *args[] = {"check", "--arch", i ? "x86_64" : "arm64", path};
                struct cli_out r = cli(4, args);
                assert_int_equal(r.rc, 0);
                snprintf(want, sizeof(want),
                         "%s: ok: 1 VM, 1 vCPU, 64M of RAM, 0 shared regions, 0 doorbells\n", path);
                assert_string_equal(r.out, want);
                cli_free(&r);
        }
        /* A first region at arm64's base: fine there, refused for x86_64. */
        write_file(path, "{\"ward_system\": 1, \"vms\": {\"a\": {\"kernel\": \"Image\", "
                         "\"memory\": [{\"gpa\": \"0x40000000\", \"size\": \"64M\"}]}}}");
        const char *arm[] = {"check", "--arch", "arm64", path};
        struct cli_out r = cli(4, arm);
        assert_int_equal(r.rc, 0);
        cli_free(&r);
        const char *x86[] = {"check", "--arch", "x86_64", path};
        r = cli(4, x86);
        assert_int_equal(r.rc, 2);
        snprintf(want, sizeof(want),
                 "%s: /vms/a/memory/0/gpa: 0x40000000: on x86_64 the first RAM region is the boot "
                 "RAM, which starts at 0 (leave \"gpa\" out, or write 0)\n",
                 path);
        assert_string_equal(r.err, want);
        cli_free(&r);
        /* A description for x86_64, checked for arm64: the one error. */
        write_file(path, "{\"ward_system\": 1, \"arch\": \"x86_64\", \"vms\": {\"a\": "
                         "{\"kernel\": \"Image\"}}}");
        r = cli(4, arm);
        assert_int_equal(r.rc, 2);
        snprintf(want, sizeof(want),
                 "%s: /arch: this description is for x86_64; this host runs arm64 VMs\n", path);
        assert_string_equal(r.err, want);
        cli_free(&r);
        r = cli(4, x86);
        assert_int_equal(r.rc, 0);
        cli_free(&r);
        unlink(path);
        unlink(kernel);
}

static void cli_usage(void **state)
{
        (void)state;
        struct cli_out r = cli(0, NULL);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, ward_system_usage);
        cli_free(&r);

        const char *help[] = {"--help"};
        r = cli(1, help);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.out, ward_system_usage);
        cli_free(&r);

        const char *check_help[] = {"check", "-h"};
        r = cli(2, check_help);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.out, ward_system_usage);
        cli_free(&r);

        const char *up[] = {"up", "x.json"};
        r = cli(2, up);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system: up: unknown command (see ward system --help)\n");
        cli_free(&r);

        const char *none[] = {"check"};
        r = cli(1, none);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system check: which file? (ward system check FILE) "
                                   "(see ward system --help)\n");
        cli_free(&r);

        const char *two[] = {"check", "a.json", "b.json"};
        r = cli(3, two);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err,
                            "ward system check: one file at a time (see ward system --help)\n");
        cli_free(&r);

        const char *bad_opt[] = {"check", "--frob", "a.json"};
        r = cli(3, bad_opt);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err,
                            "ward system check: --frob: unknown option (see ward system --help)\n");
        cli_free(&r);

        const char *bad_ram[] = {"check", "--host-ram", "lots", "a.json"};
        r = cli(4, bad_ram);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system check: --host-ram lots: not a size\n");
        cli_free(&r);

        const char *bad_cpus[] = {"check", "--host-cpus", "-1", "a.json"};
        r = cli(4, bad_cpus);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system check: --host-cpus -1: not a count\n");
        cli_free(&r);

        const char *bad_arch[] = {"check", "--arch", "aarch64", "a.json"};
        r = cli(4, bad_arch);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system check: --arch aarch64: not a machine ward has "
                                   "(arm64 or x86_64)\n");
        cli_free(&r);

        const char *no_value[] = {"check", "a.json", "--host-ram"};
        r = cli(3, no_value);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "ward system check: --host-ram: needs a value\n");
        cli_free(&r);

        const char *missing[] = {"check", "/nonexistent/sys.json"};
        r = cli(2, missing);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.err, "/nonexistent/sys.json: /: cannot read the description: No "
                                   "such file or directory\n");
        cli_free(&r);

        const char *dir[] = {"check", tmpdir};
        r = cli(2, dir);
        assert_int_equal(r.rc, 2);
        char want[256];
        snprintf(want, sizeof(want), "%s: /: cannot read the description: Is a directory\n",
                 tmpdir);
        assert_string_equal(r.err, want);
        cli_free(&r);
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/ward-test-system-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
        (void)state;
        return rmdir(tmpdir);
}

int main(int argc, char **argv)
{
        if (argc > 1)
                corpus_dir = argv[1];
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(corpus_good),
            cmocka_unit_test(corpus_bad),
            cmocka_unit_test(size_strings),
            cmocka_unit_test(sizes_in_the_schema),
            cmocka_unit_test(defaults),
            cmocka_unit_test(range_edges),
            cmocka_unit_test(check_overlap_edges),
            cmocka_unit_test(check_shared_and_host),
            cmocka_unit_test(check_host_memory_total),
            cmocka_unit_test(paths_and_sanitizing),
            cmocka_unit_test(parse_text_limits),
            cmocka_unit_test(hostile_counts),
            cmocka_unit_test(linux_only_sections),
            cmocka_unit_test(arch_field),
            cmocka_unit_test(default_gpa_per_arch),
            cmocka_unit_test(x86_first_region),
            cmocka_unit_test(device_area_per_arch),
            cmocka_unit_test(arch_mismatch),
            cmocka_unit_test(load_places_for_host),
            cmocka_unit_test(example_is_valid),
            cmocka_unit_test(examples_on_both_machines),
            cmocka_unit_test(cli_check_example),
            cmocka_unit_test(cli_relative_paths),
            cmocka_unit_test(cli_check_arch),
            cmocka_unit_test(cli_usage),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
