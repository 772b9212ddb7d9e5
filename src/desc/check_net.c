/* SPDX-License-Identifier: BSD-2-Clause */
/* The checker's part for /networks (see parse_net.c for the form) and each VM's vsock. */
#include "checker.h"
#include "ward/vm/vm_config.h"

#include <string.h>

#define MAX_RATE 1000000000000ll /* a terabyte a second: past any link */

static size_t port_of(const struct ward_sys_network *n, const char *vm)
{
        for (size_t j = 0; j < n->nports; j++)
                if (n->ports[j].vm && strcmp(n->ports[j].vm, vm) == 0)
                        return j;
        return (size_t)-1;
}

static void check_port(struct checker *c, size_t i, size_t j)
{
        const struct ward_sys_desc *d = c->d;
        const struct ward_sys_network *n = &d->networks[i];
        const struct ward_sys_net_port *np = &n->ports[j];
        char p[PATH_LEN];
        if (np->vm && ward_sys_find_vm(d, np->vm) < 0)
                cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/vm", i, j),
                     "no VM named \"%s\"", np->vm);
        else if (np->vm && port_of(n, np->vm) != j)
                cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/vm", i, j),
                     "\"%s\" has a port on this network already (/networks/%zu/ports/%zu)", np->vm,
                     i, port_of(n, np->vm));
        for (size_t k = 0; np->mac_ok && k < j; k++)
                if (n->ports[k].mac_ok && memcmp(n->ports[k].mac, np->mac, 6) == 0) {
                        cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/mac", i, j),
                             "the MAC of /networks/%zu/ports/%zu too", i, k);
                        break;
                }
        ward_sysc_int_range(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/vlan", i, j), np->vlan,
                            0, 4094);
        ward_sysc_int_range(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/rate_bytes", i, j),
                            np->rate_bytes, 0, MAX_RATE);
        ward_sysc_int_range(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/rate_frames", i, j),
                            np->rate_frames, 0, MAX_RATE);
        for (size_t k = 0; k < ward_sysc_upto(np->nreach, WARD_SYS_MAX_NET_PORTS); k++) {
                const char *r = np->reach[k];
                ward_sysc_ipath(p, "/networks/%zu/ports/%zu/reach/%zu", i, j, k);
                if (!r)
                        continue; /* reported by the parser */
                if (port_of(n, r) == (size_t)-1)
                        cerr(c, p, "\"%s\" has no port on network %s", r,
                             n->name ? n->name : "(unnamed)");
                else if (np->vm && strcmp(r, np->vm) == 0)
                        cerr(c, p, "a port does not reach itself");
        }
        if (np->nreach > WARD_SYS_MAX_NET_PORTS)
                cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports/%zu/reach", i, j),
                     "%zu entries, at most %d", np->nreach, WARD_SYS_MAX_NET_PORTS);
}

/* Each VM's NICs, over every network: a VMM has at most WARD_MAX_NETS. */
static void check_nics_per_vm(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN];
        for (size_t v = 0; v < ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS); v++) {
                size_t nics = 0;
                for (size_t i = 0; i < ward_sysc_upto(d->nnetworks, WARD_SYS_MAX_NETWORKS); i++)
                        nics += port_of(&d->networks[i], d->vms[v].name) != (size_t)-1;
                if (nics > WARD_MAX_NETS)
                        cerr(c, ward_sysc_kpath(p, "/vms", d->vms[v].name, "%s", ""),
                             "is on %zu networks; a VM has at most %d NICs", nics, WARD_MAX_NETS);
        }
}

/*
 * /vms/NAME/vsock: a context id the guest may have (the host is 2; 0, 1 and
 * -1 are reserved), one per VM, and a socket path that fits sun_path with
 * room for "_P" and is no other VM's.
 */
static void check_vsock(struct checker *c)
{
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN];
        for (size_t v = 0; v < ward_sysc_upto(d->nvms, WARD_SYS_MAX_VMS); v++) {
                const struct ward_sys_vm *vm = &d->vms[v];
                const struct ward_sys_vsock *s = &vm->vsock;
                if (!s->set)
                        continue;
                if (c->f->target == WARD_SYS_TARGET_SEL4)
                        cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/vsock"),
                             "vsock connects a guest to the host's unix sockets: ward system up "
                             "only");
                if (s->cid_set)
                        ward_sysc_int_range(c, ward_sysc_kpath(p, "/vms", vm->name, "/vsock/cid"),
                                            s->cid, 3, 0xfffffffell);
                if (s->path && (!*s->path || strlen(s->path) > WARD_SYS_MAX_VSOCK_PATH))
                        cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/vsock/path"),
                             "%zu bytes: a socket path has 1 to %d (the guest's ports add _P)",
                             strlen(s->path), WARD_SYS_MAX_VSOCK_PATH);
                for (size_t w = 0; w < v; w++) {
                        const struct ward_sys_vsock *o = &d->vms[w].vsock;
                        if (!o->set)
                                continue;
                        if (s->cid_set && o->cid_set && o->cid == s->cid)
                                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/vsock/cid"),
                                     "%lld is also the context id of VM %s", (long long)s->cid,
                                     d->vms[w].name);
                        if (s->path && o->path && strcmp(s->path, o->path) == 0)
                                cerr(c, ward_sysc_kpath(p, "/vms", vm->name, "/vsock/path"),
                                     "%s is also the socket of VM %s", s->path, d->vms[w].name);
                }
        }
}

void ward_sysc_networks(struct checker *c)
{
        check_vsock(c);
        const struct ward_sys_desc *d = c->d;
        char p[PATH_LEN];
        if (d->nnetworks > WARD_SYS_MAX_NETWORKS)
                cerr(c, "/networks", "%zu networks, at most %d", d->nnetworks,
                     WARD_SYS_MAX_NETWORKS);
        for (size_t i = 0; i < ward_sysc_upto(d->nnetworks, WARD_SYS_MAX_NETWORKS); i++) {
                const struct ward_sys_network *n = &d->networks[i];
                if (n->name) {
                        ward_sysc_ipath(p, "/networks/%zu/name", i);
                        ward_sysc_name(c, p, n->name);
                        for (size_t j = 0; j < i; j++)
                                if (d->networks[j].name &&
                                    strcmp(d->networks[j].name, n->name) == 0) {
                                        cerr(c, p, "\"%s\" is also the name of /networks/%zu",
                                             n->name, j);
                                        break;
                                }
                }
                if (n->ports && n->nports == 0)
                        cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports", i),
                             "no ports (a network needs at least one)");
                if (n->nports > WARD_SYS_MAX_NET_PORTS) {
                        cerr(c, ward_sysc_ipath(p, "/networks/%zu/ports", i),
                             "%zu ports, at most %d", n->nports, WARD_SYS_MAX_NET_PORTS);
                        continue;
                }
                for (size_t j = 0; j < n->nports; j++)
                        check_port(c, i, j);
        }
        check_nics_per_vm(c);
}
