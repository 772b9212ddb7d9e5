/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One VM's configuration: the VM part of the system description. `ward
 * run`'s flags fill it, the system description fills it for each VM, and
 * the VM core (ward/vm/vm.h) builds the VM from it. Plain data, freestanding.
 */
#ifndef WARD_VM_CONFIG_H
#define WARD_VM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define WARD_MAX_DISKS 8
#define WARD_MAX_SHM 16                 /* --shm regions per VM */
#define WARD_MAX_DOORBELLS 16           /* --doorbell consoles per VM */
#define WARD_SHM_GPA_LIMIT (1ull << 40) /* 40-bit guest-physical space */
#define WARD_MAX_RAM_EXTRA 7            /* --ram regions besides the boot RAM */
#define WARD_MAX_NETS 4                 /* --net NICs per VM */
#define WARD_MAX_NET_FWDS 8             /* host ports forwarded into the guest, per --net user */

enum ward_console_kind {
        WARD_CONSOLE_SERIAL,
        WARD_CONSOLE_VIRTIO,
};

struct ward_disk_config {
        const char *path;
        bool read_only;
        bool process; /* served by a backend process of its own (`ward backend blk`) */
};

/* A shared region: an inherited memfd (or regular file) mapped at gpa. */
struct ward_shm_config {
        int fd;
        uint64_t gpa, size;
        bool read_only;
};

/*
 * What backs guest RAM on a Linux host. THP (the zero value, the default):
 * transparent huge pages, placed for stage-2 block mappings; OFF: plain 4K
 * pages; HUGETLB: hugetlb pages reserved at start (2M aligned RAM only).
 * The seL4 runner maps guest RAM in 2M pages whatever this says.
 */
enum ward_ram_backing {
        WARD_RAM_THP,
        WARD_RAM_OFF,
        WARD_RAM_HUGETLB,
};

/*
 * The Linux runner's system-call allow-list (src/host/linux/seccomp_filter.c):
 * ON kills the VMM on a call outside it, LOG lets the call through and the
 * kernel logs it, OFF installs none. The seL4 runner has no system calls to
 * filter: a PD's capabilities are its limits.
 */
enum ward_seccomp_mode {
        WARD_SECCOMP_ON,
        WARD_SECCOMP_LOG,
        WARD_SECCOMP_OFF,
};

/*
 * The Linux runner's jail (src/host/linux/jail.c): once its VM is built, a
 * VMM enters its own mount, IPC, UTS and network namespaces (and a PID
 * namespace its starter made), a root of its own that holds none of the
 * host's files, limits, and an unprivileged uid and gid. Off by default
 * under `ward run` (--jail UID[:GID]), on under `ward system up`.
 */
struct ward_jail_config {
        bool on;
        uint32_t uid, gid; /* never 0 when on */
        /* A host directory kept in the jail, read-write, at the same path
         * (the vsock device's: the VMM connects to the sockets there), or
         * "" for none. */
        char shared_dir[108];
};

/*
 * A NIC (virtio-net) and what is behind it. USER: a user-mode network
 * stack in a process of its own (passt: DHCP, DNS, outbound TCP and UDP
 * through the host's sockets, and host ports forwarded into the guest).
 * TAP: a host tap interface, opened with the virtio-net header so the
 * offloads pass through. PORT: a port of a switch in another process (a
 * network of a system description): a net port (ward/port/port_net.h) in
 * an inherited memfd, with an eventfd each way.
 */
enum ward_net_kind {
        WARD_NET_USER,
        WARD_NET_TAP,
        WARD_NET_PORT, /* a port of a network's switch (ward system up) */
};

/* A host port forwarded into the guest: hostfwd=tcp:ADDR:HOST-:GUEST. */
struct ward_net_fwd {
        bool udp;
        char addr[16]; /* an IPv4 address to bind on the host; "": every address */
        uint16_t host, guest;
};

struct ward_net_config {
        enum ward_net_kind kind;
        uint8_t mac[6];
        char tap[16]; /* TAP: the interface's name */
        struct ward_net_fwd fwd[WARD_MAX_NET_FWDS];
        unsigned nfwd;
        int port_fd; /* PORT: inherited memfd; port_fd + 1 and + 2 the eventfds to and from the
                        switch */
};

/*
 * virtio-vsock (--vsock CID,PATH): the guest is CID (3 or more); a guest
 * connection to host port P reaches the unix socket PATH_P, and a host
 * program that connects to PATH and writes "CONNECT P\n" reaches guest
 * port P (Firecracker's scheme). cid 0: no device.
 */
/* The longest vsock socket path: sun_path's 108 bytes less "_4294967295" and the NUL. */
#define WARD_VSOCK_MAX_PATH 96

struct ward_vsock_config {
        uint64_t cid;
        char path[108]; /* a unix socket path (sun_path), at most WARD_VSOCK_MAX_PATH bytes */
};

/* A RAM region besides the boot RAM: --ram GPA:SIZE. */
struct ward_ram_config {
        uint64_t gpa, size;
};

struct ward_vm_config {
        const char *kernel;
        const char *initrd;  /* NULL: none */
        const char *cmdline; /* NULL: the default for the console kind */
        uint64_t mem_bytes;  /* the boot RAM (kernel, initrd, DTB): --mem */
        uint64_t mem_gpa;    /* where it starts: --mem-at (2M aligned) */
        struct ward_ram_config ram[WARD_MAX_RAM_EXTRA];
        unsigned nram;
        enum ward_ram_backing hugepages;
        enum ward_seccomp_mode seccomp;
        struct ward_jail_config jail;
        const char *name; /* the VM's name (the jail's host name); NULL: "ward" */
        unsigned cpus;
        enum ward_console_kind console;
        bool rng;
        struct ward_disk_config disks[WARD_MAX_DISKS];
        unsigned ndisks;
        char disk_spec[WARD_MAX_DISKS][4096]; /* storage for parsed paths */
        struct ward_shm_config shm[WARD_MAX_SHM];
        unsigned nshm;
        int doorbell_fd[WARD_MAX_DOORBELLS]; /* inherited sockets, one virtio console each */
        unsigned ndoorbells;
        struct ward_net_config nets[WARD_MAX_NETS];
        unsigned nnets;
        struct ward_vsock_config vsock;
};

/* The names of enum ward_ram_backing's values, by value: "thp", "off", "hugetlb". */
extern const char *const ward_ram_backing_names[3];
/* The names of enum ward_seccomp_mode's values, by value: "on", "log", "off". */
extern const char *const ward_seccomp_mode_names[3];

/* The MAC a NIC gets when its config has none: 02:77:61:72:64:NN ("ward", locally administered). */
void ward_net_default_mac(unsigned index, uint8_t mac[6]);

/* The kernel command line used when cfg->cmdline is NULL. */
const char *ward_default_cmdline(enum ward_console_kind console);

#endif
