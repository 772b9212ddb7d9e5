/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A description's network as its switch's table wants it (ward/net/
 * vswitch.h): one struct ward_vswitch_port_config per port, in the port
 * order of /networks/I/ports. The Linux switch process (`ward switch`) and
 * the seL4 generator (which writes it into the switch PD) both take it
 * from here, so a network means the same on both.
 */
#ifndef WARD_DESC_SWITCH_CONFIG_H
#define WARD_DESC_SWITCH_CONFIG_H

#include "ward/desc/system_desc.h"
#include "ward/net/vswitch.h"

/* MACs, VLANs, reach (absent: every port) and rates of n's ports into out
 * (WARD_VSWITCH_MAX_PORTS entries); -1 for no ports or too many. */
int ward_sys_switch_config(const struct ward_sys_network *n, struct ward_vswitch_port_config *out);

#endif
