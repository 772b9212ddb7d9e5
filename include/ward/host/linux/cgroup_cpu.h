/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU budgets for VMM processes through cgroup v2 (`linux.vms.NAME.cpu_max_us`).
 *
 * Layout, as Firecracker's jailer does it: ROOT/ward/sup-PID/VM, where ROOT
 * is the cgroup v2 mount and PID the supervisor's. Building under the root
 * cgroup (not under the supervisor's own cgroup) avoids cgroup v2's rule
 * that a cgroup with processes in it cannot hand controllers to children,
 * which the caller's login session or service would break. Needs root (or a
 * delegated ROOT/ward).
 */
#ifndef WARD_CGROUP_CPU_H
#define WARD_CGROUP_CPU_H

#include <stddef.h>
#include <stdint.h>

/*
 * Finds the cgroup v2 mount point in a mountinfo file (normally
 * /proc/self/mountinfo). Returns 0, or -1 with the reason in err.
 */
int ward_cgroup_find_root(const char *mountinfo, char *root, size_t size, char *err, size_t errlen);

/*
 * Makes ROOT/ward/NAME with the cpu controller handed down to it (and to
 * ROOT/ward). Writes its path to dir. Returns 0, or -1 with the step and
 * the reason in err; nothing is left half made that was not there before,
 * except ROOT/ward itself.
 */
int ward_cgroup_make_system(const char *root, const char *name, char *dir, size_t size, char *err,
                            size_t errlen);

/*
 * Makes DIR/VM with cpu.max set to "MAX PERIOD" and writes its path to out.
 * Returns 0, or -1 with the reason in err.
 */
int ward_cgroup_make_vm(const char *dir, const char *vm, int64_t max_us, int64_t period_us,
                        char *out, size_t size, char *err, size_t errlen);

/* Moves the calling process into the cgroup at dir. 0, or -1 with errno. */
int ward_cgroup_join(const char *dir);

/* Removes the cgroup at dir (only an empty one goes: rmdir). */
void ward_cgroup_remove(const char *dir);

#endif
