/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtual switch's decisions, table-driven: learning, ageing,
 * flooding, anti-spoofing, the allow-list, access VLANs, rate limits and
 * the counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/net/vswitch.h"

#define P(i) (1u << (i))
#define BCAST 0xff
#define ALL 0xffffffffu

/* Port i's MAC: 02:00:00:00:00:(i+1); a stranger's: 02:00:00:00:00:99. */
static void mac_of(unsigned i, uint8_t m[6])
{
        static const uint8_t base[6] = {2, 0, 0, 0, 0, 0};
        memcpy(m, base, 6);
        m[5] = (uint8_t)(i + 1);
}

/* A 60-byte frame from src to dst (port numbers; BCAST for broadcast, 99 unknown). */
static uint8_t *frame(unsigned dst, unsigned src, uint16_t type)
{
        static uint8_t f[60];
        memset(f, 0, sizeof(f));
        if (dst == BCAST)
                memset(f, 0xff, 6);
        else if (dst == 99)
                memcpy(f, (uint8_t[]){2, 0, 0, 0, 0, 0x99}, 6);
        else
                mac_of(dst, f);
        if (src == 99)
                memcpy(f + 6, (uint8_t[]){2, 0, 0, 0, 0, 0x99}, 6);
        else
                mac_of(src, f + 6);
        f[12] = (uint8_t)(type >> 8);
        f[13] = (uint8_t)type;
        return f;
}

static void setup_ports(struct ward_vswitch *sw, unsigned n, const uint16_t *vlans,
                        const uint32_t *reach)
{
        struct ward_vswitch_port_config c[WARD_VSWITCH_MAX_PORTS];
        memset(c, 0, sizeof(c));
        for (unsigned i = 0; i < n; i++) {
                mac_of(i, c[i].mac);
                c[i].vlan = vlans ? vlans[i] : 0;
                c[i].reach = reach ? reach[i] : ALL;
        }
        assert_int_equal(ward_vswitch_init(sw, c, n, 1000), WARD_OK);
}

/* One step: a frame from port `in` (source `src`, destination `dst`) at `t` ms. */
struct step {
        unsigned in, dst, src;
        uint64_t t;
        uint32_t want; /* ports it goes to */
        int drop;      /* the drop counter of `in` that rises, or -1 */
};

static void run(struct ward_vswitch *sw, const struct step *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t before[WARD_VSW_DROP_KINDS];
                memcpy(before, sw->stats[s[i].in].drops, sizeof(before));
                uint32_t got =
                    ward_vswitch_route(sw, s[i].in, frame(s[i].dst, s[i].src, 0x0800), 60, s[i].t);
                if (got != s[i].want)
                        fail_msg("step %zu: went to 0x%x, want 0x%x", i, got, s[i].want);
                for (int k = 0; k < WARD_VSW_DROP_KINDS; k++) {
                        uint64_t rise = sw->stats[s[i].in].drops[k] - before[k];
                        if (rise != (k == s[i].drop ? 1u : 0u))
                                fail_msg("step %zu: drop counter %s rose by %llu", i,
                                         ward_vswitch_drop_names[k], (unsigned long long)rise);
                }
        }
}

static void learning_flooding_and_ageing(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        setup_ports(&sw, 4, NULL, NULL);
        const struct step s[] = {
            /* 0 does not know 1 yet: flooded to everyone else. */
            {0, 1, 0, 0, P(1) | P(2) | P(3), -1},
            /* 1 answers: 0 was learned, so straight to it. */
            {1, 0, 1, 10, P(0), -1},
            /* And now 1 is known too. */
            {0, 1, 0, 20, P(1), -1},
            /* Broadcast floods, known or not. */
            {2, BCAST, 2, 30, P(0) | P(1) | P(3), -1},
            /* Unknown unicast floods. */
            {3, 99, 3, 40, P(0) | P(1) | P(2), -1},
            /* A frame for a MAC on its own port goes nowhere, and is no drop. */
            {0, 0, 0, 50, 0, -1},
            /* 1000 ms later 1 has aged out (0 was refreshed at 50): flooded again. */
            {0, 1, 0, 1011, P(1) | P(2) | P(3), -1},
        };
        run(&sw, s, sizeof(s) / sizeof(s[0]));
        assert_int_equal(sw.stats[0].rx_frames, 4);
        assert_int_equal(sw.stats[0].rx_bytes, 240);
}

