/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward run --system FILE --vm NAME`: one VM of a system description, with
 * the description's config and no VM flags. The supervisor starts each VMM
 * as `ward run --system-fd 3 --system-dir DIR --vm NAME`: fd 3 holds the
 * description text it checked, the VM's shared regions and doorbells
 * follow from fd 4 on. Either way the config comes from
 * ward_sys_vm_config(), the one path from a description to a VM.
 */
#include "ward/cli/cli_run_system.h"

#include "ward/cli/cli_util.h"
#include "ward/desc/vm_config.h"
#include "ward/host/linux/vmm.h"
#include "ward/vm/vm_arch.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct system_args {
        const char *file, *dir, *vm;
        int fd; /* -1: none */
};

bool ward_cli_run_is_system(int argc, char *const argv[])
{
        for (int i = 1; i < argc; i++)
                if (!strcmp(argv[i], "--system") || !strcmp(argv[i], "--system-fd") ||
                    !strncmp(argv[i], "--system=", 9) || !strncmp(argv[i], "--system-fd=", 12))
                        return true;
        return false;
}

static int parse_args(int argc, char *const argv[], struct system_args *a)
{
        static const struct option opts[] = {
            {"system", required_argument, NULL, 's'},
            {"system-fd", required_argument, NULL, 'f'},
            {"system-dir", required_argument, NULL, 'd'},
            {"vm", required_argument, NULL, 'v'},
            {NULL, 0, NULL, 0},
        };
        *a = (struct system_args){.fd = -1};
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
                char *end;
                switch (c) {
                case 's':
                        a->file = optarg;
                        break;
                case 'f':
                        errno = 0;
                        long fd = strtol(optarg, &end, 10);
                        if (errno || *end || fd < 3 || fd > 1024) {
                                fprintf(stderr, "ward run: --system-fd %s: not a descriptor\n",
                                        optarg);
                                return -1;
                        }
                        a->fd = (int)fd;
                        break;
                case 'd':
                        a->dir = optarg;
                        break;
                case 'v':
                        a->vm = optarg;
                        break;
                default:
                        fprintf(stderr,
                                "ward run: %s: with --system the VM comes from the description; "
                                "only --vm may be added\n",
                                argv[optind - 1]);
                        return -1;
                }
        }
        if (optind < argc || !a->vm || !!a->file == (a->fd >= 0) || (a->fd >= 0 && !a->dir)) {
                fprintf(stderr, "ward run: use --system FILE --vm NAME (or, as the supervisor "
                                "does, --system-fd FD --system-dir DIR --vm NAME)\n");
                return -1;
        }
        return 0;
}

/*
 * The description text on fd (the supervisor's sealed memfd). Not
 * ward_sys_read(): every VMM the supervisor starts shares this open file,
 * and with it one file offset, so it is read with pread from 0.
 */
char *ward_cli_read_desc_fd(int fd, size_t *len)
{
        size_t cap = WARD_SYS_MAX_FILE + 1, n = 0;
        char *buf = malloc(cap);
        while (buf && n < cap) {
                ssize_t got = pread(fd, buf + n, cap - n, (off_t)n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                n += (size_t)got;
        }
        *len = n;
        return buf;
}

/*
 * The supervisor's way: the text it checked, checked again here (the VMM
 * trusts no input), with paths taken from dir.
 */
static struct ward_sys_desc *from_fd(const struct system_args *a,
                                     const struct ward_sys_facts *facts,
                                     struct ward_sys_errors *errs)
{
        size_t len;
        char path[PATH_MAX];
        struct ward_sys_desc *d = NULL;
        char *text = ward_cli_read_desc_fd(a->fd, &len);
        close(a->fd);
        if (snprintf(path, sizeof(path), "%s/description", a->dir) >= (int)sizeof(path))
                ward_sys_error_add(errs, "/", "--system-dir: too long");
        else if (text)
                ward_sys_load_text(path, text, len, facts, &d, errs);
        free(text);
        return d;
}

int ward_cli_run_system(int argc, char *const argv[])
{
        struct system_args a;
        if (parse_args(argc, argv, &a))
                return 2;
        struct ward_sys_errors errs = {0};
        struct ward_sys_desc *d = NULL;
        char dir[PATH_MAX];
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        struct ward_sys_facts facts = {.host_ram_bytes = ward_cli_host_memory(),
                                       .host_cpus = ncpu > 0 ? (unsigned)ncpu : 0,
                                       .arch = ward_sys_arch_named(ward_host_vm_arch()->name)};
        if (a.fd >= 0) {
                d = from_fd(&a, &facts, &errs);
                snprintf(dir, sizeof(dir), "%s", a.dir);
        } else {
                if (ward_sys_load(a.file, &facts, &d, &errs) == 0 &&
                    ward_sys_desc_dir(a.file, dir, sizeof(dir))) {
                        ward_sys_error_add(&errs, "/", "cannot resolve its directory");
                }
        }
        if (!d || ward_sys_errors_count(&errs)) {
                ward_sys_errors_print(&errs, a.file ? a.file : "(description from the supervisor)",
                                      stderr);
                ward_sys_errors_free(&errs);
                ward_sys_free(d);
                return 2;
        }
        ward_sys_errors_free(&errs);
        static struct ward_sys_vm_config vc;
        char err[512];
        int rc = 2;
        if (ward_sys_vm_config(d, a.vm, dir, a.fd >= 0 ? a.fd + 1 : 3, &vc, err, sizeof(err)))
                fprintf(stderr, "ward run: %s\n", err);
        else if (a.fd < 0 && (vc.cfg.nshm || vc.cfg.ndoorbells))
                fprintf(stderr,
                        "ward run: vm %s shares memory or doorbells with other VMs: start it "
                        "with ward system up\n",
                        a.vm);
        else
                rc = ward_cli_run_vm(&vc.cfg);
        ward_sys_free(d);
        return rc;
}
