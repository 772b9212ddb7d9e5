/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward run --net`: one NIC per option.
 *   --net user[,hostfwd=tcp|udp:[ADDR]:HOST-:GUEST]...[,mac=MAC]
 *   --net tap=NAME[,mac=MAC]
 * hostfwd is spelt as QEMU's user networking spells it.
 */
#include "ward/cli/run_config.h"
#include "ward/desc/system_desc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX 1024

static int parse_port(const char *s, size_t n, uint16_t *out)
{
        if (n == 0 || n > 5)
                return -1;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -1;
        *out = (uint16_t)v;
        return 0;
}

/* An IPv4 address in dotted decimal, nothing else (passt binds it). */
static bool is_ipv4(const char *s, size_t n)
{
        unsigned parts = 0, digits = 0, value = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        if (digits == 0 || value > 255)
                                return false;
                        parts++;
                        digits = value = 0;
                } else if (s[i] >= '0' && s[i] <= '9' && digits < 3) {
                        value = value * 10 + (unsigned)(s[i] - '0');
                        digits++;
                } else {
                        return false;
                }
        }
        return parts == 4;
}

/* tcp|udp:[ADDR]:HOST-[:]GUEST, as QEMU's hostfwd (the guest address must be empty). */
static int parse_fwd(struct ward_net_config *nc, const char *v, char *err, size_t errlen)
{
        if (nc->nfwd == WARD_MAX_NET_FWDS) {
                snprintf(err, errlen, "--net: at most %d hostfwd= per NIC", WARD_MAX_NET_FWDS);
                return -1;
        }
        struct ward_net_fwd *f = &nc->fwd[nc->nfwd];
        memset(f, 0, sizeof(*f));
        const char *p = v;
        if (strncmp(p, "tcp:", 4) == 0) {
                p += 4;
        } else if (strncmp(p, "udp:", 4) == 0) {
                f->udp = true;
                p += 4;
        } else {
                snprintf(err, errlen,
                         "--net: hostfwd=%s: expected tcp: or udp: first (hostfwd=tcp::8022-:22)",
                         v);
                return -1;
        }
        const char *colon = strchr(p, ':');
        const char *dash = colon ? strchr(colon, '-') : NULL;
        if (!colon || !dash) {
                snprintf(err, errlen,
                         "--net: hostfwd=%s: expected PROTO:[ADDR]:HOSTPORT-:GUESTPORT "
                         "(hostfwd=tcp::8022-:22)",
                         v);
                return -1;
        }
        size_t alen = (size_t)(colon - p);
        if (alen && (alen >= sizeof(f->addr) || !is_ipv4(p, alen))) {
                snprintf(err, errlen, "--net: hostfwd=%s: '%.*s' is not an IPv4 address", v,
                         (int)(alen < 64 ? alen : 64), p);
                return -1;
        }
        memcpy(f->addr, p, alen);
        f->addr[alen] = '\0';
        const char *guest = dash + 1;
        if (*guest == ':')
                guest++;
        else if (strchr(guest, ':')) {
                snprintf(err, errlen,
                         "--net: hostfwd=%s: a guest address cannot be given (passt forwards to "
                         "the guest's one address)",
                         v);
                return -1;
        }
        if (parse_port(colon + 1, (size_t)(dash - colon - 1), &f->host) ||
            parse_port(guest, strlen(guest), &f->guest)) {
                snprintf(err, errlen, "--net: hostfwd=%s: ports are 1 to 65535", v);
                return -1;
        }
        for (unsigned i = 0; i < nc->nfwd; i++)
                if (nc->fwd[i].udp == f->udp && nc->fwd[i].host == f->host) {
                        snprintf(err, errlen, "--net: hostfwd=%s: host port %u is forwarded twice",
                                 v, f->host);
                        return -1;
                }
        nc->nfwd++;
        return 0;
}

static int parse_mac(uint8_t mac[6], const char *v, char *err, size_t errlen)
{
        if (ward_sys_parse_mac(v, mac))
                return 0;
        /* Refused: a group address (well-formed with the group bit clear), or no MAC at all. */
        char even[18];
        uint8_t any[6];
        bool group = false;
        if (strlen(v) == 17) {
                memcpy(even, v, sizeof(even));
                static const char hex[] = "0123456789abcdef";
                const char *d = strchr(hex, even[1] | 0x20);
                if (d && *d) {
                        even[1] = hex[(d - hex) & ~1];
                        group = ward_sys_parse_mac(even, any);
                }
        }
        if (group)
                snprintf(err, errlen, "--net: mac=%s: a multicast address cannot be a NIC's", v);
        else
                snprintf(err, errlen, "--net: mac=%s: expected six hex bytes (52:54:00:12:34:56)",
                         v);
        return -1;
}

static int parse_option(struct ward_net_config *nc, char *opt, char *err, size_t errlen)
{
        char *eq = strchr(opt, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq)
                *eq = '\0';
        if (strcmp(opt, "mac") == 0 && eq)
                return parse_mac(nc->mac, val, err, errlen);
        if (strcmp(opt, "hostfwd") == 0 && eq) {
                if (nc->kind != WARD_NET_USER) {
                        snprintf(err, errlen, "--net: hostfwd= is for --net user only");
                        return -1;
                }
                return parse_fwd(nc, val, err, errlen);
        }
        snprintf(err, errlen, "--net: unknown option '%s%s%s' (expected mac= or hostfwd=)", opt,
                 eq ? "=" : "", val);
        return -1;
}

int ward_cli_parse_net(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        if (cfg->nnets == WARD_MAX_NETS) {
                snprintf(err, errlen, "--net %s: at most %d NICs", arg, WARD_MAX_NETS);
                return -1;
        }
        char spec[SPEC_MAX];
        if (strlen(arg) >= sizeof(spec)) {
                snprintf(err, errlen, "--net: the option is too long");
                return -1;
        }
        strcpy(spec, arg);
        struct ward_net_config nc;
        memset(&nc, 0, sizeof(nc));
        ward_net_default_mac(cfg->nnets, nc.mac);
        char *save = NULL;
        char *first = strtok_r(spec, ",", &save);
        if (first && strcmp(first, "user") == 0) {
                nc.kind = WARD_NET_USER;
        } else if (first && strncmp(first, "tap=", 4) == 0) {
                nc.kind = WARD_NET_TAP;
                const char *name = first + 4;
                size_t n = strlen(name);
                if (n == 0 || n >= sizeof(nc.tap) || strchr(name, '/')) {
                        snprintf(err, errlen,
                                 "--net %s: a tap interface's name is 1 to 15 characters, no '/'",
                                 arg);
                        return -1;
                }
                memcpy(nc.tap, name, n + 1);
        } else {
                snprintf(err, errlen, "--net %s: expected user or tap=NAME first", arg);
                return -1;
        }
        for (char *o; (o = strtok_r(NULL, ",", &save));)
                if (parse_option(&nc, o, err, errlen))
                        return -1;
        for (unsigned i = 0; i < cfg->nnets; i++)
                if (memcmp(cfg->nets[i].mac, nc.mac, 6) == 0) {
                        snprintf(err, errlen, "--net %s: NIC %u has the same MAC", arg, i);
                        return -1;
                }
        cfg->nets[cfg->nnets++] = nc;
        return 0;
}

int ward_cli_parse_vsock(struct ward_vm_config *cfg, const char *arg, char *err, size_t errlen)
{
        const char *comma = strchr(arg, ',');
        char *end;
        errno = 0;
        unsigned long long cid = comma ? strtoull(arg, &end, 10) : 0;
        if (!comma || errno || end != comma || arg[0] < '0' || arg[0] > '9' || cid < 3 ||
            cid >= 0xffffffffull) {
                snprintf(err, errlen,
                         "--vsock %s: expected CID,PATH with a CID from 3 to 4294967294 "
                         "(--vsock 3,/tmp/vm.vsock)",
                         arg);
                return -1;
        }
        const char *path = comma + 1;
        /* PATH_P must fit a unix socket address: PATH, "_" and ten digits. */
        if (!*path || strlen(path) > WARD_VSOCK_MAX_PATH) {
                snprintf(err, errlen, "--vsock %s: the path is empty or longer than %d bytes", arg,
                         WARD_VSOCK_MAX_PATH);
                return -1;
        }
        if (cfg->vsock.cid) {
                snprintf(err, errlen, "--vsock %s: one vsock device per VM", arg);
                return -1;
        }
        cfg->vsock.cid = cid;
        snprintf(cfg->vsock.path, sizeof(cfg->vsock.path), "%s", path);
        return 0;
}