static void anti_spoofing_and_malformed(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        setup_ports(&sw, 3, NULL, NULL);
        const struct step s[] = {
            /* Port 0 sends as port 1's MAC, then as a stranger. */
            {0, 2, 1, 0, 0, WARD_VSW_DROP_SPOOFED},
            {0, BCAST, 99, 0, 0, WARD_VSW_DROP_SPOOFED},
            /* Its own MAC passes. */
            {0, 2, 0, 0, P(1) | P(2), -1},
        };
        run(&sw, s, sizeof(s) / sizeof(s[0]));
        /* A spoofed source taught the switch nothing: 1 is still unknown. */
        assert_int_equal(ward_vswitch_route(&sw, 2, frame(1, 2, 0x0800), 60, 1), P(0) | P(1));
        /* Shorter than an Ethernet header; a group address as source. */
        assert_int_equal(ward_vswitch_route(&sw, 0, frame(1, 0, 0x0800), 13, 1), 0);
        uint8_t *f = frame(1, 0, 0x0800);
        f[6] |= 1;
        assert_int_equal(ward_vswitch_route(&sw, 0, f, 60, 1), 0);
        assert_int_equal(sw.stats[0].drops[WARD_VSW_DROP_MALFORMED], 2);
        /* A port with no MAC configured is not checked. */
        memset(sw.port[2].mac, 0, 6);
        assert_int_equal(ward_vswitch_route(&sw, 2, frame(BCAST, 99, 0x0800), 60, 2), P(0) | P(1));
}

static void allow_list(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        /* 0 and 1 may not reach each other; both reach 2, which reaches both. */
        const uint32_t reach[3] = {P(2), P(2), P(0) | P(1)};
        setup_ports(&sw, 3, NULL, reach);
        const struct step s[] = {
            /* Floods only go where the sender may reach. */
            {0, BCAST, 0, 0, P(2), -1},
            {1, BCAST, 1, 0, P(2), -1},
            {2, BCAST, 2, 0, P(0) | P(1), -1},
            /* 0 to 1, known: refused and counted. */
            {0, 1, 0, 1, 0, WARD_VSW_DROP_ACL},
            {1, 0, 1, 1, 0, WARD_VSW_DROP_ACL},
            /* Both reach 2, and 2 reaches both. */
            {0, 2, 0, 2, P(2), -1},
            {2, 1, 2, 2, P(1), -1},
        };
        run(&sw, s, sizeof(s) / sizeof(s[0]));
        /* An unknown destination from 0 floods to 2 only: never to 1. */
        assert_int_equal(ward_vswitch_route(&sw, 0, frame(99, 0, 0x0800), 60, 3), P(2));
}

static void vlans_keep_apart(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        const uint16_t vlans[4] = {10, 10, 20, 0};
        setup_ports(&sw, 4, vlans, NULL);
        const struct step s[] = {
            /* Broadcasts stay in their VLAN. */
            {0, BCAST, 0, 0, P(1), -1},
            {2, BCAST, 2, 0, 0, -1}, /* alone in VLAN 20: nowhere to go, nothing wrong */
            {3, BCAST, 3, 0, 0, -1}, /* alone on the untagged LAN */
            /* 2 knows 0's MAC only on VLAN 10: from VLAN 20 it is unknown. */
            {2, 0, 2, 1, 0, -1},
            {1, 0, 1, 1, P(0), -1},
        };
        run(&sw, s, sizeof(s) / sizeof(s[0]));
        /* A tagged frame from an access port is refused. */
        assert_int_equal(ward_vswitch_route(&sw, 0, frame(1, 0, 0x8100), 60, 2), 0);
        assert_int_equal(sw.stats[0].drops[WARD_VSW_DROP_TAGGED], 1);
        /* On the untagged LAN, a tag is just a type. */
        assert_int_equal(ward_vswitch_route(&sw, 3, frame(BCAST, 3, 0x8100), 60, 2), 0);
        assert_int_equal(sw.stats[3].drops[WARD_VSW_DROP_TAGGED], 0);
        /* A VLAN id past 4094 is refused at set-up. */
        struct ward_vswitch_port_config bad = {.vlan = 4095};
        assert_int_equal(ward_vswitch_init(&sw, &bad, 1, 0), WARD_EINVAL);
        assert_int_equal(ward_vswitch_init(&sw, &bad, 0, 0), WARD_EINVAL);
        assert_int_equal(ward_vswitch_init(&sw, &bad, WARD_VSWITCH_MAX_PORTS + 1, 0), WARD_EINVAL);
}

