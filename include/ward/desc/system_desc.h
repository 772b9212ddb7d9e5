/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A system description: several VMs, the memory they share, the doorbells
 * between them and what may change at run time (docs/system-description.md).
 *
 * Three steps, each usable on its own:
 *   ward_sys_parse()  JSON text -> struct ward_sys_desc. Reports syntax
 *                     errors, duplicate keys, unknown fields, wrong types,
 *                     malformed values and missing required fields.
 *   ward_sys_check()  a pure function over the parsed description and a few
 *                     injected facts about the host (RAM, CPUs, which files
 *                     can be opened). Reports everything else: limits,
 *                     references, names, alignment, overlaps, host totals.
 *   ward_sys_load()   both, for a file, with the host's real facts; what
 *                     `ward system check` runs.
 * Every error carries the item's path in the document (JSON-pointer form,
 * e.g. /vms/a/memory/0/gpa; "/" is the whole document) and one line of
 * reason. All errors are reported, in a fixed order, never only the first.
 */
#ifndef WARD_SYSTEM_DESC_H
#define WARD_SYSTEM_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ward/common/size.h"
#include "ward/vm/vm_config.h"

#define WARD_SYS_VERSION 1

/* Limits (docs/system-description.md explains each). */
#define WARD_SYS_MAX_FILE (1u << 20)                /* bytes of JSON */
#define WARD_SYS_MAX_NAME 32                        /* VM, shared-region and doorbell names */
#define WARD_SYS_MAX_VMS 64                         /* VMs per system */
#define WARD_SYS_MAX_RAM_REGIONS 8                  /* per VM (WARD_GMEM_MAX_REGIONS) */
#define WARD_SYS_MAX_SHARED 64                      /* shared regions per system */
#define WARD_SYS_MAX_DOORBELLS 256                  /* doorbells per system */
#define WARD_SYS_MAX_NETWORKS 16                    /* networks per system */
#define WARD_SYS_MAX_NET_PORTS 16                   /* ports per network (WARD_VSWITCH_MAX_PORTS) */
#define WARD_SYS_MAX_VSOCK_PATH WARD_VSOCK_MAX_PATH /* bytes of a vsock socket path */
#define WARD_SYS_MAX_CPUS 64                        /* vCPUs per VM, on either machine */
#define WARD_SYS_MAX_CMDLINE 2047                   /* bytes; arm64 Linux keeps 2048 with the NUL */
#define WARD_SYS_MAX_HOST_CPUS 1024                 /* host CPU numbers when the host is unknown */
#define WARD_SYS_MAX_BACKOFF_MS 3600000
#define WARD_SYS_MAX_RESTARTS 1000000
#define WARD_SYS_MIN_PERIOD_US 1000 /* cgroup v2 cpu.max period limits */
#define WARD_SYS_MAX_PERIOD_US 1000000
#define WARD_SYS_SEL4_MIN_BUDGET_US 100 /* seL4's scheduling contexts: well above its WCET */
#define WARD_SYS_MIN_CPU_MAX_US 1000
#define WARD_SYS_MAX_SOCKET_PATH 107 /* sizeof(sun_path) - 1 */
#define WARD_SYS_MAX_CONTROL_IDS 64  /* linux.control_uids, control_gids */
#define WARD_SYS_MAX_ID 4294967294ll /* a uid or gid ((uid_t)-1 means none) */

#define WARD_SYS_PAGE 4096ull
#define WARD_SYS_KERNEL_ALIGN (2ull << 20) /* the first RAM region holds the kernel */
#define WARD_SYS_GPA_LIMIT (1ull << 40)    /* 40-bit guest-physical space (KVM's default) */
#define WARD_SYS_DEFAULT_RAM_SIZE (512ull << 20)

/*
 * The machine a description is laid out for ("arch"). A description that
 * does not name one follows the host that runs it (ward_sys_place); ward
 * system sel4 builds arm64 systems only.
 */
enum ward_sys_arch {
        WARD_SYS_ARCH_UNSET, /* "arch" absent; as a machine: arm64 */
        WARD_SYS_ARCH_ARM64,
        WARD_SYS_ARCH_X86_64,
};
#define WARD_SYS_NARCHS 3

/* What the description's layout depends on, per machine (ward's boards:
 * arm64_map.h, x86_platform.h; check_util.c asserts that they agree). */
