/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The inter-VM virtual switch's decisions: where a frame goes, or why it
 * does not. Freestanding, one implementation for every host: the Linux
 * switch process and the seL4 switch PD only move frames between their
 * ports and this table.
 *
 *  - learns which port each source MAC is behind (per VLAN) and forgets it
 *    after age_ms without a frame from it;
 *  - floods broadcast, multicast and unknown unicast to every other port
 *    of the frame's VLAN that the sender may reach;
 *  - refuses a frame whose source MAC is not the port's configured MAC
 *    (anti-spoofing; a port with no MAC configured is not checked);
 *  - applies an allow-list: a port sends only to the ports in its `reach`;
 *  - puts each port on an access VLAN (802.1Q id; 0: the untagged LAN of
 *    all ports without one): frames stay within their VLAN, and a tagged
 *    frame from an access port is refused;
 *  - limits each port's ingress with token buckets (bytes and frames a
 *    second, a second's worth of burst);
 *  - counts per port frames and bytes both ways and drops by reason.
 *
 * Every frame comes from a guest and is hostile: only its first 16 bytes
 * are read (destination, source, type, a VLAN tag), after a length check.
 */
#ifndef WARD_NET_VSWITCH_H
#define WARD_NET_VSWITCH_H

#include "ward/util/util.h"

#define WARD_VSWITCH_MAX_PORTS 16
#define WARD_VSWITCH_TABLE 256 /* learned addresses, all ports together */
#define WARD_VSWITCH_AGE_MS 300000ull
#define WARD_VSWITCH_ETH_HDR 14
#define WARD_VSWITCH_MAX_VLAN 4094

enum ward_vswitch_drop {
        WARD_VSW_DROP_MALFORMED, /* shorter than an Ethernet header */
        WARD_VSW_DROP_SPOOFED,   /* the source MAC is not the port's */
        WARD_VSW_DROP_TAGGED,    /* an 802.1Q tag from an access port */
        WARD_VSW_DROP_RATE,      /* over the port's rate limit */
        WARD_VSW_DROP_ACL,       /* the destination is not in the sender's reach */
        WARD_VSW_DROP_NO_ROOM,   /* the destination port could not take it now */
        WARD_VSW_DROP_KINDS,
};

/* The names of the drop reasons, by value: "malformed", "spoofed", ... */
extern const char *const ward_vswitch_drop_names[WARD_VSW_DROP_KINDS];

struct ward_vswitch_port_config {
        uint8_t mac[6];       /* all zero: not checked */
        uint16_t vlan;        /* 1..4094 an access VLAN; 0 none */
        uint32_t reach;       /* ports it may send to, bit per port */
        uint64_t rate_bytes;  /* a second; 0: no limit */
        uint64_t rate_frames; /* a second; 0: no limit */
};

struct ward_vswitch_port_stats {
        uint64_t rx_frames, rx_bytes; /* from the port's VM, accepted */
        uint64_t tx_frames, tx_bytes; /* to the port's VM */
        uint64_t drops[WARD_VSW_DROP_KINDS];
};

struct ward_vswitch_bucket {
        uint64_t bytes, frames; /* tokens, in thousandths */
        uint64_t last_ms;
        bool primed;
};

struct ward_vswitch_entry {
        uint8_t mac[6];
        uint16_t vlan;
        uint8_t port;
        bool used;
        uint64_t seen_ms;
};

struct ward_vswitch {
        unsigned nports;
        uint64_t age_ms;
        struct ward_vswitch_port_config port[WARD_VSWITCH_MAX_PORTS];
        struct ward_vswitch_port_stats stats[WARD_VSWITCH_MAX_PORTS];
        struct ward_vswitch_bucket bucket[WARD_VSWITCH_MAX_PORTS];
        struct ward_vswitch_entry table[WARD_VSWITCH_TABLE];
};

/*
 * Sets the switch up for n ports (1..WARD_VSWITCH_MAX_PORTS); age_ms 0
 * means WARD_VSWITCH_AGE_MS. A port's reach never includes itself.
 * WARD_EINVAL for a bad count or VLAN.
 */
int ward_vswitch_init(struct ward_vswitch *sw, const struct ward_vswitch_port_config *ports,
                      unsigned n, uint64_t age_ms);
/*
 * A frame of len bytes came in on port `in` at now_ms: learns its source
 * and returns the ports to send it to (a bit each; never `in`), or 0 when
 * it goes nowhere (a drop is counted; a frame for its own port is not).
 */
uint32_t ward_vswitch_route(struct ward_vswitch *sw, unsigned in, const uint8_t *frame,
                            uint32_t len, uint64_t now_ms);
/* The caller sent (ok) or could not send a frame of len bytes to port out. */
void ward_vswitch_sent(struct ward_vswitch *sw, unsigned out, uint32_t len, bool ok);
/* Forgets what was learned on port p (its VM restarted or its link went down). */
void ward_vswitch_forget_port(struct ward_vswitch *sw, unsigned p);

#endif