static void rate_limits(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        setup_ports(&sw, 2, NULL, NULL);
        sw.port[0].rate_frames = 10; /* ten frames a second */
        sw.port[1].rate_bytes = 600; /* ten 60-byte frames a second */
        for (unsigned p = 0; p < 2; p++) {
                unsigned passed = 0;
                /* 20 frames at once: a second's burst passes, the rest are refused. */
                for (int i = 0; i < 20; i++)
                        passed += ward_vswitch_route(&sw, p, frame(BCAST, p, 0x0800), 60, 100) != 0;
                assert_int_equal(passed, 10);
                assert_int_equal(sw.stats[p].drops[WARD_VSW_DROP_RATE], 10);
                /* 100 ms later, one more frame's worth has come back. */
                passed = 0;
                for (int i = 0; i < 5; i++)
                        passed += ward_vswitch_route(&sw, p, frame(BCAST, p, 0x0800), 60, 200) != 0;
                assert_int_equal(passed, 1);
                /* Long idle refills to a second's worth, no more. */
                passed = 0;
                for (int i = 0; i < 30; i++)
                        passed +=
                            ward_vswitch_route(&sw, p, frame(BCAST, p, 0x0800), 60, 100000) != 0;
                assert_int_equal(passed, 10);
        }
        /* Refused frames are not received frames. */
        assert_int_equal(sw.stats[0].rx_frames, 21);
}

static void counters_both_ways(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        setup_ports(&sw, 2, NULL, NULL);
        ward_vswitch_sent(&sw, 1, 60, true);
        ward_vswitch_sent(&sw, 1, 1500, true);
        ward_vswitch_sent(&sw, 1, 60, false);
        ward_vswitch_sent(&sw, 7, 60, true); /* no such port: ignored */
        assert_int_equal(sw.stats[1].tx_frames, 2);
        assert_int_equal(sw.stats[1].tx_bytes, 1560);
        assert_int_equal(sw.stats[1].drops[WARD_VSW_DROP_NO_ROOM], 1);
        assert_string_equal(ward_vswitch_drop_names[WARD_VSW_DROP_NO_ROOM], "no_room");
        /* A port that restarts is forgotten: frames for it flood again. */
        assert_int_equal(ward_vswitch_route(&sw, 1, frame(0, 1, 0x0800), 60, 0), P(0));
        assert_int_equal(ward_vswitch_route(&sw, 0, frame(1, 0, 0x0800), 60, 0), P(1));
        ward_vswitch_forget_port(&sw, 1);
        assert_int_equal(ward_vswitch_route(&sw, 0, frame(1, 0, 0x0800), 60, 1), P(1));
        /* Out-of-range ingress ports go nowhere. */
        assert_int_equal(ward_vswitch_route(&sw, 5, frame(1, 0, 0x0800), 60, 1), 0);
}

static void full_table_keeps_working(void **state)
{
        (void)state;
        static struct ward_vswitch sw;
        setup_ports(&sw, 2, NULL, NULL);
        memset(sw.port[0].mac, 0, 6); /* port 0 may use any source */
        /* 300 sources on port 0: more than the table holds. */
        for (unsigned i = 0; i < 300; i++) {
                uint8_t *f = frame(BCAST, 0, 0x0800);
                f[10] = (uint8_t)(i >> 8);
                f[11] = (uint8_t)i;
                assert_int_equal(ward_vswitch_route(&sw, 0, f, 60, i), P(1));
        }
        /* The newest is known; the oldest were given up. */
        uint8_t *f = frame(1, 1, 0x0800);
        f[4] = 1;
        f[5] = 299 & 0xff;
        memcpy(f + 6, sw.port[1].mac, 6);
        assert_int_equal(ward_vswitch_route(&sw, 1, f, 60, 300), P(0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(learning_flooding_and_ageing),
            cmocka_unit_test(anti_spoofing_and_malformed),
            cmocka_unit_test(allow_list),
            cmocka_unit_test(vlans_keep_apart),
            cmocka_unit_test(rate_limits),
            cmocka_unit_test(counters_both_ways),
            cmocka_unit_test(full_table_keeps_working),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