struct ward_sys_machine {
        const char *name;     /* as "arch" writes it */
        uint64_t ram_base;    /* where the first RAM region goes without "gpa" */
        bool ram_base_fixed;  /* the first region must start at ram_base (x86_64) */
        uint64_t device_base; /* ward's device area: no RAM or shared region here */
        uint64_t device_end;
        const char *devices;         /* what is in it, for the error */
        const char *first_ram_holds; /* what the boot code puts in the first region */
        int max_cpus;
        uint64_t min_first_ram;   /* the first RAM region's least size */
        uint64_t first_ram_align; /* and what its size must be a multiple of */
};
/* The machine of arch (UNSET: arm64's). */
const struct ward_sys_machine *ward_sys_machine(enum ward_sys_arch arch);
/* "arm64" or "x86_64" as an arch; WARD_SYS_ARCH_UNSET for anything else. */
enum ward_sys_arch ward_sys_arch_named(const char *name);

/* arm64's RAM base and device area (GIC, UART, virtio-mmio and room for more). */
#define WARD_SYS_DEVICE_BASE 0x08000000ull
#define WARD_SYS_DEVICE_END 0x40000000ull
#define WARD_SYS_DEFAULT_RAM_GPA 0x40000000ull /* WARD_ARM64_RAM_BASE */
/* x86_64's: the 32-bit hole (virtio-mmio, I/O APIC, local APICs); RAM from 0. */
#define WARD_SYS_X86_DEVICE_BASE 0xc0000000ull
#define WARD_SYS_X86_DEVICE_END 0x100000000ull
#define WARD_SYS_X86_RAM_GPA 0ull
#define WARD_SYS_MIN_FIRST_RAM (16ull << 20)     /* arm64 */
#define WARD_SYS_X86_MIN_FIRST_RAM (32ull << 20) /* WARD_X86_RAM_MIN */

/* Guest RAM's physical address on seL4: 2M pages need 2M alignment. */
#define WARD_SYS_SEL4_RAM_ALIGN (2ull << 20)

#define WARD_SYS_DEFAULT_BACKOFF_MS 1000
#define WARD_SYS_DEFAULT_MAX_RESTARTS 5
#define WARD_SYS_DEFAULT_PERIOD_US 100000
#define WARD_SYS_DEFAULT_SOCKET "/run/ward/control.sock"
#define WARD_SYS_DEFAULT_LOG_DIR "/var/log/ward"

/* One guest-physical range. ok is false when the parser already reported a
 * problem with it: the checker then leaves it alone. */
struct ward_sys_region {
        uint64_t gpa, size;
        bool ok;
        /* The first region without "gpa" (or the default region): it is
         * placed at the machine's RAM base (ward_sys_place). */
        bool gpa_default;
};

struct ward_sys_disk {
        const char *path; /* NULL: missing (reported by the parser) */
        bool read_only;
        bool process; /* "backend": "process": served by `ward backend blk` */
};

/* Run-time operations a policy may allow (bit 1 << op in allow). */
enum ward_sys_op {
        WARD_SYS_OP_START,
        WARD_SYS_OP_STOP,
        WARD_SYS_OP_PAUSE,
        WARD_SYS_OP_RESUME,
        WARD_SYS_OP_RESTART,
        WARD_SYS_NOPS,
};

enum ward_sys_on_failure {
        WARD_SYS_ON_FAILURE_STOP,
        WARD_SYS_ON_FAILURE_RESTART,
};

struct ward_sys_policy {
        bool autostart;
        unsigned allow; /* bit (1u << enum ward_sys_op) */
        enum ward_sys_on_failure on_failure;
        int64_t restart_backoff_ms;
        int64_t max_restarts;
        bool restart_backoff_set, max_restarts_set; /* written in the document */
};

/* A VM's virtio-vsock device ("vsock"): its context id and host socket. */
struct ward_sys_vsock {
        bool set, cid_set; /* cid_set: false when missing (reported by the parser) */
        int64_t cid;
        const char *path; /* NULL: missing */
};

struct ward_sys_vm {
        const char *name;
        const char *kernel;  /* NULL: missing (reported by the parser) */
        const char *initrd;  /* NULL: none */
        const char *cmdline; /* NULL: ward_default_cmdline(console) */
        struct ward_sys_region *memory;
        size_t nmemory;
        bool memory_default; /* no "memory": one default region */
        bool memory_bad;     /* "memory" was not a list (reported by the parser) */
        int64_t cpus;
        struct ward_sys_disk *disks;
        size_t ndisks;
        enum ward_console_kind console;
        bool rng;
        enum ward_ram_backing hugepages; /* what backs its RAM on Linux */
        struct ward_sys_policy policy;
        struct ward_sys_vsock vsock;
};

