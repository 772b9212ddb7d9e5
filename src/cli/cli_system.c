/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward system check FILE`: reads a system description, parses it, and
 * checks it as a whole with this host's facts (RAM, CPUs, the machine its
 * VMs are, the files it names; --host-ram, --host-cpus and --arch stand in
 * for them). Every error is one line "FILE: PATH: reason"; the exit status
 * is 0 for a valid description (with a one-line summary) and 2 otherwise.
 * Also the dispatcher of `ward system check|sel4` (up and down go from
 * main.c to cli_system_up.c; sel4 is in cli_sel4.c).
 */
#include "ward/cli/cli_system.h"
#include "ward/cli/cli_util.h"
#include "ward/desc/system_desc.h"
#include "ward/host/linux/vmm.h"
#include "ward/vm/vm_arch.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *plural(size_t n, const char *one, const char *many)
{
        return n == 1 ? one : many;
}

static void human(char *buf, size_t n, uint64_t v)
{
        if (v && v % (1ull << 30) == 0)
                snprintf(buf, n, "%lluG", (unsigned long long)(v >> 30));
        else if (v && v % (1ull << 20) == 0)
                snprintf(buf, n, "%lluM", (unsigned long long)(v >> 20));
        else
                snprintf(buf, n, "%lluK", (unsigned long long)(v >> 10));
}

static void summary(FILE *out, const char *name, const struct ward_sys_desc *d)
{
        uint64_t ram = 0, shared = 0;
        long long cpus = 0;
        for (size_t i = 0; i < d->nvms; i++) {
                cpus += d->vms[i].cpus;
                for (size_t k = 0; k < d->vms[i].nmemory; k++)
                        ram += d->vms[i].memory[k].size;
        }
        for (size_t i = 0; i < d->nshared; i++)
                shared += d->shared[i].size;
        char r[32], s[48] = "";
        human(r, sizeof(r), ram);
        if (d->nshared) {
                char h[32];
                human(h, sizeof(h), shared);
                snprintf(s, sizeof(s), " (%s)", h);
        }
        fprintf(out, "%s: ok: %zu %s, %lld %s, %s of RAM, %zu shared %s%s, %zu %s\n", name, d->nvms,
                plural(d->nvms, "VM", "VMs"), cpus, plural((size_t)cpus, "vCPU", "vCPUs"), r,
                d->nshared, plural(d->nshared, "region", "regions"), s, d->ndoorbells,
                plural(d->ndoorbells, "doorbell", "doorbells"));
}

static int cmd_check(int argc, char *const argv[], FILE *out, FILE *err)
{
        enum { O_HOST_RAM = 256, O_HOST_CPUS, O_ARCH };
        static const struct option opts[] = {
            {"host-ram", required_argument, NULL, O_HOST_RAM},
            {"host-cpus", required_argument, NULL, O_HOST_CPUS},
            {"arch", required_argument, NULL, O_ARCH},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        struct ward_sys_facts facts = {
            .host_ram_bytes = ward_cli_host_memory(),
            .host_cpus = ncpu > 0 ? (unsigned)ncpu : 0,
            .arch = ward_sys_arch_named(ward_host_vm_arch()->name),
        };
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case O_HOST_RAM:
                        if (ward_parse_size(optarg, &facts.host_ram_bytes) != 0) {
                                fprintf(err, "ward system check: --host-ram %s: not a size\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case O_HOST_CPUS: {
                        char *end;
                        errno = 0;
                        long n = strtol(optarg, &end, 10);
                        if (errno || *end || end == optarg || n < 0 || n > 1000000) {
                                fprintf(err, "ward system check: --host-cpus %s: not a count\n",
                                        optarg);
                                return 2;
                        }
                        facts.host_cpus = (unsigned)n;
                        break;
                }
                case O_ARCH:
                        facts.arch = ward_sys_arch_named(optarg);
                        if (facts.arch == WARD_SYS_ARCH_UNSET) {
                                fprintf(err,
                                        "ward system check: --arch %s: not a machine ward has "
                                        "(arm64 or x86_64)\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        fputs(ward_system_usage, out);
                        return 0;
                case ':':
                        fprintf(err, "ward system check: %s: needs a value\n", argv[optind - 1]);
                        return 2;
                default:
                        fprintf(err,
                                "ward system check: %s: unknown option (see ward system --help)\n",
                                argv[optind - 1]);
                        return 2;
                }
        }
        if (argc - optind != 1) {
                fprintf(err, "ward system check: %s (see ward system --help)\n",
                        optind == argc ? "which file? (ward system check FILE)"
                                       : "one file at a time");
                return 2;
        }
        const char *file = argv[optind];
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        size_t n = ward_sys_load(file, &facts, &d, &errs);
        if (n || errs.oom || !d) {
                ward_sys_errors_print(&errs, file, err);
                ward_sys_errors_free(&errs);
                ward_sys_free(d);
                return 2;
        }
        summary(out, file, d);
        ward_sys_errors_free(&errs);
        ward_sys_free(d);
        return 0;
}

int ward_cli_system(int argc, char *const argv[], FILE *out, FILE *err)
{
        if (argc < 2) {
                fputs(ward_system_usage, err);
                return 2;
        }
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                fputs(ward_system_usage, out);
                return 0;
        }
        if (strcmp(argv[1], "check") == 0)
                return cmd_check(argc - 1, argv + 1, out, err);
        if (strcmp(argv[1], "sel4") == 0)
                return ward_cli_system_sel4(argc - 1, argv + 1, out, err);
        fprintf(err, "ward system: %s: unknown command (see ward system --help)\n", argv[1]);
        return 2;
}
