/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description's networks: /networks, an array of virtual
 * switches, each with its ports (one VM's NIC each):
 *   {"name": "lan", "ports": [{"vm": "vm_a", "mac": "02:00:00:00:00:0a",
 *     "vlan": 10, "reach": ["vm_b"], "rate_bytes": 12500000, "rate_frames": 10000}]}
 */
#include "parser.h"

#include <stdio.h>
#include <string.h>

enum { NP_VM, NP_MAC, NP_VLAN, NP_REACH, NP_RATE_BYTES, NP_RATE_FRAMES, NP_N };
static const char *const port_fields[NP_N] = {"vm",    "mac",        "vlan",
                                              "reach", "rate_bytes", "rate_frames"};

bool ward_sys_parse_mac(const char *s, uint8_t mac[6])
{
        if (strlen(s) != 17)
                return false;
        for (int i = 0; i < 6; i++) {
                const char *b = s + 3 * i;
                unsigned v = 0;
                for (int k = 0; k < 2; k++) {
                        char ch = b[k];
                        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                                     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                                              : 16u;
                        if (d > 15)
                                return false;
                        v = v * 16 + d;
                }
                if (i < 5 && b[2] != ':')
                        return false;
                mac[i] = (uint8_t)v;
        }
        return !(mac[0] & 1);
}

static void reach_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_net_port *np = target;
        ward_sysp_get_string(p, v, &np->reach[i]);
}

static void port_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_net_port *np = target;
        const char *s = NULL;
        switch (f) {
        case NP_VM:
                ward_sysp_get_string(p, v, &np->vm);
                break;
        case NP_MAC:
                np->mac_set = true;
                if (ward_sysp_get_string(p, v, &s)) {
                        np->mac_ok = ward_sys_parse_mac(s, np->mac);
                        if (!np->mac_ok)
                                perr(p,
                                     "\"%s\" is not a NIC's MAC (six hex bytes such as "
                                     "02:00:00:00:00:0a, not a group address)",
                                     s);
                }
                break;
        case NP_VLAN:
                ward_sysp_get_int(p, v, &np->vlan);
                break;
        case NP_REACH:
                if (!ward_sysp_want(p, v, json_type_array, "an array of VM names"))
                        break;
                np->reach =
                    ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*np->reach));
                if (!np->reach)
                        break;
                np->nreach = json_object_array_length(v);
                np->reach_set = true;
                ward_sysp_each(p, v, reach_elem, np);
                break;
        case NP_RATE_BYTES:
                ward_sysp_get_int(p, v, &np->rate_bytes);
                break;
        case NP_RATE_FRAMES:
                ward_sysp_get_int(p, v, &np->rate_frames);
                break;
        }
}

static void port_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_net_port *np = &((struct ward_sys_net_port *)target)[i];
        unsigned seen = ward_sysp_walk(p, v, "an object {\"vm\", \"mac\", ...}", port_fields, NP_N,
                                       port_field, np);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, NP_VM, port_fields, "the VM whose NIC the port is");
        ward_sysp_require(p, seen, NP_MAC, port_fields, "the NIC's MAC, which the switch enforces");
}

enum { N_NAME, N_PORTS, N_N };
static const char *const net_fields[N_N] = {"name", "ports"};

static void net_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_network *n = target;
        if (f == N_NAME) {
                ward_sysp_get_string(p, v, &n->name);
                return;
        }
        if (!ward_sysp_want(p, v, json_type_array, "an array of ports"))
                return;
        n->ports = ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*n->ports));
        if (!n->ports)
                return;
        n->nports = json_object_array_length(v);
        ward_sysp_each(p, v, port_elem, n->ports);
}

static void net_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_network *n = &((struct ward_sys_network *)target)[i];
        unsigned seen =
            ward_sysp_walk(p, v, "an object {\"name\", \"ports\"}", net_fields, N_N, net_field, n);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, N_NAME, net_fields, "every network has a name");
        ward_sysp_require(p, seen, N_PORTS, net_fields, "the VMs on the network");
}

void ward_sysp_networks(struct parser *p, struct json_object *v, struct ward_sys_desc *d)
{
        if (!ward_sysp_want(p, v, json_type_array, "an array of networks"))
                return;
        d->networks = ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*d->networks));
        if (!d->networks)
                return;
        d->nnetworks = json_object_array_length(v);
        ward_sysp_each(p, v, net_elem, d->networks);
}
