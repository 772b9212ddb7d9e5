/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A description as a file on this host: reading, parsing and checking it
 * with the host's facts (ward_sys_load), the host's file check, and the
 * paths in it, which are taken from the file's directory.
 */
#include "ward/desc/system_desc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define BUILT_FOR WARD_SYS_ARCH_X86_64
#else
#define BUILT_FOR WARD_SYS_ARCH_ARM64 /* and where ward has no backend, as ward run */
#endif

const char *ward_sys_host_file_problem(void *ctx, const char *path, enum ward_sys_file_use use)
{
        const struct ward_sys_host_dirs *dirs = ctx;
        int dfd = dirs ? dirs->desc_dir : AT_FDCWD;
        if (dirs && dirs->root >= 0 && path[0] == '/') {
                dfd = dirs->root;
                while (path[0] == '/')
                        path++;
                if (!path[0])
                        path = ".";
        }
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

char *ward_sys_read(const char *path, size_t *len, int *err)
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
        size_t len;
        int rerr = 0;
        if (out)
                *out = NULL;
        char *text = ward_sys_read(path, &len, &rerr);
        if (!text) {
                ward_sys_error_add(errs, "/", "cannot read the description: %s", strerror(rerr));
                return 1;
        }
        size_t n = ward_sys_load_text(path, text, len, f, out, errs);
        free(text); /* d keeps its strings in the JSON tree */
        return n;
}

size_t ward_sys_load_text(const char *path, const char *text, size_t len,
                          const struct ward_sys_facts *f, struct ward_sys_desc **out,
                          struct ward_sys_errors *errs)
{
        size_t before = ward_sys_errors_count(errs);
        if (out)
                *out = NULL;
        struct ward_sys_desc *d = ward_sys_parse(text, len, errs);
        if (!d)
                return ward_sys_errors_count(errs) - before +
                       (errs->oom && ward_sys_errors_count(errs) == before);

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
        /* A description that names no machine is laid out for the one that
         * runs it: seL4's is arm64; without the caller's word, the one this
         * ward is built for (ward_host_vm_arch()'s answer, known here at
         * compile time, so that src/desc needs no VM core). */
        if (facts.target == WARD_SYS_TARGET_SEL4)
                facts.arch = WARD_SYS_ARCH_ARM64;
        else if (facts.arch == WARD_SYS_ARCH_UNSET)
                facts.arch = BUILT_FOR;
        ward_sys_place(d, facts.arch);
        struct ward_sys_host_dirs dirs = {.desc_dir = dfd, .root = -1};
        facts.file_problem = ward_sys_host_file_problem;
        facts.ctx = &dirs;
        if (dfd < 0) {
                ward_sys_error_add(errs, "/", "cannot open the description's directory: %s",
                                   strerror(errno));
        } else if (facts.root &&
                   (dirs.root = open(facts.root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                ward_sys_error_add(errs, "/", "cannot open the root directory %s: %s", facts.root,
                                   strerror(errno));
        } else {
                ward_sys_check(d, &facts, errs);
        }
        if (dfd >= 0)
                close(dfd);
        if (dirs.root >= 0)
                close(dirs.root);
        if (out && ward_sys_errors_count(errs) == before && !errs->oom)
                *out = d;
        else
                ward_sys_free(d);
        return ward_sys_errors_count(errs) - before +
               (errs->oom && ward_sys_errors_count(errs) == before);
}

int ward_sys_path_join(const char *dir, const char *path, char *out, size_t size)
{
        int n = path[0] == '/' || !dir ? snprintf(out, size, "%s", path)
                                       : snprintf(out, size, "%s/%s", dir, path);
        return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ward_sys_desc_dir(const char *file, char *out, size_t size)
{
        char *copy = strdup(file);
        if (!copy)
                return -1;
        char *slash = strrchr(copy, '/');
        const char *dir = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
        char real[PATH_MAX];
        int rc = realpath(dir, real) && snprintf(out, size, "%s", real) < (int)size ? 0 : -1;
        free(copy);
        return rc;
}
