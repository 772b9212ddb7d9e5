/* SPDX-License-Identifier: BSD-2-Clause */
/* A description's network as its switch's table; see ward/desc/switch_config.h. */
#include "ward/desc/switch_config.h"

#include <string.h>

int ward_sys_switch_config(const struct ward_sys_network *n, struct ward_vswitch_port_config *out)
{
        if (n->nports == 0 || n->nports > WARD_VSWITCH_MAX_PORTS)
                return -1;
        for (size_t j = 0; j < n->nports; j++) {
                const struct ward_sys_net_port *np = &n->ports[j];
                struct ward_vswitch_port_config *c = &out[j];
                memset(c, 0, sizeof(*c));
                memcpy(c->mac, np->mac, 6);
                c->vlan = (uint16_t)np->vlan;
                c->rate_bytes = (uint64_t)np->rate_bytes;
                c->rate_frames = (uint64_t)np->rate_frames;
                c->reach = np->reach_set ? 0 : ~0u;
                for (size_t k = 0; np->reach_set && k < np->nreach; k++)
                        for (size_t t = 0; t < n->nports; t++)
                                if (np->reach[k] && n->ports[t].vm &&
                                    strcmp(np->reach[k], n->ports[t].vm) == 0)
                                        c->reach |= 1u << t;
        }
        return 0;
}
