/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtual switch's table and decisions; see include/ward/net/vswitch.h. */
#include "ward/net/vswitch.h"

#define ETH_P_8021Q 0x8100u

const char *const ward_vswitch_drop_names[WARD_VSW_DROP_KINDS] = {
    "malformed", "spoofed", "tagged", "rate", "acl", "no_room",
};

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
        return memcmp(a, b, 6) == 0;
}

static bool mac_zero(const uint8_t *m)
{
        static const uint8_t zero[6];
        return mac_eq(m, zero);
}

int ward_vswitch_init(struct ward_vswitch *sw, const struct ward_vswitch_port_config *ports,
                      unsigned n, uint64_t age_ms)
{
        memset(sw, 0, sizeof(*sw));
        if (n == 0 || n > WARD_VSWITCH_MAX_PORTS)
                return WARD_EINVAL;
        for (unsigned i = 0; i < n; i++) {
                if (ports[i].vlan > WARD_VSWITCH_MAX_VLAN)
                        return WARD_EINVAL;
                sw->port[i] = ports[i];
                uint32_t all = (1u << n) - 1u;
                sw->port[i].reach &= all & ~(1u << i);
        }
        sw->nports = n;
        sw->age_ms = age_ms ? age_ms : WARD_VSWITCH_AGE_MS;
        return WARD_OK;
}

/* ---- the address table ---- */

static bool fresh(const struct ward_vswitch *sw, const struct ward_vswitch_entry *e, uint64_t now)
{
        return e->used && now - e->seen_ms < sw->age_ms;
}

static struct ward_vswitch_entry *lookup(struct ward_vswitch *sw, const uint8_t *mac, uint16_t vlan,
                                         uint64_t now)
{
        for (unsigned i = 0; i < WARD_VSWITCH_TABLE; i++) {
                struct ward_vswitch_entry *e = &sw->table[i];
                if (e->used && e->vlan == vlan && mac_eq(e->mac, mac)) {
                        if (fresh(sw, e, now))
                                return e;
                        e->used = false; /* aged out */
                        return NULL;
                }
        }
        return NULL;
}

/* Records that mac (on vlan) is behind port; a full table gives up its stalest entry. */
static void learn(struct ward_vswitch *sw, const uint8_t *mac, uint16_t vlan, unsigned port,
                  uint64_t now)
{
        struct ward_vswitch_entry *slot = NULL, *stalest = &sw->table[0];
        for (unsigned i = 0; i < WARD_VSWITCH_TABLE; i++) {
                struct ward_vswitch_entry *e = &sw->table[i];
                if (e->used && e->vlan == vlan && mac_eq(e->mac, mac)) {
                        slot = e;
                        break;
                }
                if (!slot && !fresh(sw, e, now))
                        slot = e;
                if (e->seen_ms < stalest->seen_ms)
                        stalest = e;
        }
        if (!slot)
                slot = stalest;
        memcpy(slot->mac, mac, 6);
        slot->vlan = vlan;
        slot->port = (uint8_t)port;
        slot->used = true;
        slot->seen_ms = now;
}

void ward_vswitch_forget_port(struct ward_vswitch *sw, unsigned p)
{
        for (unsigned i = 0; i < WARD_VSWITCH_TABLE; i++)
                if (sw->table[i].port == p)
                        sw->table[i].used = false;
}

/* ---- rate limits ---- */

/* Takes one frame of len bytes from port p's buckets; false when over its limit. */
static bool within_rate(struct ward_vswitch *sw, unsigned p, uint32_t len, uint64_t now)
{
        const struct ward_vswitch_port_config *c = &sw->port[p];
        struct ward_vswitch_bucket *b = &sw->bucket[p];
        if (!c->rate_bytes && !c->rate_frames)
                return true;
        /* Full buckets at first; refilled by the time since, at most a second's worth. */
        uint64_t cap_b = c->rate_bytes * 1000, cap_f = c->rate_frames * 1000;
        if (!b->primed) {
                b->bytes = cap_b;
                b->frames = cap_f;
                b->primed = true;
        } else if (now > b->last_ms) {
                uint64_t dt = WARD_MIN(now - b->last_ms, 1000u);
                b->bytes = WARD_MIN(b->bytes + dt * c->rate_bytes, cap_b);
                b->frames = WARD_MIN(b->frames + dt * c->rate_frames, cap_f);
        }
        b->last_ms = now;
        uint64_t cost_b = (uint64_t)len * 1000, cost_f = 1000;
        if ((c->rate_bytes && b->bytes < cost_b) || (c->rate_frames && b->frames < cost_f))
                return false;
        if (c->rate_bytes)
                b->bytes -= cost_b;
        if (c->rate_frames)
                b->frames -= cost_f;
        return true;
}

/* ---- a frame ---- */

static uint32_t drop(struct ward_vswitch *sw, unsigned in, enum ward_vswitch_drop why)
{
        sw->stats[in].drops[why]++;
        return 0;
}

/* The ports on `in`'s VLAN that `in` may reach. */
static uint32_t flood_set(const struct ward_vswitch *sw, unsigned in)
{
        uint32_t set = 0;
        for (unsigned p = 0; p < sw->nports; p++)
                if (p != in && sw->port[p].vlan == sw->port[in].vlan)
                        set |= 1u << p;
        return set & sw->port[in].reach;
}

uint32_t ward_vswitch_route(struct ward_vswitch *sw, unsigned in, const uint8_t *frame,
                            uint32_t len, uint64_t now_ms)
{
        if (in >= sw->nports)
                return 0;
        const struct ward_vswitch_port_config *c = &sw->port[in];
        if (len < WARD_VSWITCH_ETH_HDR)
                return drop(sw, in, WARD_VSW_DROP_MALFORMED);
        const uint8_t *dst = frame, *src = frame + 6;
        uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
        if (src[0] & 1)
                return drop(sw, in, WARD_VSW_DROP_MALFORMED); /* no station sends from a group */
        if (!mac_zero(c->mac) && !mac_eq(src, c->mac))
                return drop(sw, in, WARD_VSW_DROP_SPOOFED);
        if (c->vlan && type == ETH_P_8021Q)
                return drop(sw, in, WARD_VSW_DROP_TAGGED);
        if (!within_rate(sw, in, len, now_ms))
                return drop(sw, in, WARD_VSW_DROP_RATE);
        sw->stats[in].rx_frames++;
        sw->stats[in].rx_bytes += len;
        learn(sw, src, c->vlan, in, now_ms);

        if (dst[0] & 1)
                return flood_set(sw, in); /* broadcast and multicast */
        const struct ward_vswitch_entry *e = lookup(sw, dst, c->vlan, now_ms);
        if (!e)
                return flood_set(sw, in); /* unknown unicast */
        if (e->port == in)
                return 0; /* for its own port: nothing to do, nothing wrong */
        if (!(c->reach & (1u << e->port)))
                return drop(sw, in, WARD_VSW_DROP_ACL);
        return 1u << e->port;
}

void ward_vswitch_sent(struct ward_vswitch *sw, unsigned out, uint32_t len, bool ok)
{
        if (out >= sw->nports)
                return;
        if (!ok) {
                sw->stats[out].drops[WARD_VSW_DROP_NO_ROOM]++;
                return;
        }
        sw->stats[out].tx_frames++;
        sw->stats[out].tx_bytes += len;
}