enum ward_sys_access {
        WARD_SYS_ACCESS_RW,
        WARD_SYS_ACCESS_RO,
};

/* One VM's mapping of a shared region; its size is the region's. */
struct ward_sys_map {
        const char *vm; /* NULL: missing */
        uint64_t gpa;
        bool gpa_ok;
        enum ward_sys_access access;
};

struct ward_sys_shared {
        const char *name; /* NULL: missing */
        uint64_t size;
        bool size_ok;
        struct ward_sys_map *maps;
        size_t nmaps;
        bool maps_bad; /* "maps" missing or not a list (reported by the parser) */
};

/* One VM's NIC on a network: a port of the network's switch. */
struct ward_sys_net_port {
        const char *vm; /* NULL: missing */
        uint8_t mac[6];
        bool mac_set, mac_ok; /* present; and six hex bytes, not a group address */
        int64_t vlan;         /* 0: none */
        const char **reach;   /* the VMs it may send to; NULL (absent): every port */
        size_t nreach;
        bool reach_set;
        int64_t rate_bytes, rate_frames; /* a second; 0: no limit */
};

/* A virtual switch and its ports (ward system up: a process of its own). */
struct ward_sys_network {
        const char *name; /* NULL: missing */
        struct ward_sys_net_port *ports;
        size_t nports;
};

/* A one-way notification: from rings, to is woken. */
struct ward_sys_doorbell {
        const char *name, *from, *to; /* NULL: missing */
};

struct ward_sys_host_cpu {
        int64_t cpu;
        bool ok; /* false: not an integer (reported by the parser) */
};

/* Linux-only settings for one VM: /linux/vms/NAME. */
struct ward_sys_linux_vm {
        const char *vm;                      /* the key: a VM's name */
        struct ward_sys_host_cpu *host_cpus; /* pin the VM's threads to these host CPUs */
        size_t nhost_cpus;
        bool host_cpus_set;
        int64_t cpu_max_us, cpu_period_us; /* cgroup cpu.max */
        bool cpu_max_set, cpu_period_set;
        int seccomp;      /* enum ward_seccomp_mode: the VMM's allow-list (default on) */
        bool jail;        /* the VMM's jail (default true) */
        int64_t uid, gid; /* the jailed VMM's ids (default: ward_sys_vm_jail()) */
        bool uid_set, gid_set;
};

/* Settings that only the Linux supervisor uses (not part of an seL4 system). */
struct ward_sys_linux {
        const char *control_socket;
        const char *console_log_dir;
        struct ward_sys_linux_vm *vms;
        size_t nvms;
        /* Besides the supervisor's own uid, who may use the control socket
         * (SO_PEERCRED: the client's uid, or its primary gid). */
        struct ward_sys_host_cpu *control_uids, *control_gids; /* value + parsed-ok */
        size_t ncontrol_uids, ncontrol_gids;
        int seccomp; /* enum ward_seccomp_mode: the supervisor's allow-list (default on) */
};

/* seL4-only settings for one VM: /sel4/vms/NAME. */
struct ward_sys_sel4_vm {
        const char *vm;    /* the key: a VM's name */
        uint64_t ram_phys; /* the physical address of the VM's guest RAM */
        bool ram_phys_set; /* written and well-formed */
        /* The VM's CPU budget (Microkit budget and period, µs) for its VMM PD and vCPUs. */
        int64_t budget_us, period_us;
        bool budget_set, period_set;
        /* The VM's disk as a range of the board's block device (bytes), served by
         * the block driver PD instead of a RAM disk. */
        uint64_t disk_offset, disk_size;
        bool disk_offset_set, disk_size_set, disk_range_seen;
};

/* Settings that only the seL4 Microkit generator uses (ward system sel4). */
struct ward_sys_sel4 {
        struct ward_sys_sel4_vm *vms;
        size_t nvms;
};

