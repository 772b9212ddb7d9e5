/* SPDX-License-Identifier: BSD-2-Clause */
/* The `ward run` command line of one VM of the description (ward_sup_run_argv). */
#include "supervisor_internal.h"
#include <stdio.h>
#include <string.h>

static const char *put(char **p, char *end, const char *fmt, const char *a)
{
        int n = snprintf(*p, (size_t)(end - *p), fmt, a);
        if (n < 0 || n >= end - *p)
                return NULL;
        const char *s = *p;
        *p += n + 1;
        return s;
}

int ward_sup_run_argv(const struct ward_sys_vm *vm, const char *exe, const char *desc_dir,
                      char **argv, size_t max, char *buf, size_t bufsize, char *err, size_t errlen)
{
        if (vm->nmemory < 1 || vm->nmemory > 1 + WARD_MAX_RAM_EXTRA) {
                snprintf(err, errlen, "vm %s: ward run takes 1 to %d RAM regions, not %zu",
                         vm->name, 1 + WARD_MAX_RAM_EXTRA, vm->nmemory);
                return -1;
        }
        char *p = buf, *end = buf + bufsize;
        size_t n = 0;
        char path[PATH_MAX], num[32];
#define ARG(fmt, a)                                                                                \
        do {                                                                                       \
                const char *s_ = put(&p, end, fmt, a);                                             \
                if (!s_ || n + 2 > max)                                                            \
                        goto too_long;                                                             \
                argv[n++] = (char *)s_;                                                            \
        } while (0)
#define PATHARG(a)                                                                                 \
        do {                                                                                       \
                if (ward_sys_path_join(desc_dir, a, path, sizeof(path)))                           \
                        goto too_long;                                                             \
                ARG("%s", path);                                                                   \
        } while (0)
        ARG("%s", exe);
        ARG("%s", "run");
        ARG("%s", "--kernel");
        PATHARG(vm->kernel);
        if (vm->initrd) {
                ARG("%s", "--initrd");
                PATHARG(vm->initrd);
        }
        if (vm->cmdline) {
                ARG("%s", "--cmdline");
                ARG("%s", vm->cmdline);
        }
        /* The first region is the boot RAM (the checker kept it 2M aligned). */
        ARG("%s", "--mem");
        snprintf(num, sizeof(num), "%lluK", (unsigned long long)(vm->memory[0].size >> 10));
        ARG("%s", num);
        if (vm->memory[0].gpa != WARD_SYS_DEFAULT_RAM_GPA) {
                ARG("%s", "--mem-at");
                snprintf(num, sizeof(num), "0x%llx", (unsigned long long)vm->memory[0].gpa);
                ARG("%s", num);
        }
        for (size_t i = 1; i < vm->nmemory; i++) {
                ARG("%s", "--ram");
                snprintf(num, sizeof(num), "0x%llx:%lluK", (unsigned long long)vm->memory[i].gpa,
                         (unsigned long long)(vm->memory[i].size >> 10));
                ARG("%s", num);
        }
        ARG("%s", "--cpus");
        snprintf(num, sizeof(num), "%lld", (long long)vm->cpus);
        ARG("%s", num);
        for (size_t i = 0; i < vm->ndisks; i++) {
                if (strchr(vm->disks[i].path, ',')) {
                        snprintf(err, errlen,
                                 "vm %s: disk %zu: ward run cannot take a path with a comma",
                                 vm->name, i);
                        return -1;
                }
                if (ward_sys_path_join(desc_dir, vm->disks[i].path, path, sizeof(path)))
                        goto too_long;
                ARG("%s", "--disk");
                ARG(vm->disks[i].read_only ? "%s,ro" : "%s", path);
        }
        if (vm->console == WARD_CONSOLE_VIRTIO) {
                ARG("%s", "--console");
                ARG("%s", "virtio");
        }
        if (!vm->rng)
                ARG("%s", "--no-rng");
        argv[n] = NULL;
        return (int)n;
too_long:
        snprintf(err, errlen, "vm %s: the ward run command line is too long", vm->name);
        return -1;
#undef ARG
#undef PATHARG
}

int ward_sup_check_runnable(const struct ward_sys_desc *d, const char *desc_dir, char *err,
                            size_t errlen)
{
        for (size_t i = 0; i < d->nvms; i++) {
                char *argv[MAX_ARGS];
                static char buf[65536];
                if (ward_sup_run_argv(&d->vms[i], "ward", desc_dir, argv, MAX_ARGS, buf,
                                      sizeof(buf), err, errlen) < 0)
                        return -1;
        }
        return 0;
}
