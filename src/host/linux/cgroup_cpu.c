/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cgroup v2 CPU budgets for VMM processes (include/ward/host/linux/cgroup_cpu.h). Every
 * step names the file it touched in its error: cgroup failures (a missing
 * controller, EBUSY, EACCES) are otherwise hard to place.
 */
#include "ward/host/linux/cgroup_cpu.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
        char *o = s;
        for (char *i = s; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else {
                        *o++ = *i;
                }
        }
        *o = '\0';
}

int ward_cgroup_find_root(const char *mountinfo, char *root, size_t size, char *err, size_t errlen)
{
        FILE *f = fopen(mountinfo, "re");
        if (!f) {
                snprintf(err, errlen, "%s: %s", mountinfo, strerror(errno));
                return -1;
        }
        char line[4096];
        int rc = -1;
        while (rc && fgets(line, sizeof(line), f)) {
                /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
                char *sep = strstr(line, " - ");
                if (!sep)
                        continue;
                char fstype[64];
                if (sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
                        continue;
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                unescape(mp);
                if (strlen(mp) < size) {
                        strcpy(root, mp);
                        rc = 0;
                }
        }
        fclose(f);
        if (rc)
                snprintf(err, errlen, "no cgroup v2 file system is mounted (%s)", mountinfo);
        return rc;
}

static int path_of(char *out, size_t size, const char *dir, const char *name)
{
        int n = snprintf(out, size, "%s/%s", dir, name);
        return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Reads a small file's first line into buf ("" when it does not exist). */
static int read_line(const char *path, char *buf, size_t size)
{
        buf[0] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -1;
        ssize_t n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int write_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        ssize_t n = write(fd, s, strlen(s));
        int e = errno;
        close(fd);
        errno = e;
        return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* True when the space-separated list has the word w. */
static bool has_word(const char *list, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = list; *p;) {
                p += strspn(p, " ");
                size_t k = strcspn(p, " ");
                if (k == n && !strncmp(p, w, n))
                        return true;
                p += k;
        }
        return false;
}

/* Hands the cpu controller to dir's children (idempotent). */
static int enable_cpu(const char *dir, char *err, size_t errlen)
{
        char path[4096], cur[512];
        if (path_of(path, sizeof(path), dir, "cgroup.subtree_control")) {
                snprintf(err, errlen, "%s: path too long", dir);
                return -1;
        }
        if (read_line(path, cur, sizeof(cur)) == 0 && has_word(cur, "cpu"))
                return 0;
        if (write_str(path, "+cpu")) {
                snprintf(err, errlen, "%s: +cpu: %s", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
        if (mkdir(path, 0755) && errno != EEXIST) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        return 0;
}

int ward_cgroup_make_system(const char *root, const char *name, char *dir, size_t size, char *err,
                            size_t errlen)
{
        char path[4096], ctrl[512], ward[4096];
        if (path_of(path, sizeof(path), root, "cgroup.controllers") ||
            path_of(ward, sizeof(ward), root, "ward") || path_of(dir, size, ward, name)) {
                snprintf(err, errlen, "%s: path too long", root);
                return -1;
        }
        if (read_line(path, ctrl, sizeof(ctrl))) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        if (!has_word(ctrl, "cpu")) {
                snprintf(err, errlen, "the cgroup v2 cpu controller is not available (%s: \"%s\")",
                         path, ctrl);
                return -1;
        }
        if (enable_cpu(root, err, errlen) || make_dir(ward, err, errlen) ||
            enable_cpu(ward, err, errlen) || make_dir(dir, err, errlen))
                return -1;
        if (enable_cpu(dir, err, errlen)) {
                rmdir(dir);
                return -1;
        }
        return 0;
}

int ward_cgroup_make_vm(const char *dir, const char *vm, int64_t max_us, int64_t period_us,
                        char *out, size_t size, char *err, size_t errlen)
{
        char path[4096], val[64];
        if (path_of(out, size, dir, vm) || path_of(path, sizeof(path), out, "cpu.max")) {
                snprintf(err, errlen, "%s: path too long", dir);
                return -1;
        }
        if (make_dir(out, err, errlen))
                return -1;
        snprintf(val, sizeof(val), "%" PRId64 " %" PRId64, max_us, period_us);
        if (write_str(path, val)) {
                snprintf(err, errlen, "%s: \"%s\": %s", path, val, strerror(errno));
                rmdir(out);
                return -1;
        }
        return 0;
}

int ward_cgroup_join(const char *dir)
{
        char path[4096];
        if (path_of(path, sizeof(path), dir, "cgroup.procs")) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return write_str(path, "0");
}

void ward_cgroup_remove(const char *dir)
{
        rmdir(dir);
}
