/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cgroup v2 CPU budgets and memory caps for VMM processes (include/ward/host/linux/cgroup.h). Every
 * step names the file it touched in its error: cgroup failures (a missing
 * controller, EBUSY, EACCES) are otherwise hard to place.
 */
#include "ward/host/linux/cgroup.h"

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

/* Hands the controllers (space-separated) to dir's children, in one write
 * of those it lacks (idempotent). */
static int enable(const char *dir, const char *controllers, char *err, size_t errlen)
{
        char path[4096], cur[512], want[128] = "";
        if (path_of(path, sizeof(path), dir, "cgroup.subtree_control")) {
                snprintf(err, errlen, "%s: path too long", dir);
                return -1;
        }
        read_line(path, cur, sizeof(cur));
        for (const char *p = controllers; *p;) {
                size_t k = strcspn(p, " ");
                char word[32];
                snprintf(word, sizeof(word), "%.*s", (int)k, p);
                if (k && !has_word(cur, word))
                        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s+%s",
                                 want[0] ? " " : "", word);
                p += k;
                p += strspn(p, " ");
        }
        if (want[0] && write_str(path, want)) {
                snprintf(err, errlen, "%s: %s: %s", path, want, strerror(errno));
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

int ward_cgroup_make_system(const char *root, const char *name, const char *controllers, char *dir,
                            size_t size, char *err, size_t errlen)
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
        for (const char *p = controllers; *p;) {
                size_t k = strcspn(p, " ");
                char word[32];
                snprintf(word, sizeof(word), "%.*s", (int)k, p);
                if (k && !has_word(ctrl, word)) {
                        snprintf(err, errlen,
                                 "the cgroup v2 %s controller is not available (%s: \"%s\")", word,
                                 path, ctrl);
                        return -1;
                }
                p += k;
                p += strspn(p, " ");
        }
        if (enable(root, controllers, err, errlen) || make_dir(ward, err, errlen) ||
            enable(ward, controllers, err, errlen) || make_dir(dir, err, errlen))
                return -1;
        if (enable(dir, controllers, err, errlen)) {
                rmdir(dir);
                return -1;
        }
        return 0;
}

/* Writes val to DIR/file; on failure err names both and the cgroup goes. */
static int set(const char *dir, const char *file, const char *val, char *err, size_t errlen)
{
        char path[4096];
        if (path_of(path, sizeof(path), dir, file)) {
                snprintf(err, errlen, "%s: path too long", dir);
        } else if (write_str(path, val)) {
                snprintf(err, errlen, "%s: \"%s\": %s", path, val, strerror(errno));
        } else {
                return 0;
        }
        rmdir(dir);
        return -1;
}

int ward_cgroup_make_vm(const char *dir, const char *vm, const struct ward_cgroup_limits *lim,
                        char *out, size_t size, char *err, size_t errlen)
{
        char val[64];
        if (path_of(out, size, dir, vm)) {
                snprintf(err, errlen, "%s: path too long", dir);
                return -1;
        }
        if (make_dir(out, err, errlen))
                return -1;
        if (lim->cpu) {
                snprintf(val, sizeof(val), "%" PRId64 " %" PRId64, lim->cpu_max_us,
                         lim->cpu_period_us);
                if (set(out, "cpu.max", val, err, errlen))
                        return -1;
        }
        if (lim->memory_max) {
                snprintf(val, sizeof(val), "%" PRIu64, lim->memory_max);
                /* No swap either: what is capped stays capped. */
                if (set(out, "memory.max", val, err, errlen) ||
                    set(out, "memory.swap.max", "0", err, errlen))
                        return -1;
        }
        return 0;
}

uint64_t ward_cgroup_vmm_memory_max(uint64_t guest_bytes)
{
        return guest_bytes + guest_bytes / 64 + WARD_CGROUP_VMM_OVERHEAD;
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
