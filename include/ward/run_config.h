/* SPDX-License-Identifier: BSD-2-Clause */
/* What `ward run` was asked to do, after its arguments were checked. */
#ifndef WARD_RUN_CONFIG_H
#define WARD_RUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define WARD_MAX_DISKS 8
#define WARD_MAX_SHM 16                 /* --shm regions per VM */
#define WARD_MAX_DOORBELLS 16           /* --doorbell consoles per VM */
#define WARD_SHM_GPA_LIMIT (1ull << 40) /* 40-bit guest-physical space */
#define WARD_MAX_RAM_EXTRA 7            /* --ram regions besides the boot RAM */

enum ward_console_kind {
        WARD_CONSOLE_SERIAL,
        WARD_CONSOLE_VIRTIO,
};

struct ward_disk_config {
        const char *path;
        bool read_only;
};

/* A shared region: an inherited memfd (or regular file) mapped at gpa. */
struct ward_shm_config {
        int fd;
        uint64_t gpa, size;
        bool read_only;
};

/* A RAM region besides the boot RAM: --ram GPA:SIZE. */
struct ward_ram_config {
        uint64_t gpa, size;
};

struct ward_run_config {
        const char *kernel;
        const char *initrd;  /* NULL: none */
        const char *cmdline; /* NULL: the default for the console kind */
        uint64_t mem_bytes;  /* the boot RAM (kernel, initrd, DTB): --mem */
        uint64_t mem_gpa;    /* where it starts: --mem-at (2M aligned) */
        struct ward_ram_config ram[WARD_MAX_RAM_EXTRA];
        unsigned nram;
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
};

enum ward_cli_result {
        WARD_CLI_OK = 0,
        WARD_CLI_HELP = 1,  /* --help was printed; exit 0 */
        WARD_CLI_ERROR = 2, /* err holds one line; exit 2 */
};

/*
 * Parses `ward run` arguments (argv[0] is "run"). host_mem_bytes bounds
 * --mem (0: unknown, no bound). On error, err gets one line that names the
 * argument and the problem.
 */
enum ward_cli_result ward_cli_parse_run(int argc, char *const argv[], uint64_t host_mem_bytes,
                                        struct ward_run_config *cfg, char *err, size_t errlen);

/* Parses sizes such as 512M, 2G, 1048576K, 300 (MiB when no suffix). */
int ward_parse_size(const char *s, uint64_t *out);

/* The kernel command line used when --cmdline is not given. */
const char *ward_default_cmdline(enum ward_console_kind console);

extern const char ward_run_usage[];

#endif
