/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU budgets (`linux.vms.NAME.cpu_max_us`) and memory caps (a jailed VMM's
 * guest memory plus an overhead, docs/security.md#jail) for VMM processes
 * through cgroup v2.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Finds the cgroup v2 mount point in a mountinfo file (normally
 * /proc/self/mountinfo). Returns 0, or -1 with the reason in err.
 */
int ward_cgroup_find_root(const char *mountinfo, char *root, size_t size, char *err, size_t errlen);

/*
 * Makes ROOT/ward/NAME with the controllers (space-separated: "cpu",
 * "memory", "cpu memory") handed down to it (and to ROOT/ward). Writes its
 * path to dir. Returns 0, or -1 with the step and the reason in err;
 * nothing is left half made that was not there before, except ROOT/ward.
 */
int ward_cgroup_make_system(const char *root, const char *name, const char *controllers, char *dir,
                            size_t size, char *err, size_t errlen);

/* What a VM's cgroup holds it to. */
struct ward_cgroup_limits {
        bool cpu; /* cpu.max = "cpu_max_us cpu_period_us" */
        int64_t cpu_max_us, cpu_period_us;
        uint64_t memory_max; /* memory.max in bytes, and no swap; 0: no cap */
};

/*
 * Makes DIR/VM with the limits set and writes its path to out. Returns 0,
 * or -1 with the file and the reason in err (and no DIR/VM).
 */
int ward_cgroup_make_vm(const char *dir, const char *vm, const struct ward_cgroup_limits *lim,
                        char *out, size_t size, char *err, size_t errlen);

/*
 * A VMM's memory cap for guest_bytes of guest memory (RAM and shared
 * regions): the guest's pages, 1/64 more for page tables (the VMM's and
 * KVM's stage 2), and WARD_CGROUP_VMM_OVERHEAD for the VMM itself, its
 * disk backend processes and their ports, and the kernel's per-VM memory.
 */
#define WARD_CGROUP_VMM_OVERHEAD (64ull << 20)
uint64_t ward_cgroup_vmm_memory_max(uint64_t guest_bytes);

/* Moves the calling process into the cgroup at dir. 0, or -1 with errno. */
int ward_cgroup_join(const char *dir);

/* Removes the cgroup at dir (only an empty one goes: rmdir). */
void ward_cgroup_remove(const char *dir);

#endif
