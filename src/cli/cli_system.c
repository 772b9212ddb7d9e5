/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward system check FILE`: reads a system description, parses it, and
 * checks it as a whole with this host's facts (RAM, CPUs, the files it
 * names). Every error is one line "FILE: PATH: reason"; the exit status is
 * 0 for a valid description (with a one-line summary) and 2 otherwise.
 * Also the dispatcher of `ward system check|sel4` (up and down go from
 * main.c to ctl.c; sel4 is in cli_sel4.c).
 */
#include "ward/desc/system_desc.h"
#include "ward/desc/sel4_gen.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char ward_system_usage[] =
    "usage: ward system COMMAND [options]\n"
    "\n"
    "Systems of several VMs, described in one JSON file (docs/system-description.md).\n"
    "\n"
    "commands:\n"
    "  check [options] FILE  check the whole description before anything runs, and\n"
    "                        print every error as \"FILE: PATH: reason\"\n"
    "  up FILE [--foreground]  check FILE, then start its supervisor (a daemon unless\n"
    "                        --foreground) and the autostart VMs (docs/control-api.md)\n"
    "  down FILE [--grace S] stop every VM and the supervisor\n"
    "  sel4 FILE --out DIR [--board BOARD]\n"
    "                        check FILE, then write DIR/system.system (a Microkit\n"
    "                        2.0.1 system description) and DIR/vms.mk for the seL4\n"
    "                        build; BOARD: qemu_virt_aarch64 (the default)\n"
    "\n"
    "options of check:\n"
    "  --host-ram SIZE       check the memory total against SIZE (e.g. 8G) instead of\n"
    "                        this host's RAM; 0: no check\n"
    "  --host-cpus N         check host CPU numbers against N CPUs instead of this\n"
    "                        host's; 0: no check beyond 0 to 1023\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 when the description is valid (one summary line on stdout), 2 when\n"
    "it is not (each error on stderr, one a line) or for a bad argument. sel4 also\n"
    "exits 2 for what seL4 cannot honour, and 1 when it cannot write DIR.\n";

const char *ward_sys_host_file_problem(void *ctx, const char *path, enum ward_sys_file_use use)
{
        int dfd = ctx ? *(const int *)ctx : AT_FDCWD;
        struct stat st;
        if (fstatat(dfd, path, &st, 0) != 0)
                return strerror(errno);
        bool disk = use != WARD_SYS_FILE_READ;
        if (!S_ISREG(st.st_mode) && !(disk && S_ISBLK(st.st_mode)))
                return disk ? "not a regular file or block device" : "not a regular file";
        if (faccessat(dfd, path, use == WARD_SYS_FILE_DISK_RW ? R_OK | W_OK : R_OK, 0) != 0)
                return strerror(errno);
        return NULL;
}

/* Reads at most WARD_SYS_MAX_FILE + 1 bytes of path. */
static char *read_text(const char *path, size_t *len, int *err)
{
        FILE *fp = fopen(path, "rb");
        if (!fp) {
                *err = errno;
                return NULL;
        }
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);
        while (buf) {
                if (n == cap) {
                        if (cap > WARD_SYS_MAX_FILE)
                                break;
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = nb;
                        cap *= 2;
                }
                size_t got = fread(buf + n, 1, cap - n, fp);
                n += got;
                if (got == 0)
                        break;
        }
        if (!buf) {
                *err = ENOMEM;
        } else if (ferror(fp)) {
                *err = errno ? errno : EIO;
                free(buf);
                buf = NULL;
        }
        fclose(fp);
        *len = n;
        return buf;
}

size_t ward_sys_load(const char *path, const struct ward_sys_facts *f, struct ward_sys_desc **out,
                     struct ward_sys_errors *errs)
{
        size_t before = errs->n;
        if (out)
                *out = NULL;
        size_t len;
        int rerr = 0;
        char *text = read_text(path, &len, &rerr);
        if (!text) {
                ward_sys_error_add(errs, "/", "cannot read the description: %s", strerror(rerr));
                return errs->n - before;
        }
        struct ward_sys_desc *d = ward_sys_parse(text, len, errs);
        free(text); /* d keeps its strings in the JSON tree */
        if (!d)
                return errs->n - before + (errs->oom && errs->n == before);

        /* Relative paths in the description are taken from its directory. */
        char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        int dfd = -1;
        if (dir) {
                if (slash == dir)
                        slash[1] = '\0';
                else if (slash)
                        *slash = '\0';
                dfd = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        free(dir);
        struct ward_sys_facts facts = f ? *f : (struct ward_sys_facts){0};
        facts.file_problem = ward_sys_host_file_problem;
        facts.ctx = &dfd;
        if (dfd < 0)
                ward_sys_error_add(errs, "/", "cannot open the description's directory: %s",
                                   strerror(errno));
        else
                ward_sys_check(d, &facts, errs);
        if (dfd >= 0)
                close(dfd);
        if (out && errs->n == before && !errs->oom)
                *out = d;
        else
                ward_sys_free(d);
        return errs->n - before + (errs->oom && errs->n == before);
}

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

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
        return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static int cmd_check(int argc, char *const argv[], FILE *out, FILE *err)
{
        enum { O_HOST_RAM = 256, O_HOST_CPUS };
        static const struct option opts[] = {
            {"host-ram", required_argument, NULL, O_HOST_RAM},
            {"host-cpus", required_argument, NULL, O_HOST_CPUS},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        struct ward_sys_facts facts = {
            .host_ram_bytes = host_memory(),
            .host_cpus = ncpu > 0 ? (unsigned)ncpu : 0,
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
