/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward run` argument checking. Everything is validated before any VM
 * resource exists, so a bad argument costs nothing and leaves nothing.
 */
#include "ward/cli/run_config.h"
#include "ward/host/linux/vmm.h"
#include "ward/vm/vm_arch.h"
#include "ward/desc/system_desc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_MEM (16ull << 20)

const char ward_run_usage[] =
    "usage: ward run --kernel IMAGE [options]\n"
    "\n"
    "Boots a Linux kernel in a KVM virtual machine of the host's architecture.\n"
    "\n"
    "  --kernel IMAGE        the kernel: an arm64 Linux Image (uncompressed) or an\n"
    "                        x86_64 bzImage (Debian's vmlinuz as it is)\n"
    "  --initrd FILE         initial ramdisk\n"
    "  --cmdline STR         kernel command line (replaces the default)\n"
    "  --mem SIZE            guest RAM, e.g. 512M or 2G; plain numbers are MiB (default 512M)\n"
    "  --mem-at GPA          where that RAM starts (2M aligned; default 0x40000000 on\n"
    "                        arm64, 0 on x86_64, where it must be 0); the kernel,\n"
    "                        initrd and device tree or ACPI tables go there\n"
    "  --ram GPA:SIZE        one more RAM region (4K aligned; repeatable, up to 7)\n"
    "  --cpus N              vCPUs, 1 to 64 (default 1)\n"
    "  --disk PATH[,ro|,rw][,process]\n"
    "                        virtio-blk disk backed by PATH (read-write unless ',ro';\n"
    "                        ',process' serves it from a backend process of its own;\n"
    "                        repeatable, up to 8; PATH may not contain a comma here,\n"
    "                        see --system)\n"
    "  --console serial|virtio\n"
    "                        guest console on the 16550 UART (ttyS0, default) or on\n"
    "                        virtio-console (hvc0)\n"
    "  --no-rng              no virtio-rng device\n"
    "  --hugepages thp|hugetlb|off\n"
    "                        what backs guest RAM: transparent huge pages (default),\n"
    "                        hugetlb pages reserved at start (RAM 2M aligned; fails if\n"
    "                        the host has too few), or plain 4K pages\n"
    "  --seccomp on|log|off  the VMM's system-call allow-list: on (default) kills it\n"
    "                        with SIGSYS on any other call, log lets the call through\n"
    "                        and the kernel logs it, off installs none\n"
    "  --jail UID[:GID]      once the VM is built, run it in a jail: namespaces of its\n"
    "                        own (PID, mount, IPC, UTS, network), an empty read-only\n"
    "                        root, no core dumps, as UID and GID (default GID = UID;\n"
    "                        neither may be 0). Needs root\n"
    "  --shm FD:GPA:SIZE:ro|rw\n"
    "                        map the inherited memfd FD (at least SIZE bytes) at guest-\n"
    "                        physical GPA, outside RAM and the device windows; GPA and\n"
    "                        SIZE are bytes (0x... or decimal, K/M/G suffixes), page\n"
    "                        aligned (repeatable, up to 16)\n"
    "  --doorbell FD         a virtio console (hvcN) on the inherited socket FD: guest\n"
    "                        output goes to the socket, socket input to the guest\n"
    "                        (repeatable, up to 16; numbered after the main console:\n"
    "                        hvc0 first with the serial console, hvc1 with virtio)\n"
    "  --net user[,hostfwd=tcp|udp:[ADDR]:HOST-:GUEST][,mac=MAC]\n"
    "                        a virtio-net NIC on a user-mode network (Debian's passt,\n"
    "                        run as a process of its own): DHCP, DNS, outbound TCP\n"
    "                        and UDP; hostfwd forwards host port HOST to guest port\n"
    "                        GUEST (repeatable, up to 8)\n"
    "  --net tap=NAME[,mac=MAC]\n"
    "                        a virtio-net NIC on the host's tap interface NAME, with\n"
    "                        checksum and TSO offloads (repeatable: up to 4 NICs;\n"
    "                        default MACs 02:77:61:72:64:00, :01, ...)\n"
    "  --vsock CID,PATH      a virtio-vsock device for guest context CID (3 or more): a\n"
    "                        guest connection to host port P reaches the unix socket\n"
    "                        PATH_P; a host program that connects to PATH and writes\n"
    "                        \"CONNECT P\\n\" reaches guest port P (answer \"OK N\\n\")\n"
    "  --system FILE --vm NAME\n"
    "                        run VM NAME of a system description, with its config\n"
    "                        (no other options; see ward system --help)\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 when the guest powers off or reboots (or Ctrl-A x), 1 when the\n"
    "guest kernel panics, a vCPU fails, or ward is stopped by SIGINT, SIGTERM or SIGHUP\n"
    "(the reason is printed), 2 for a bad argument. On a terminal, Ctrl-A x ends the VM\n"
    "at once.\n";

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
        if (access(path, R_OK) != 0) {
                snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
                return -1;
        }
        return 0;
}

static int parse_disk(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        if (cfg->ndisks == WARD_MAX_DISKS) {
                snprintf(err, errlen, "--disk %s: at most %d disks", arg, WARD_MAX_DISKS);
                return -1;
        }
        char *buf = cfg->disk_spec[cfg->ndisks];
        if (strlen(arg) >= sizeof(cfg->disk_spec[0]) || !*arg) {
                snprintf(err, errlen, "--disk: path is empty or too long");
                return -1;
        }
        strcpy(buf, arg);
        bool ro = false, process = false;
        char *comma = strchr(buf, ',');
        if (comma) {
                *comma = '\0';
                for (char *o = comma + 1; o;) {
                        char *next = strchr(o, ',');
                        if (next)
                                *next++ = '\0';
                        if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
                                ro = o[1] == 'o';
                        } else if (strcmp(o, "process") == 0) {
                                process = true;
                        } else {
                                snprintf(err, errlen,
                                         "--disk %s: unknown option '%s' (expected ro, rw or "
                                         "process)",
                                         arg, o);
                                return -1;
                        }
                        o = next;
                }
        }
        if (access(buf, ro ? R_OK : R_OK | W_OK) != 0) {
                snprintf(err, errlen, "--disk %s: %s", buf, strerror(errno));
                return -1;
        }
        cfg->disks[cfg->ndisks++] = (struct ward_disk_config){buf, ro, process};
        return 0;
}

/* Parses a byte count or address: decimal or 0x hex, optional K, M or G suffix. */
static int parse_u64(const char *s, uint64_t *out)
{
        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -1;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || end == s)
                return -1;
        unsigned shift = 0;
        if (*end == 'K' || *end == 'k')
                shift = 10;
        else if (*end == 'M' || *end == 'm')
                shift = 20;
        else if (*end == 'G' || *end == 'g')
                shift = 30;
        if (shift)
                end++;
        if (*end || v > (UINT64_MAX >> shift))
                return -1;
        *out = (uint64_t)v << shift;
        return 0;
}

static int parse_fd(const char *s, int *out)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 1000000)
                return -1;
        *out = (int)v;
        return 0;
}

/* FD:GPA:SIZE:ro|rw into *sc. */
static int shm_fields(const char *arg, struct ward_shm_config *sc, char *err, size_t errlen)
{
        char buf[128];
        char *part[5] = {0};
        unsigned n = 0;
        if (strlen(arg) >= sizeof(buf))
                goto syntax;
        strcpy(buf, arg);
        for (char *p = buf; n < 5;) {
                part[n++] = p;
                char *c = strchr(p, ':');
                if (!c)
                        break;
                *c = '\0';
                p = c + 1;
        }
        if (n != 4)
                goto syntax;
        if (parse_fd(part[0], &sc->fd)) {
                snprintf(err, errlen, "--shm %s: '%s' is not a file descriptor number", arg,
                         part[0]);
                return -1;
        }
        if (parse_u64(part[1], &sc->gpa)) {
                snprintf(err, errlen, "--shm %s: '%s' is not an address", arg, part[1]);
                return -1;
        }
        if (parse_u64(part[2], &sc->size)) {
                snprintf(err, errlen, "--shm %s: '%s' is not a size", arg, part[2]);
                return -1;
        }
        if (strcmp(part[3], "ro") == 0) {
                sc->read_only = true;
        } else if (strcmp(part[3], "rw") == 0) {
                sc->read_only = false;
        } else {
                snprintf(err, errlen, "--shm %s: unknown access '%s' (expected ro or rw)", arg,
                         part[3]);
                return -1;
        }
        return 0;
syntax:
        snprintf(err, errlen, "--shm %s: expected FD:GPA:SIZE:ro|rw", arg);
        return -1;
}

/* The region's alignment and extent, its file, and the earlier regions. */
static int shm_check(const struct ward_vm_config *cfg, const char *arg,
                     const struct ward_shm_config *sc, char *err, size_t errlen)
{
        if (sc->size == 0 || sc->gpa % 4096 || sc->size % 4096) {
                snprintf(err, errlen,
                         "--shm %s: address and size must be page aligned (4K), size "
                         "not 0",
                         arg);
                return -1;
        }
        if (sc->gpa >= WARD_SHM_GPA_LIMIT || sc->size > WARD_SHM_GPA_LIMIT - sc->gpa) {
                snprintf(err, errlen, "--shm %s: ends beyond the 40-bit guest-physical space", arg);
                return -1;
        }
        struct stat st;
        if (fstat(sc->fd, &st) != 0) {
                snprintf(err, errlen, "--shm %s: fd %d: %s", arg, sc->fd, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "--shm %s: fd %d is not a memfd or regular file", arg,
                         sc->fd);
                return -1;
        }
        if ((uint64_t)st.st_size < sc->size) {
                snprintf(err, errlen, "--shm %s: fd %d has only %llu bytes", arg, sc->fd,
                         (unsigned long long)st.st_size);
                return -1;
        }
        for (unsigned i = 0; i < cfg->nshm; i++) {
                const struct ward_shm_config *o = &cfg->shm[i];
                if (sc->gpa < o->gpa + o->size && o->gpa < sc->gpa + sc->size) {
                        snprintf(err, errlen, "--shm %s: overlaps an earlier --shm region", arg);
                        return -1;
                }
        }
        return 0;
}

static int parse_shm(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        if (cfg->nshm == WARD_MAX_SHM) {
                snprintf(err, errlen, "--shm %s: at most %d shared regions", arg, WARD_MAX_SHM);
                return -1;
        }
        struct ward_shm_config sc;
        if (shm_fields(arg, &sc, err, errlen) || shm_check(cfg, arg, &sc, err, errlen))
                return -1;
        cfg->shm[cfg->nshm++] = sc;
        return 0;
}

/* The machine the arguments are for (getopt makes the parser single-threaded anyway). */
static const struct ward_vm_arch *parse_arch;

static int parse_ram(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        if (cfg->nram == WARD_MAX_RAM_EXTRA) {
                snprintf(err, errlen, "--ram %s: at most %d regions besides --mem", arg,
                         WARD_MAX_RAM_EXTRA);
                return -1;
        }
        char buf[64];
        char *colon;
        if (strlen(arg) >= sizeof(buf) || !(colon = strchr(strcpy(buf, arg), ':'))) {
                snprintf(err, errlen, "--ram %s: expected GPA:SIZE", arg);
                return -1;
        }
        *colon = '\0';
        struct ward_ram_config r;
        if (parse_u64(buf, &r.gpa)) {
                snprintf(err, errlen, "--ram %s: '%s' is not an address", arg, buf);
                return -1;
        }
        if (parse_u64(colon + 1, &r.size)) {
                snprintf(err, errlen, "--ram %s: '%s' is not a size (try 64M)", arg, colon + 1);
                return -1;
        }
        cfg->ram[cfg->nram++] = r;
        return 0;
}

/* What the guest-physical map allows for RAM range i of n (0 is --mem). */
static int check_ram_ranges(const struct ward_vm_config *cfg, uint64_t host_mem_bytes, char *err,
                            size_t errlen)
{
        struct ward_ram_config all[1 + WARD_MAX_RAM_EXTRA];
        all[0] = (struct ward_ram_config){cfg->mem_gpa, cfg->mem_bytes};
        for (unsigned i = 0; i < cfg->nram; i++)
                all[1 + i] = cfg->ram[i];
        uint64_t total = 0;
        for (unsigned i = 0; i <= cfg->nram; i++) {
                char what[80];
                if (i == 0)
                        snprintf(what, sizeof(what), "--mem at 0x%llx",
                                 (unsigned long long)all[0].gpa);
                else
                        snprintf(what, sizeof(what), "--ram 0x%llx:0x%llx",
                                 (unsigned long long)all[i].gpa, (unsigned long long)all[i].size);
                uint64_t gpa = all[i].gpa, size = all[i].size;
                if (size == 0 || gpa % 4096 || size % 4096) {
                        snprintf(err, errlen,
                                 "%s: address and size must be page aligned (4K), "
                                 "size not 0",
                                 what);
                        return -1;
                }
                if (cfg->hugepages == WARD_RAM_HUGETLB && (gpa | size) % (2u << 20)) {
                        snprintf(err, errlen,
                                 "%s: --hugepages hugetlb needs RAM in whole 2M pages (address "
                                 "and size 2M aligned)",
                                 what);
                        return -1;
                }
                if (gpa >= WARD_SHM_GPA_LIMIT || size > WARD_SHM_GPA_LIMIT - gpa) {
                        snprintf(err, errlen, "%s: ends beyond the 40-bit guest-physical space",
                                 what);
                        return -1;
                }
                const struct ward_vm_arch *arch = parse_arch;
                if (ward_sys_ranges_overlap(gpa, size, arch->device_base,
                                            arch->device_end - arch->device_base)) {
                        snprintf(err, errlen, "%s: overlaps the device windows (0x%llx-0x%llx)",
                                 what, (unsigned long long)arch->device_base,
                                 (unsigned long long)arch->device_end);
                        return -1;
                }
                for (unsigned j = 0; j < i; j++)
                        if (ward_sys_ranges_overlap(gpa, size, all[j].gpa, all[j].size)) {
                                snprintf(err, errlen, "%s: overlaps %s", what,
                                         j ? "an earlier --ram region" : "the --mem RAM");
                                return -1;
                        }
                total += size;
        }
        if (host_mem_bytes && total > host_mem_bytes) {
                snprintf(err, errlen, "--mem%s: %lluM is more than this host's %lluM of RAM",
                         cfg->nram ? " and --ram" : "", (unsigned long long)(total >> 20),
                         (unsigned long long)(host_mem_bytes >> 20));
                return -1;
        }
        return 0;
}

static int parse_doorbell(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        if (cfg->ndoorbells == WARD_MAX_DOORBELLS) {
                snprintf(err, errlen, "--doorbell %s: at most %d doorbells", arg,
                         WARD_MAX_DOORBELLS);
                return -1;
        }
        int fd;
        if (parse_fd(arg, &fd)) {
                snprintf(err, errlen, "--doorbell %s: not a file descriptor number", arg);
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
                snprintf(err, errlen, "--doorbell %s: %s", arg, strerror(errno));
                return -1;
        }
        if (!S_ISSOCK(st.st_mode)) {
                snprintf(err, errlen, "--doorbell %s: not a socket", arg);
                return -1;
        }
        cfg->doorbell_fd[cfg->ndoorbells++] = fd;
        return 0;
}

enum {
        O_KERNEL = 256,
        O_INITRD,
        O_CMDLINE,
        O_MEM,
        O_MEM_AT,
        O_RAM,
        O_CPUS,
        O_DISK,
        O_CONSOLE,
        O_NORNG,
        O_SHM,
        O_HUGEPAGES,
        O_SECCOMP,
        O_JAIL,
        O_DOORBELL,
        O_NET,
        O_VSOCK
};

static int parse_cpus(struct ward_vm_config *cfg, const char *a, char *err, size_t errlen)
{
        char *end;
        errno = 0;
        long n = strtol(a, &end, 10);
        if (errno || *end || end == a || n < 1 || n > WARD_ARM64_MAX_CPUS) {
                snprintf(err, errlen, "--cpus %s: must be a number from 1 to %d", a,
                         WARD_ARM64_MAX_CPUS);
                return -1;
        }
        cfg->cpus = (unsigned)n;
        return 0;
}

static int parse_console(struct ward_vm_config *cfg, const char *a, char *err, size_t errlen)
{
        if (strcmp(a, "serial") == 0) {
                cfg->console = WARD_CONSOLE_SERIAL;
        } else if (strcmp(a, "virtio") == 0) {
                cfg->console = WARD_CONSOLE_VIRTIO;
        } else {
                snprintf(err, errlen, "--console %s: expected 'serial' or 'virtio'", a);
                return -1;
        }
        return 0;
}

/* --jail UID[:GID]: both unsigned 32-bit numbers but 0 and -1 (no id). */
static int parse_id(const char *s, char **end, uint32_t *id)
{
        errno = 0;
        unsigned long long v = strtoull(s, end, 10);
        if (errno || *end == s || *s == '-' || v == 0 || v >= 0xffffffffull)
                return -1;
        *id = (uint32_t)v;
        return 0;
}

static int parse_jail(struct ward_vm_config *cfg, const char *a, char *err, size_t errlen)
{
        char *end;
        bool ok = parse_id(a, &end, &cfg->jail.uid) == 0;
        cfg->jail.gid = cfg->jail.uid;
        if (ok && *end == ':')
                ok = parse_id(end + 1, &end, &cfg->jail.gid) == 0;
        if (!ok || *end) {
                snprintf(err, errlen,
                         "--jail %s: expected UID or UID:GID, numbers from 1 to 4294967294 "
                         "(a jailed VMM runs as neither root nor root's group)",
                         a);
                return -1;
        }
        cfg->jail.on = true;
        return 0;
}

/* The index of a in names[3] (an enum's value names), or -1 with one line in err. */
static int parse_choice(const char *opt, const char *const names[3], const char *a, char *err,
                        size_t errlen)
{
        for (int i = 0; i < 3; i++)
                if (strcmp(a, names[i]) == 0)
                        return i;
        snprintf(err, errlen, "%s %s: expected '%s', '%s' or '%s'", opt, a, names[0], names[1],
                 names[2]);
        return -1;
}

/* getopt's answer c that is not an option of ward run: one line in err. */
static void option_error(int c, char *const argv[], char *err, size_t errlen)
{
        if (c == ':') {
                snprintf(err, errlen, "%s: needs a value", argv[optind - 1]);
                return;
        }
        /*
         * An unknown short option inside a cluster (-xq) has no argv
         * element of its own: name the letter. 'h' is known, so
         * optopt 'h' means "--help=value".
         */
        if (optopt > 0 && optopt < 256 && optopt != 'h')
                snprintf(err, errlen, "-%c: unknown option (see ward run --help)", optopt);
        else
                snprintf(err, errlen, "%s: unknown option (see ward run --help)", argv[optind - 1]);
}

/* One option c with its value a (getopt's optarg). Returns 0, or -1 with err. */
static int apply_option(struct ward_vm_config *cfg, int c, const char *a, char *err, size_t errlen)
{
        switch (c) {
        case O_KERNEL:
                cfg->kernel = a;
                return 0;
        case O_INITRD:
                cfg->initrd = a;
                return 0;
        case O_CMDLINE:
                cfg->cmdline = a;
                return 0;
        case O_MEM:
                if (ward_parse_size(a, &cfg->mem_bytes) != 0) {
                        snprintf(err, errlen, "--mem %s: not a size (try 512M or 2G)", a);
                        return -1;
                }
                return 0;
        case O_MEM_AT:
                if (parse_u64(a, &cfg->mem_gpa) || cfg->mem_gpa % (2u << 20)) {
                        snprintf(err, errlen,
                                 "--mem-at %s: not an address aligned to 2M (try 0x80000000)", a);
                        return -1;
                }
                return 0;
        case O_RAM:
                return parse_ram(cfg, a, err, errlen);
        case O_CPUS:
                return parse_cpus(cfg, a, err, errlen);
        case O_DISK:
                return parse_disk(cfg, a, err, errlen);
        case O_CONSOLE:
                return parse_console(cfg, a, err, errlen);
        case O_NORNG:
                cfg->rng = false;
                return 0;
        case O_SHM:
                return parse_shm(cfg, a, err, errlen);
        case O_HUGEPAGES: {
                int v = parse_choice("--hugepages", ward_ram_backing_names, a, err, errlen);
                cfg->hugepages = v < 0 ? cfg->hugepages : (enum ward_ram_backing)v;
                return v < 0 ? -1 : 0;
        }
        case O_SECCOMP: {
                int v = parse_choice("--seccomp", ward_seccomp_mode_names, a, err, errlen);
                cfg->seccomp = v < 0 ? cfg->seccomp : (enum ward_seccomp_mode)v;
                return v < 0 ? -1 : 0;
        }
        case O_JAIL:
                return parse_jail(cfg, a, err, errlen);
        case O_DOORBELL:
                return parse_doorbell(cfg, a, err, errlen);
        case O_NET:
                return ward_cli_parse_net(cfg, a, err, errlen);
        case O_VSOCK:
                return ward_cli_parse_vsock(cfg, a, err, errlen);
        }
        return -1;
}

/* Shared regions stay out of RAM and the device windows. */
static int check_shm_ranges(const struct ward_vm_config *cfg, char *err, size_t errlen)
{
        for (unsigned i = 0; i < cfg->nshm; i++) {
                const struct ward_shm_config *sc = &cfg->shm[i];
                const char *what = NULL;
                const struct ward_vm_arch *arch = parse_arch;
                if (ward_sys_ranges_overlap(sc->gpa, sc->size, arch->device_base,
                                            arch->device_end - arch->device_base))
                        what = "the device windows";
                else if (ward_sys_ranges_overlap(sc->gpa, sc->size, cfg->mem_gpa, cfg->mem_bytes))
                        what = "the --mem RAM";
                for (unsigned j = 0; !what && j < cfg->nram; j++)
                        if (ward_sys_ranges_overlap(sc->gpa, sc->size, cfg->ram[j].gpa,
                                                    cfg->ram[j].size))
                                what = "a --ram region";
                if (what) {
                        snprintf(err, errlen, "--shm %d:0x%llx:0x%llx: overlaps %s", sc->fd,
                                 (unsigned long long)sc->gpa, (unsigned long long)sc->size, what);
                        return -1;
                }
        }
        return 0;
}

/* What needs every option: the files, the memory layout. */
static int check_config(const struct ward_vm_config *cfg, uint64_t host_mem_bytes, char *err,
                        size_t errlen)
{
        if (!cfg->kernel) {
                snprintf(err, errlen, "--kernel: missing (the guest kernel Image is required)");
                return -1;
        }
        if (check_readable("--kernel", cfg->kernel, err, errlen))
                return -1;
        if (cfg->initrd && check_readable("--initrd", cfg->initrd, err, errlen))
                return -1;
        if (cfg->mem_bytes < MIN_MEM || cfg->mem_bytes % 4096) {
                snprintf(err, errlen,
                         "--mem: %llu bytes is not a whole number of pages of at "
                         "least 16M",
                         (unsigned long long)cfg->mem_bytes);
                return -1;
        }
        if (check_ram_ranges(cfg, host_mem_bytes, err, errlen))
                return -1;
        return check_shm_ranges(cfg, err, errlen);
}

enum ward_cli_result ward_cli_parse_run(int argc, char *const argv[], uint64_t host_mem_bytes,
                                        struct ward_vm_config *cfg, char *err, size_t errlen)
{
        return ward_cli_parse_run_for(ward_host_vm_arch(), argc, argv, host_mem_bytes, cfg, err,
                                      errlen);
}

enum ward_cli_result ward_cli_parse_run_for(const struct ward_vm_arch *arch, int argc,
                                            char *const argv[], uint64_t host_mem_bytes,
                                            struct ward_vm_config *cfg, char *err, size_t errlen)
{
        parse_arch = arch;
        static const struct option opts[] = {
            {"kernel", required_argument, NULL, O_KERNEL},
            {"initrd", required_argument, NULL, O_INITRD},
            {"cmdline", required_argument, NULL, O_CMDLINE},
            {"mem", required_argument, NULL, O_MEM},
            {"mem-at", required_argument, NULL, O_MEM_AT},
            {"ram", required_argument, NULL, O_RAM},
            {"cpus", required_argument, NULL, O_CPUS},
            {"disk", required_argument, NULL, O_DISK},
            {"console", required_argument, NULL, O_CONSOLE},
            {"no-rng", no_argument, NULL, O_NORNG},
            {"shm", required_argument, NULL, O_SHM},
            {"hugepages", required_argument, NULL, O_HUGEPAGES},
            {"seccomp", required_argument, NULL, O_SECCOMP},
            {"jail", required_argument, NULL, O_JAIL},
            {"doorbell", required_argument, NULL, O_DOORBELL},
            {"net", required_argument, NULL, O_NET},
            {"vsock", required_argument, NULL, O_VSOCK},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        memset(cfg, 0, sizeof(*cfg));
        cfg->mem_bytes = 512ull << 20;
        cfg->mem_gpa = parse_arch->ram_base;
        cfg->cpus = 1;
        cfg->rng = true;
        err[0] = '\0';

        optind = 0; /* full reset of getopt's state, so the parser can run again */
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                if (c == 'h')
                        return WARD_CLI_HELP;
                if (c < O_KERNEL || c > O_VSOCK) {
                        option_error(c, argv, err, errlen);
                        return WARD_CLI_ERROR;
                }
                if (apply_option(cfg, c, optarg, err, errlen))
                        return WARD_CLI_ERROR;
        }
        if (optind < argc) {
                snprintf(err, errlen, "%s: unexpected argument (see ward run --help)",
                         argv[optind]);
                return WARD_CLI_ERROR;
        }
        return check_config(cfg, host_mem_bytes, err, errlen) ? WARD_CLI_ERROR : WARD_CLI_OK;
}
