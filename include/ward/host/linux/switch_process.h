/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A network's switch as a process of its own (`ward switch`, started and
 * restarted by `ward system up`): it holds each port's net port
 * (ward/port/port_net.h) and moves whole frames between them as the
 * switch's table (ward/net/vswitch.h) decides. It never sees guest memory:
 * only the ports' rings. It writes its counters to a stats region the
 * supervisor reads for `ward ctl`.
 *
 * Descriptors, from `first`: for each port, its memfd, the eventfd that
 * wakes the switch and the eventfd that wakes the VMM; then the stats memfd.
 */
#ifndef WARD_HOST_LINUX_SWITCH_PROCESS_H
#define WARD_HOST_LINUX_SWITCH_PROCESS_H

#include "ward/net/vswitch.h"
#include "ward/vm/vm_config.h"

/* The stats region: one struct ward_vswitch_port_stats per port, after a
 * 64-byte header whose first 8 bytes count the switch's rounds. */
#define WARD_SWITCH_STATS_HDR 64
#define WARD_SWITCH_STATS_BYTES                                                                    \
        (WARD_SWITCH_STATS_HDR + WARD_VSWITCH_MAX_PORTS * sizeof(struct ward_vswitch_port_stats))

/*
 * Runs the switch over n ports with the given configuration until it is
 * signalled (SIGTERM, SIGINT); returns the exit status. name is for
 * messages; jail (when on) is entered once the ports are mapped (jail.h),
 * then the allow-list goes in (seccomp is its mode).
 */
int ward_switch_run(const char *name, const struct ward_vswitch_port_config *ports, unsigned n,
                    int first, const struct ward_jail_config *jail, enum ward_seccomp_mode seccomp);

#endif
