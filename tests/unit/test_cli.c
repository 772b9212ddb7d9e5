/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward run` argument checking, as a table of inputs and the exact result
 * (the way OpenBSD vmd's regress tests feed its parser). "@K", "@I" and "@D"
 * stand for an existing kernel, initrd and disk file made with mkstemp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ward/vm/vm_arch.h"

#include "ward/cli/run_config.h"
#include "ward/host/linux/net_link.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define MAX_ARGS 24
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char kernel_path[64], initrd_path[64], disk_path[64];

/* Replaces @K, @I and @D in s. */
static void expand(const char *s, char *out, size_t outlen)
{
        size_t n = 0;
        out[0] = '\0';
        for (; *s; s++) {
                const char *rep = NULL;
                if (s[0] == '@' && s[1] == 'K')
                        rep = kernel_path;
                else if (s[0] == '@' && s[1] == 'I')
                        rep = initrd_path;
                else if (s[0] == '@' && s[1] == 'D')
                        rep = disk_path;
                if (rep) {
                        size_t l = strlen(rep);
                        assert_true(n + l < outlen);
                        memcpy(out + n, rep, l);
                        n += l;
                        s++;
                } else {
                        assert_true(n + 1 < outlen);
                        out[n++] = *s;
                }
        }
        out[n] = '\0';
}

enum { SERIAL = WARD_CONSOLE_SERIAL, VIRTIO = WARD_CONSOLE_VIRTIO };

struct cli_case {
        const char *args[MAX_ARGS]; /* after "run"; NULL ends them */
        uint64_t host_mem;
        enum ward_cli_result result;
        const char *err; /* the exact error line ("" when none) */
        /* For WARD_CLI_OK only: */
        uint64_t mem;
        unsigned cpus;
        int console;
        bool rng;
        unsigned ndisks;
        unsigned ro_mask; /* bit i: disk i is read-only */
};

/* The expected outcome: an error line, help, or the configuration. */
#define ERR(msg) WARD_CLI_ERROR, msg, 0, 0, SERIAL, false, 0, 0
#define HELP WARD_CLI_HELP, "", 0, 0, SERIAL, false, 0, 0
#define OK(mem, cpus, console, rng, ndisks, ro_mask)                                               \
        WARD_CLI_OK, "", mem, cpus, console, rng, ndisks, ro_mask
#define OK_DEFAULTS OK(512 * MiB, 1, SERIAL, true, 0, 0)

static const struct cli_case cases[] = {
    /* Defaults. */
    {{"--kernel", "@K"}, 0, OK_DEFAULTS},
    {{"--kernel=@K"}, 8 * GiB, OK_DEFAULTS},
    /* --kernel. */
    {{0}, 0, ERR("--kernel: missing (the guest kernel Image is required)")},
    {{"--mem", "1G"}, 0, ERR("--kernel: missing (the guest kernel Image is required)")},
    {{"--kernel", "/nonexistent/ward-Image"},
     0,
     ERR("--kernel /nonexistent/ward-Image: No such file or directory")},
    {{"--kernel", "@K", "--initrd", "/nonexistent/initrd"},
     0,
     ERR("--initrd /nonexistent/initrd: No such file or directory")},
    {{"--kernel", "@K", "--initrd", "@I", "--cmdline", "quiet"}, 0, OK_DEFAULTS},
    /* --mem. */
    {{"--kernel", "@K", "--mem", "lots"}, 0, ERR("--mem lots: not a size (try 512M or 2G)")},
    {{"--kernel", "@K", "--mem", "2T"}, 0, ERR("--mem 2T: not a size (try 512M or 2G)")},
    {{"--kernel", "@K", "--mem", "-1G"}, 0, ERR("--mem -1G: not a size (try 512M or 2G)")},
    {{"--kernel", "@K", "--mem", ""}, 0, ERR("--mem : not a size (try 512M or 2G)")},
    {{"--kernel", "@K", "--mem", "8M"},
     0,
     ERR("--mem: 8388608 bytes is not a whole number of pages of at least 16M")},
    {{"--kernel", "@K", "--mem", "16385K"},
     0,
     ERR("--mem: 16778240 bytes is not a whole number of pages of at least 16M")},
    {{"--kernel", "@K", "--mem", "16388K"}, 0, OK(16 * MiB + 4096, 1, SERIAL, true, 0, 0)},
    {{"--kernel", "@K", "--mem", "2G"},
     1 * GiB,
     ERR("--mem: 2048M is more than this host's 1024M of RAM")},
    {{"--kernel", "@K", "--mem", "1G"}, 1 * GiB, OK(1 * GiB, 1, SERIAL, true, 0, 0)},
    {{"--kernel", "@K", "--mem", "64G"}, 0, OK(64 * GiB, 1, SERIAL, true, 0, 0)},
    {{"--kernel", "@K", "--mem", "300"}, 0, OK(300 * MiB, 1, SERIAL, true, 0, 0)},
    /* Default memory larger than the host. */
    {{"--kernel", "@K"}, 256 * MiB, ERR("--mem: 512M is more than this host's 256M of RAM")},
    /* --cpus. */
    {{"--kernel", "@K", "--cpus", "0"}, 0, ERR("--cpus 0: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "65"}, 0, ERR("--cpus 65: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "abc"}, 0, ERR("--cpus abc: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "4x"}, 0, ERR("--cpus 4x: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", ""}, 0, ERR("--cpus : must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "-1"}, 0, ERR("--cpus -1: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "99999999999999999999"},
     0,
     ERR("--cpus 99999999999999999999: must be a number from 1 to 64")},
    {{"--kernel", "@K", "--cpus", "64"}, 0, OK(512 * MiB, 64, SERIAL, true, 0, 0)},
    /* Unknown options, missing values, stray arguments. */
    {{"--kernel", "@K", "--frobnicate"},
     0,
     ERR("--frobnicate: unknown option (see ward run --help)")},
    {{"--kernel", "@K", "-x"}, 0, ERR("-x: unknown option (see ward run --help)")},
    {{"-xq", "--kernel", "@K"}, 0, ERR("-x: unknown option (see ward run --help)")},
    {{"--no-rng=1", "--kernel", "@K"}, 0, ERR("--no-rng=1: unknown option (see ward run --help)")},
    {{"--kernel", "@K", "--mem"}, 0, ERR("--mem: needs a value")},
    {{"--kernel"}, 0, ERR("--kernel: needs a value")},
    {{"--kernel", "@K", "extra"}, 0, ERR("extra: unexpected argument (see ward run --help)")},
    {{"--kernel", "@K", "--help"}, 0, HELP},
    {{"-h"}, 0, HELP},
    {{"--kernel", "@K", "--help=1"}, 0, ERR("--help=1: unknown option (see ward run --help)")},
    {{"--kernel", "@K", "--c", "1"}, 0, ERR("--c: unknown option (see ward run --help)")},
    /* --disk. */
    {{"--kernel", "@K", "--disk", "@D"}, 0, OK(512 * MiB, 1, SERIAL, true, 1, 0)},
    {{"--kernel", "@K", "--disk", "@D,ro", "--disk", "@D,rw"},
     0,
     OK(512 * MiB, 1, SERIAL, true, 2, 1)},
    {{"--kernel", "@K", "--disk", "@D,rx"},
     0,
     ERR("--disk @D,rx: unknown option 'rx' (expected ro, rw or process)")},
    {{"--kernel", "@K", "--disk", "@D,ro,process,rx"},
     0,
     ERR("--disk @D,ro,process,rx: unknown option 'rx' (expected ro, rw or process)")},
    {{"--kernel", "@K", "--disk", "@D,"},
     0,
     ERR("--disk @D,: unknown option '' (expected ro, rw or process)")},
    {{"--kernel", "@K", "--disk", ""}, 0, ERR("--disk: path is empty or too long")},
    {{"--kernel", "@K", "--disk", "/nonexistent/disk.img,ro"},
     0,
     ERR("--disk /nonexistent/disk.img: No such file or directory")},
    {{"--kernel", "@K", "--disk", "@D", "--disk", "@D", "--disk", "@D", "--disk", "@D", "--disk",
      "@D", "--disk", "@D", "--disk", "@D", "--disk", "@D,ro"},
     0,
     OK(512 * MiB, 1, SERIAL, true, 8, 0x80)},
    {{"--kernel", "@K", "--disk", "@D", "--disk", "@D", "--disk", "@D", "--disk", "@D",
      "--disk",   "@D", "--disk", "@D", "--disk", "@D", "--disk", "@D", "--disk", "@D,ro"},
     0,
     ERR("--disk @D,ro: at most 8 disks")},
    /* --console and --no-rng. */
    {{"--kernel", "@K", "--console", "tty"},
     0,
     ERR("--console tty: expected 'serial' or 'virtio'")},
    {{"--kernel", "@K", "--console", "Virtio"},
     0,
     ERR("--console Virtio: expected 'serial' or 'virtio'")},
    {{"--kernel", "@K", "--console", "virtio", "--no-rng"},
     0,
     OK(512 * MiB, 1, VIRTIO, false, 0, 0)},
    {{"--console", "virtio", "--console", "serial", "--kernel", "@K"}, 0, OK_DEFAULTS},
    /* --hugepages (the fields: parse_run_hugepages). */
    {{"--kernel", "@K", "--hugepages", "2M"},
     0,
     ERR("--hugepages 2M: expected 'thp', 'off' or 'hugetlb'")},
    {{"--kernel", "@K", "--hugepages"}, 0, ERR("--hugepages: needs a value")},
    /* --seccomp (the field: parse_run_seccomp). */
    {{"--kernel", "@K", "--seccomp", "strict"},
     0,
     ERR("--seccomp strict: expected 'on', 'log' or 'off'")},
    {{"--kernel", "@K", "--seccomp"}, 0, ERR("--seccomp: needs a value")},
    {{"--kernel", "@K", "--mem", "17M", "--hugepages", "hugetlb"},
     0,
     ERR("--mem at 0x40000000: --hugepages hugetlb needs RAM in whole 2M pages (address and "
         "size 2M aligned)")},
    {{"--hugepages", "hugetlb", "--kernel", "@K", "--ram", "0x80001000:2M"},
     0,
     ERR("--ram 0x80001000:0x200000: --hugepages hugetlb needs RAM in whole 2M pages (address "
         "and size 2M aligned)")},
    {{"--kernel", "@K", "--mem", "17M", "--hugepages", "off"},
     0,
     OK(17 * MiB, 1, SERIAL, true, 0, 0)},
    /* --shm (fd 200: a 64K memfd, 201: a socket, 202: a pipe, 203: closed). */
    {{"--kernel", "@K", "--shm", "200:0x80000000:64K:rw"}, 0, OK_DEFAULTS},
    {{"--kernel", "@K", "--shm", "200:0x1000000:0x10000:ro"}, 0, OK_DEFAULTS},
    {{"--kernel", "@K", "--shm", "200:0x80000000:64K"},
     0,
     ERR("--shm 200:0x80000000:64K: expected FD:GPA:SIZE:ro|rw")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:64K:rw:x"},
     0,
     ERR("--shm 200:0x80000000:64K:rw:x: expected FD:GPA:SIZE:ro|rw")},
    {{"--kernel", "@K", "--shm", "x:0x80000000:64K:rw"},
     0,
     ERR("--shm x:0x80000000:64K:rw: 'x' is not a file descriptor number")},
    {{"--kernel", "@K", "--shm", "200:here:64K:rw"},
     0,
     ERR("--shm 200:here:64K:rw: 'here' is not an address")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:-1:rw"},
     0,
     ERR("--shm 200:0x80000000:-1:rw: '-1' is not a size")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:64K:wx"},
     0,
     ERR("--shm 200:0x80000000:64K:wx: unknown access 'wx' (expected ro or rw)")},
    {{"--kernel", "@K", "--shm", "200:0x80000800:64K:rw"},
     0,
     ERR("--shm 200:0x80000800:64K:rw: address and size must be page aligned (4K), size not 0")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:0:rw"},
     0,
     ERR("--shm 200:0x80000000:0:rw: address and size must be page aligned (4K), size not 0")},
    {{"--kernel", "@K", "--shm", "200:0xfffffff000:64K:rw"},
     0,
     ERR("--shm 200:0xfffffff000:64K:rw: ends beyond the 40-bit guest-physical space")},
    {{"--kernel", "@K", "--shm", "203:0x80000000:64K:rw"},
     0,
     ERR("--shm 203:0x80000000:64K:rw: fd 203: Bad file descriptor")},
    {{"--kernel", "@K", "--shm", "202:0x80000000:64K:rw"},
     0,
     ERR("--shm 202:0x80000000:64K:rw: fd 202 is not a memfd or regular file")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:128K:rw"},
     0,
     ERR("--shm 200:0x80000000:128K:rw: fd 200 has only 65536 bytes")},
    {{"--kernel", "@K", "--shm", "200:0x80000000:64K:rw", "--shm", "200:0x8000f000:4K:ro"},
     0,
     ERR("--shm 200:0x8000f000:4K:ro: overlaps an earlier --shm region")},
    {{"--kernel", "@K", "--shm", "200:0x50000000:64K:rw"},
     0,
     ERR("--shm 200:0x50000000:0x10000: overlaps the --mem RAM")},
    {{"--kernel", "@K", "--mem", "1G", "--shm", "200:0x7fff0000:64K:rw"},
     0,
     ERR("--shm 200:0x7fff0000:0x10000: overlaps the --mem RAM")},
    {{"--kernel", "@K", "--shm", "200:0x9000000:64K:rw"},
     0,
     ERR("--shm 200:0x9000000:0x10000: overlaps the device windows")},
    {{"--kernel", "@K", "--ram", "0x100000000:64M", "--shm", "200:0x103ff0000:64K:rw"},
     0,
     ERR("--shm 200:0x103ff0000:0x10000: overlaps a --ram region")},
    /* --mem-at and --ram. */
    {{"--kernel", "@K", "--mem-at", "0x80000000", "--ram", "0x40000000:64M", "--ram",
      "0:0x8000000"},
     0,
     OK_DEFAULTS},
    {{"--kernel", "@K", "--mem-at", "0x80100000"},
     0,
     ERR("--mem-at 0x80100000: not an address aligned to 2M (try 0x80000000)")},
    {{"--kernel", "@K", "--mem-at", "0x0"},
     0,
     ERR("--mem at 0x0: overlaps the device windows (0x8000000-0x40000000)")},
    {{"--kernel", "@K", "--mem-at", "0xff00000000", "--mem", "8G"},
     0,
     ERR("--mem at 0xff00000000: ends beyond the 40-bit guest-physical space")},
    {{"--kernel", "@K", "--ram", "0x100000000"}, 0, ERR("--ram 0x100000000: expected GPA:SIZE")},
    {{"--kernel", "@K", "--ram", "top:64M"}, 0, ERR("--ram top:64M: 'top' is not an address")},
    {{"--kernel", "@K", "--ram", "0x100000000:lots"},
     0,
     ERR("--ram 0x100000000:lots: 'lots' is not a size (try 64M)")},
    {{"--kernel", "@K", "--ram", "0x100000800:64M"},
     0,
     ERR("--ram 0x100000800:0x4000000: address and size must be page aligned (4K), size not 0")},
    {{"--kernel", "@K", "--ram", "0x7000000:32M"},
     0,
     ERR("--ram 0x7000000:0x2000000: overlaps the device windows (0x8000000-0x40000000)")},
    {{"--kernel", "@K", "--ram", "0x5ff00000:2M"},
     0,
     ERR("--ram 0x5ff00000:0x200000: overlaps the --mem RAM")},
    {{"--kernel", "@K", "--ram", "0x100000000:64M", "--ram", "0x103000000:64M"},
     0,
     ERR("--ram 0x103000000:0x4000000: overlaps an earlier --ram region")},
    {{"--kernel", "@K", "--ram", "0x100000000:1G"},
     1 * GiB,
     ERR("--mem and --ram: 1536M is more than this host's 1024M of RAM")},
    {{"--kernel", "@K", "--ram", "0x100000000:4K", "--ram", "0x100001000:4K", "--ram",
      "0x100002000:4K", "--ram", "0x100003000:4K", "--ram", "0x100004000:4K", "--ram",
      "0x100005000:4K", "--ram", "0x100006000:4K", "--ram", "0x100007000:4K"},
     0,
     ERR("--ram 0x100007000:4K: at most 7 regions besides --mem")},
    /* --doorbell. */
    {{"--kernel", "@K", "--doorbell", "201", "--doorbell", "201"}, 0, OK_DEFAULTS},
    {{"--kernel", "@K", "--doorbell", "2x"}, 0, ERR("--doorbell 2x: not a file descriptor number")},
    {{"--kernel", "@K", "--doorbell", "200"}, 0, ERR("--doorbell 200: not a socket")},
    {{"--kernel", "@K", "--doorbell", "203"}, 0, ERR("--doorbell 203: Bad file descriptor")},
    /* --net. */
    {{"--kernel", "@K", "--net", "user", "--net", "tap=wtap0"}, 0, OK_DEFAULTS},
    {{"--kernel", "@K", "--net", "slirp"}, 0, ERR("--net slirp: expected user or tap=NAME first")},
    {{"--kernel", "@K", "--net", "tap="},
     0,
     ERR("--net tap=: a tap interface's name is 1 to 15 characters, no '/'")},
    {{"--kernel", "@K", "--net", "tap=a234567890123456"},
     0,
     ERR("--net tap=a234567890123456: a tap interface's name is 1 to 15 characters, no '/'")},
    {{"--kernel", "@K", "--net", "user,mtu=9000"},
     0,
     ERR("--net: unknown option 'mtu=9000' (expected mac= or hostfwd=)")},
    {{"--kernel", "@K", "--net", "user,mac=01:00:5e:00:00:01"},
     0,
     ERR("--net: mac=01:00:5e:00:00:01: a multicast address cannot be a NIC's")},
    {{"--kernel", "@K", "--net", "user,mac=52:54:00:12:34"},
     0,
     ERR("--net: mac=52:54:00:12:34: expected six hex bytes (52:54:00:12:34:56)")},
    {{"--kernel", "@K", "--net", "user,mac=52:54:00:12:34:5g"},
     0,
     ERR("--net: mac=52:54:00:12:34:5g: expected six hex bytes (52:54:00:12:34:56)")},
    {{"--kernel", "@K", "--net", "tap=t0,hostfwd=tcp::1-:2"},
     0,
     ERR("--net: hostfwd= is for --net user only")},
    {{"--kernel", "@K", "--net", "user,hostfwd=sctp::1-:2"},
     0,
     ERR("--net: hostfwd=sctp::1-:2: expected tcp: or udp: first (hostfwd=tcp::8022-:22)")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp:8022:22"},
     0,
     ERR("--net: hostfwd=tcp:8022:22: expected PROTO:[ADDR]:HOSTPORT-:GUESTPORT "
         "(hostfwd=tcp::8022-:22)")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp::0-:22"},
     0,
     ERR("--net: hostfwd=tcp::0-:22: ports are 1 to 65535")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp::8022-:65536"},
     0,
     ERR("--net: hostfwd=tcp::8022-:65536: ports are 1 to 65535")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp:256.0.0.1:8022-:22"},
     0,
     ERR("--net: hostfwd=tcp:256.0.0.1:8022-:22: '256.0.0.1' is not an IPv4 address")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp::8022-10.0.2.15:22"},
     0,
     ERR("--net: hostfwd=tcp::8022-10.0.2.15:22: a guest address cannot be given (passt "
         "forwards to the guest's one address)")},
    {{"--kernel", "@K", "--net", "user,hostfwd=tcp::8022-:22,hostfwd=tcp::8022-:23"},
     0,
     ERR("--net: hostfwd=tcp::8022-:23: host port 8022 is forwarded twice")},
    {{"--kernel", "@K", "--net", "user", "--net", "user,mac=02:77:61:72:64:00"},
     0,
     ERR("--net user,mac=02:77:61:72:64:00: NIC 0 has the same MAC")},
    {{"--kernel", "@K", "--net", "user", "--net", "user", "--net", "user", "--net", "user", "--net",
      "user"},
     0,
     ERR("--net user: at most 4 NICs")},
    /* Everything at once. */
    {{"--kernel", "@K", "--initrd", "@I", "--mem", "2GiB", "--cpus", "8", "--disk", "@D,ro",
      "--console", "virtio", "--cmdline", "console=hvc0", "--no-rng"},
     4 * GiB,
     OK(2 * GiB, 8, VIRTIO, false, 1, 1)},
};

static void run_case(const struct cli_case *c, size_t idx)
{
        char store[MAX_ARGS][256];
        char *argv[MAX_ARGS + 2];
        int argc = 0;
        argv[argc++] = (char *)"run";
        for (size_t i = 0; i < MAX_ARGS && c->args[i]; i++) {
                expand(c->args[i], store[i], sizeof(store[i]));
                argv[argc++] = store[i];
        }
        argv[argc] = NULL;
        char want_err[512];
        expand(c->err, want_err, sizeof(want_err));

        static struct ward_vm_config cfg;
        char err[512];
        memset(err, 'x', sizeof(err));
        enum ward_cli_result r = ward_cli_parse_run_for(&ward_vm_arch_arm64, argc, argv,
                                                        c->host_mem, &cfg, err, sizeof(err));
        if (r != c->result || strcmp(err, want_err) != 0) {
                print_error("case %zu (", idx);
                for (int i = 1; i < argc; i++)
                        print_error("%s%s", i > 1 ? " " : "", argv[i]);
                print_error("): got %d \"%s\", want %d \"%s\"\n", (int)r, err, (int)c->result,
                            want_err);
                fail();
        }
        if (r != WARD_CLI_OK)
                return;
        assert_string_equal(cfg.kernel, kernel_path);
        assert_int_equal(cfg.mem_bytes, c->mem);
        assert_int_equal(cfg.cpus, c->cpus);
        assert_int_equal(cfg.console, c->console);
        assert_int_equal(cfg.rng, c->rng);
        assert_int_equal(cfg.ndisks, c->ndisks);
        for (unsigned i = 0; i < cfg.ndisks; i++) {
                assert_string_equal(cfg.disks[i].path, disk_path);
                assert_int_equal(cfg.disks[i].read_only, (c->ro_mask >> i) & 1);
        }
}

static void parse_run_table(void **state)
{
        (void)state;
        /* Twice over in one process: getopt's state must not leak between runs. */
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                        run_case(&cases[i], i);
}

/* On x86_64 the boot RAM starts at 0 and the device windows are 3G-4G. */
static void parse_run_x86_64(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256];
        char k[64];
        strcpy(k, kernel_path);
        char *argv[] = {"run", "--kernel", k, "--ram", "0x100000000:1G", NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_x86_64, 5, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.mem_gpa, 0);
        assert_int_equal(cfg.ram[0].gpa, 0x100000000);
        char *big[] = {"run", "--kernel", k, "--mem", "4G", NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_x86_64, 5, big, 0, &cfg, err, sizeof(err)),
            WARD_CLI_ERROR);
        assert_string_equal(err,
                            "--mem at 0x0: overlaps the device windows (0xc0000000-0x100000000)");
        char *hole[] = {"run", "--kernel", k, "--ram", "0xd0000000:16M", NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_x86_64, 5, hole, 0, &cfg, err, sizeof(err)),
            WARD_CLI_ERROR);
        assert_string_equal(
            err,
            "--ram 0xd0000000:0x1000000: overlaps the device windows (0xc0000000-0x100000000)");
}

static void parse_run_fields(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256];
        char k[64], i[64], d[80];
        strcpy(k, kernel_path);
        strcpy(i, initrd_path);
        snprintf(d, sizeof(d), "%s,ro", disk_path);
        char *argv[] = {"run",      "--cmdline", "root=/dev/vda", "--kernel", k,
                        "--initrd", i,           "--disk",        d,          NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 9, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_string_equal(err, "");
        assert_string_equal(cfg.cmdline, "root=/dev/vda");
        assert_string_equal(cfg.initrd, initrd_path);
        assert_string_equal(cfg.disks[0].path, disk_path); /* ",ro" is cut off */
        assert_true(cfg.disks[0].read_only);
        /* A later run starts from the defaults again. */
        char *argv2[] = {"run", "--kernel", k, NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 3, argv2, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_null(cfg.cmdline);
        assert_null(cfg.initrd);
        assert_int_equal(cfg.ndisks, 0);
        assert_int_equal(cfg.mem_gpa, 0x40000000);
        assert_int_equal(cfg.nram, 0);
        /* --mem-at and --ram, in order. */
        char *argv3[] = {"run",   "--kernel", k,       "--mem-at",           "0x80000000",
                         "--ram", "0:64M",    "--ram", "0x100000000:0x1000", NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 9, argv3, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.mem_gpa, 0x80000000);
        assert_int_equal(cfg.nram, 2);
        assert_int_equal(cfg.ram[0].gpa, 0);
        assert_int_equal(cfg.ram[0].size, 64 * MiB);
        assert_int_equal(cfg.ram[1].gpa, 0x100000000);
        assert_int_equal(cfg.ram[1].size, 0x1000);
        assert_string_equal(ward_default_cmdline(WARD_CONSOLE_SERIAL),
                            "console=ttyS0 earlycon panic=-1");
        assert_string_equal(ward_default_cmdline(WARD_CONSOLE_VIRTIO),
                            "console=hvc0 earlycon panic=-1");
}

/* --hugepages sets what backs RAM; THP is the default (the zero value). */
static void parse_run_hugepages(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256], k[64];
        strcpy(k, kernel_path);
        static const struct {
                const char *arg;
                enum ward_ram_backing want;
        } hp[] = {{"thp", WARD_RAM_THP}, {"off", WARD_RAM_OFF}, {"hugetlb", WARD_RAM_HUGETLB}};
        for (size_t c = 0; c < sizeof(hp) / sizeof(hp[0]); c++) {
                char a[16];
                strcpy(a, hp[c].arg);
                char *argv[] = {"run", "--kernel", k, "--hugepages", a, NULL};
                assert_int_equal(
                    ward_cli_parse_run_for(&ward_vm_arch_arm64, 5, argv, 0, &cfg, err, sizeof(err)),
                    WARD_CLI_OK);
                assert_int_equal(cfg.hugepages, hp[c].want);
                assert_string_equal(ward_ram_backing_names[cfg.hugepages], hp[c].arg);
        }
        char *argv[] = {"run", "--kernel", k, NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 3, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.hugepages, WARD_RAM_THP);
}

static void parse_run_seccomp(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256], k[64];
        strcpy(k, kernel_path);
        static const struct {
                const char *arg;
                enum ward_seccomp_mode want;
        } m[] = {{"on", WARD_SECCOMP_ON}, {"log", WARD_SECCOMP_LOG}, {"off", WARD_SECCOMP_OFF}};
        for (size_t c = 0; c < sizeof(m) / sizeof(m[0]); c++) {
                char a[16];
                strcpy(a, m[c].arg);
                char *argv[] = {"run", "--kernel", k, "--seccomp", a, NULL};
                assert_int_equal(
                    ward_cli_parse_run_for(&ward_vm_arch_arm64, 5, argv, 0, &cfg, err, sizeof(err)),
                    WARD_CLI_OK);
                assert_int_equal(cfg.seccomp, m[c].want);
        }
        /* On unless asked otherwise. */
        char *argv[] = {"run", "--kernel", k, NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 3, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.seccomp, WARD_SECCOMP_ON);
}

static void parse_run_net_fields(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256], k[64], n0[128], n1[64];
        strcpy(k, kernel_path);
        strcpy(n0, "user,hostfwd=tcp::8022-:22,hostfwd=udp:127.0.0.1:5353-:53");
        strcpy(n1, "tap=wtap0,mac=52:54:00:AB:cd:01");
        char *argv[] = {"run", "--kernel", k, "--net", n0, "--net", n1, NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 7, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.nnets, 2);
        const struct ward_net_config *u = &cfg.nets[0], *t = &cfg.nets[1];
        assert_int_equal(u->kind, WARD_NET_USER);
        static const uint8_t mac0[6] = {0x02, 0x77, 0x61, 0x72, 0x64, 0x00};
        static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x01};
        assert_memory_equal(u->mac, mac0, 6);
        assert_int_equal(u->nfwd, 2);
        assert_false(u->fwd[0].udp);
        assert_string_equal(u->fwd[0].addr, "");
        assert_int_equal(u->fwd[0].host, 8022);
        assert_int_equal(u->fwd[0].guest, 22);
        assert_true(u->fwd[1].udp);
        assert_string_equal(u->fwd[1].addr, "127.0.0.1");
        assert_int_equal(u->fwd[1].host, 5353);
        assert_int_equal(u->fwd[1].guest, 53);
        assert_int_equal(t->kind, WARD_NET_TAP);
        assert_string_equal(t->tap, "wtap0");
        assert_memory_equal(t->mac, mac1, 6);

        /* What passt is given for the first. */
        const char *pargv[16];
        char buf[256];
        int n = ward_net_user_argv(u, 3, pargv, 16, buf, sizeof(buf));
        assert_int_equal(n, 10);
        const char *want[] = {"passt", "-f", "-q",      "-e", "--fd",
                              "3",     "-t", "8022:22", "-u", "127.0.0.1/5353:53"};
        for (int i = 0; i < n; i++)
                assert_string_equal(pargv[i], want[i]);
        assert_null(pargv[n]);
        assert_int_equal(ward_net_user_argv(u, 3, pargv, 8, buf, sizeof(buf)), -1);
}

static void parse_run_error_is_truncated_to_errlen(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[12];
        memset(err, 'x', sizeof(err));
        char *argv[] = {"run", NULL};
        assert_int_equal(ward_cli_parse_run_for(&ward_vm_arch_arm64, 1, argv, 0, &cfg, err, 8),
                         WARD_CLI_ERROR);
        assert_string_equal(err, "--kerne");
        assert_int_equal(err[8], 'x');
}

struct size_case {
        const char *s;
        int rc;
        uint64_t v;
};

static const struct size_case size_cases[] = {
    {"512M", 0, 512 * MiB},
    {"512m", 0, 512 * MiB},
    {"2G", 0, 2 * GiB},
    {"2g", 0, 2 * GiB},
    {"2GiB", 0, 2 * GiB},
    {"2GB", 0, 2 * GiB},
    {"1048576K", 0, 1 * GiB},
    {"4k", 0, 4096},
    {"4KiB", 0, 4096},
    {"300", 0, 300 * MiB},
    {"0", 0, 0},
    {"17179869183G", 0, 17179869183ull << 30}, /* the largest that fits */
    {"17179869184G", -1, 0},
    {"17592186044415", 0, 17592186044415ull << 20},
    {"17592186044416", -1, 0},
    {"18446744073709551616", -1, 0}, /* strtoull overflows */
    {"", -1, 0},
    {"M", -1, 0},
    {"-1", -1, 0},
    {"+1", -1, 0},
    {"1T", -1, 0},
    {"1MX", -1, 0},
    {"1Mi", -1, 0},
    {"1MiBB", -1, 0},
    {"1 M", -1, 0},
    {"1.5G", -1, 0},
    {"0x10M", -1, 0},
};

static void parse_shm_doorbell_fields(void **state)
{
        (void)state;
        static struct ward_vm_config cfg;
        char err[256];
        char k[64];
        strcpy(k, kernel_path);
        char *argv[] = {"run",
                        "--kernel",
                        k,
                        "--shm",
                        "200:0x80000000:0x10000:ro",
                        "--shm",
                        "200:0x100000000:4K:rw",
                        "--doorbell",
                        "201",
                        NULL};
        assert_int_equal(
            ward_cli_parse_run_for(&ward_vm_arch_arm64, 9, argv, 0, &cfg, err, sizeof(err)),
            WARD_CLI_OK);
        assert_int_equal(cfg.nshm, 2);
        assert_int_equal(cfg.shm[0].fd, 200);
        assert_int_equal(cfg.shm[0].gpa, 0x80000000ull);
        assert_int_equal(cfg.shm[0].size, 0x10000);
        assert_true(cfg.shm[0].read_only);
        assert_int_equal(cfg.shm[1].gpa, 0x100000000ull);
        assert_int_equal(cfg.shm[1].size, 4096);
        assert_false(cfg.shm[1].read_only);
        assert_int_equal(cfg.ndoorbells, 1);
        assert_int_equal(cfg.doorbell_fd[0], 201);
}

static void parse_size_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
                const struct size_case *c = &size_cases[i];
                uint64_t v = 0xdeadbeef;
                int rc = ward_parse_size(c->s, &v);
                if (rc != c->rc || (rc == 0 && v != c->v)) {
                        print_error("ward_parse_size(\"%s\"): got %d %llu, want %d %llu\n", c->s,
                                    rc, (unsigned long long)v, c->rc, (unsigned long long)c->v);
                        fail();
                }
                if (rc != 0)
                        assert_int_equal(v, 0xdeadbeef); /* untouched on failure */
        }
        uint64_t v;
        assert_int_equal(ward_parse_size(NULL, &v), -1);
}

static void make_temp(char *path, size_t len, const char *name)
{
        snprintf(path, len, "/tmp/ward-test-%s-XXXXXX", name);
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "ward", 4), 4);
        close(fd);
}

static int group_setup(void **state)
{
        (void)state;
        make_temp(kernel_path, sizeof(kernel_path), "kernel");
        make_temp(initrd_path, sizeof(initrd_path), "initrd");
        make_temp(disk_path, sizeof(disk_path), "disk");
        /* Fixed descriptor numbers for the --shm and --doorbell rows. */
        int mfd = memfd_create("ward-test-shm", MFD_CLOEXEC);
        assert_true(mfd >= 0);
        assert_int_equal(ftruncate(mfd, 65536), 0);
        assert_int_equal(dup2(mfd, 200), 200);
        close(mfd);
        int sv[2], pv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        assert_int_equal(dup2(sv[0], 201), 201);
        close(sv[0]);
        close(sv[1]);
        assert_int_equal(pipe(pv), 0);
        assert_int_equal(dup2(pv[0], 202), 202);
        close(pv[0]);
        close(pv[1]);
        close(203);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        unlink(kernel_path);
        unlink(initrd_path);
        unlink(disk_path);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(parse_run_table),
            cmocka_unit_test(parse_run_fields),
            cmocka_unit_test(parse_run_x86_64),
            cmocka_unit_test(parse_run_hugepages),
            cmocka_unit_test(parse_run_seccomp),
            cmocka_unit_test(parse_run_net_fields),
            cmocka_unit_test(parse_shm_doorbell_fields),
            cmocka_unit_test(parse_run_error_is_truncated_to_errlen),
            cmocka_unit_test(parse_size_table),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