struct ward_sys_desc {
        int64_t version;
        const char *description; /* free text; NULL: none */
        enum ward_sys_arch arch; /* "arch" as written; UNSET: absent (follows the host) */
        /* The machine the RAM regions are placed for: arch, else the one
         * ward_sys_place() was given (ward_sys_parse: arm64). Never UNSET
         * after parsing. */
        enum ward_sys_arch machine;
        struct ward_sys_vm *vms;
        size_t nvms;
        struct ward_sys_shared *shared;
        size_t nshared;
        struct ward_sys_doorbell *doorbells;
        size_t ndoorbells;
        struct ward_sys_network *networks;
        size_t nnetworks;
        struct ward_sys_linux linux_opts;
        struct ward_sys_sel4 sel4_opts;
        void *owner; /* the parsed JSON tree: owns every string above */
};

/* Errors: path (JSON-pointer form) and reason, both printable ASCII. */
struct ward_sys_error {
        char *path;
        char *reason;
};

/* At most this many errors are kept: a hostile description cannot make the
 * checker's output (or memory) grow with the square of its size. The rest
 * are only counted. */
#define WARD_SYS_MAX_ERRORS 100

struct ward_sys_errors {
        struct ward_sys_error *v;
        size_t n, cap;
        size_t suppressed; /* errors past WARD_SYS_MAX_ERRORS: counted, not kept */
        bool oom;          /* an error could not be stored */
};

#if defined(__GNUC__)
#define WARD_SYS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WARD_SYS_PRINTF(a, b)
#endif

/* Adds one error (or counts it, past WARD_SYS_MAX_ERRORS). Bytes outside
 * printable ASCII are shown as \xNN, so an error is always exactly one line. */
void ward_sys_error_add(struct ward_sys_errors *e, const char *path, const char *fmt, ...)
    WARD_SYS_PRINTF(3, 4);
void ward_sys_errors_free(struct ward_sys_errors *e);
/* Every error added: kept and counted. */
static inline size_t ward_sys_errors_count(const struct ward_sys_errors *e)
{
        return e->n + e->suppressed;
}
/* Writes each error as "NAME: PATH: reason\n", then one line for those
 * that were only counted. */
void ward_sys_errors_print(const struct ward_sys_errors *e, const char *name, FILE *out);

/* Appends "/" and key, escaped as a JSON pointer (~ -> ~0, / -> ~1), to
 * buf[len..]; returns the new length (truncated to fit size). */
size_t ward_sys_path_key(char *buf, size_t size, size_t len, const char *key);

/*
 * Parses JSON text (len bytes; need not be NUL-terminated). Returns the
 * description, or NULL when the text is not a JSON object (syntax error) or
 * memory ran out; every problem found is added to errs. A description is
 * returned even when errs grew: the checker can still look at it.
 */
struct ward_sys_desc *ward_sys_parse(const char *text, size_t len, struct ward_sys_errors *errs);
void ward_sys_free(struct ward_sys_desc *d);

/*
 * Lays d out for a machine: d->machine becomes d->arch when the description
 * names one, else host (UNSET: arm64), and every first RAM region without
 * "gpa" moves to that machine's RAM base. ward_sys_parse() places for
 * arm64; ward_sys_load() places for the facts' arch before it checks.
 */
void ward_sys_place(struct ward_sys_desc *d, enum ward_sys_arch host);

/*
 * Parses a size or address written as a string: "0x" and hex digits, or a
 * decimal number with a K, M or G suffix (ward_parse_size). A string
 * without a unit is refused: a plain number of bytes is a JSON number.
 */
int ward_sys_parse_size_string(const char *s, uint64_t *out);

/* A NIC's MAC: six hex bytes with colons (02:00:00:00:00:0a), not a group
 * (multicast) address. Used by the description and by ward run --net. */
bool ward_sys_parse_mac(const char *s, uint8_t mac[6]);

/* How the checker will use a file. */
enum ward_sys_file_use {
        WARD_SYS_FILE_READ,    /* kernel, initrd: a readable regular file */
        WARD_SYS_FILE_DISK_RO, /* a readable regular file or block device */
        WARD_SYS_FILE_DISK_RW, /* the same, also writable */
};

/* Which backend will run the description: limits that only one has. */
enum ward_sys_target {
        WARD_SYS_TARGET_LINUX, /* ward system up: one ward run process per VM */
        WARD_SYS_TARGET_SEL4,  /* ward system sel4: the generator checks its own limits */
};
#define WARD_SYS_LINUX_MAX_SHM 16       /* shared-region maps per VM (ward run --shm) */
#define WARD_SYS_LINUX_MAX_DOORBELLS 16 /* doorbell ends per VM (ward run --doorbell) */

