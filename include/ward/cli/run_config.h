/* SPDX-License-Identifier: BSD-2-Clause */
/* What `ward run` was asked to do, after its arguments were checked. */
#ifndef WARD_RUN_CONFIG_H
#define WARD_RUN_CONFIG_H

#include "ward/common/size.h"
#include "ward/vm/vm_config.h"

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
                                        struct ward_vm_config *cfg, char *err, size_t errlen);
/* The same for the machine of arch (vm_arch.h) rather than this host's. */
struct ward_vm_arch;
enum ward_cli_result ward_cli_parse_run_for(const struct ward_vm_arch *arch, int argc,
                                            char *const argv[], uint64_t host_mem_bytes,
                                            struct ward_vm_config *cfg, char *err, size_t errlen);

/* One --net option into cfg->nets (src/cli/cli_net.c). */
int ward_cli_parse_net(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen);
/* --vsock CID,PATH into cfg->vsock (src/cli/cli_net.c). */
int ward_cli_parse_vsock(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen);

extern const char ward_run_usage[];

#endif