/* What the checker may know about the host. */
struct ward_sys_facts {
        enum ward_sys_target target; /* default (0): Linux */
        /*
         * The machine that will run the VMs: a description that names
         * another is refused (/arch), and one that names none is laid out
         * for this one by ward_sys_load. UNSET: unknown (ward_sys_check:
         * no /arch check; ward_sys_load: the machine this ward is built
         * for). The seL4 target is always arm64.
         */
        enum ward_sys_arch arch;
        uint64_t host_ram_bytes; /* 0: unknown, no total check */
        unsigned host_cpus;      /* 0: unknown, CPU numbers below WARD_SYS_MAX_HOST_CPUS */
        /* NULL when path is usable that way, else the reason (static storage).
         * NULL callback: files are not checked. */
        const char *(*file_problem)(void *ctx, const char *path, enum ward_sys_file_use use);
        void *ctx;
        /* For ward_sys_load: absolute paths in the description name files
         * under this directory, as if it were / (a target's files staged on
         * the build machine). NULL: /. */
        const char *root;
};

/*
 * Checks a parsed description as a whole, laid out for d->machine. Pure: it
 * looks only at d and f (and calls f->file_problem). Returns the number of
 * errors it added.
 */
size_t ward_sys_check(const struct ward_sys_desc *d, const struct ward_sys_facts *f,
                      struct ward_sys_errors *errs);

/* [gpa, gpa + size) is not empty and does not run past 2^64. */
bool ward_sys_range_valid(uint64_t gpa, uint64_t size);
/* Two valid ranges share at least one byte. */
bool ward_sys_ranges_overlap(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize);
/* The index of the VM named name, or -1. */
long ward_sys_find_vm(const struct ward_sys_desc *d, const char *name);

/*
 * The host's answer for file_problem: ctx points to a struct
 * ward_sys_host_dirs, the directories against which relative paths (the
 * description's directory) and absolute ones (the root) are resolved.
 */
struct ward_sys_host_dirs {
        int desc_dir; /* a directory fd */
        int root;     /* a directory fd, or -1 for / */
};
const char *ward_sys_host_file_problem(void *ctx, const char *path, enum ward_sys_file_use use);

/*
 * Reads, parses, places (ward_sys_place, for f->arch) and checks the
 * description in path. Relative paths in it are taken from path's
 * directory. f gives host_ram_bytes, host_cpus and arch; its file callback
 * is replaced by the host's. On success, *out (if not NULL) gets the
 * description (free with ward_sys_free). Returns the number of errors added
 * to errs (0: valid).
 */
size_t ward_sys_load(const char *path, const struct ward_sys_facts *f, struct ward_sys_desc **out,
                     struct ward_sys_errors *errs);
/* ward_sys_load() of text already read from path (its directory resolves paths). */
size_t ward_sys_load_text(const char *path, const char *text, size_t len,
                          const struct ward_sys_facts *f, struct ward_sys_desc **out,
                          struct ward_sys_errors *errs);
/* Reads at most WARD_SYS_MAX_FILE + 1 bytes of path (malloc'd); NULL with *err an errno. */
char *ward_sys_read(const char *path, size_t *len, int *err);

/* Writes path to out, made absolute against dir when relative. -1: too long. */
int ward_sys_path_join(const char *dir, const char *path, char *out, size_t size);
/* Writes the absolute, symlink-free directory that holds file (against
 * which its relative paths are taken) to out. -1: it cannot be resolved. */
int ward_sys_desc_dir(const char *file, char *out, size_t size);

/*
 * The jail of VM number vm (an index into d->vms) under `ward system up`:
 * on unless linux.vms.NAME.jail is false; uid and gid from linux.vms.NAME,
 * each by default WARD_SYS_JAIL_ID_BASE plus vm. Values out of range
 * come out as they are: the checker reports them.
 */
struct ward_sys_jail {
        bool on;
        int64_t uid, gid;
};
struct ward_sys_jail ward_sys_vm_jail(const struct ward_sys_desc *d, size_t vm);

/* The first default jail uid and gid: above Debian's system and user ids
 * (up to 59999), below nobody (65534). */
#define WARD_SYS_JAIL_ID_BASE 64000

#endif
