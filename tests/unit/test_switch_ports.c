/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A switch's ports (src/net/switch_ports.c), the loop body of the Linux
 * switch process and the seL4 switch PD: three VMs' NICs on real net
 * ports. Floods and learned unicast reach the right ports whole; a port
 * with no room drops its copy (counted) while the others get theirs; a
 * port whose VMM breaks the framing is left out, once, and the rest go on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/net/switch_ports.h"

#define RING WARD_NET_PORT_MIN_RING
#define N 3

struct ctx {
        struct ward_switch_ports s;
        struct ward_net_port vm[N]; /* each VMM's side */
        uint8_t *mem[N];
        unsigned deads, last_dead;
        uint8_t buf[WARD_NET_PORT_MAX_FRAME];
};

static void nothing(void *o)
{
        (void)o;
}

static void on_dead(void *o, unsigned i)
{
        struct ctx *x = o;
        x->deads++;
        x->last_dead = i;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        struct ward_vswitch_port_config cfg[N];
        memset(cfg, 0, sizeof(cfg));
        for (unsigned i = 0; i < N; i++) {
                cfg[i].mac[0] = 2;
                cfg[i].mac[5] = (uint8_t)(0xa + i);
                cfg[i].reach = ((1u << N) - 1) & ~(1u << i);
        }
        assert_int_equal(ward_vswitch_init(&x->s.vs, cfg, N, 0), WARD_OK);
        size_t bytes = ward_net_port_region_bytes(RING);
        struct ward_port_notify n = {nothing, NULL};
        for (unsigned i = 0; i < N; i++) {
                x->mem[i] = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
                assert_int_equal(ward_net_port_format(x->mem[i], bytes, RING), WARD_OK);
                assert_int_equal(
                    ward_net_port_init(&x->s.port[i], x->mem[i], bytes, RING, WARD_PORT_SERVER, &n),
                    WARD_OK);
                assert_int_equal(
                    ward_net_port_init(&x->vm[i], x->mem[i], bytes, RING, WARD_PORT_CLIENT, &n),
                    WARD_OK);
        }
        x->s.on_dead = on_dead;
        x->s.ctx = x;
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        for (unsigned i = 0; i < N; i++)
                free(x->mem[i]);
        free(x);
        return 0;
}

/* A frame from VM `from` to dst (the last byte of 02:00:00:00:00:XX; 0xff: broadcast). */
static void vm_sends(struct ctx *x, unsigned from, uint8_t dst, uint32_t len)
{
        static uint8_t f[WARD_NET_PORT_MAX_FRAME];
        memset(f, (int)(0x40 + from), len);
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        if (dst == 0xff) {
                memcpy(f, bcast, 6);
        } else {
                memset(f, 0, 6);
                f[0] = 2;
                f[5] = dst;
        }
        memset(f + 6, 0, 6);
        f[6] = 2;
        f[11] = (uint8_t)(0xa + from);
        f[12] = 0x08;
        f[13] = 0x00;
        struct ward_iov iov = {f, len};
        assert_int_equal(ward_net_port_send(&x->vm[from], &iov, 1, len), 1);
}

static int vm_got(struct ctx *x, unsigned i)
{
        return ward_net_port_recv(&x->vm[i], x->buf, sizeof(x->buf));
}

static void flood_then_learned_unicast(void **state)
{
        struct ctx *x = *state;
        vm_sends(x, 0, 0xff, 100);
        ward_switch_ports_drain(&x->s, 1);
        assert_int_equal(vm_got(x, 1), 100);
        assert_int_equal(x->buf[20], 0x40);
        assert_int_equal(vm_got(x, 2), 100);
        assert_int_equal(vm_got(x, 0), 0); /* never back to its sender */
        /* vm_b answers vm_a: learned, so only vm_a gets it. */
        vm_sends(x, 1, 0x0a, 200);
        ward_switch_ports_drain(&x->s, 2);
        assert_int_equal(vm_got(x, 0), 200);
        assert_int_equal(x->buf[20], 0x41);
        assert_int_equal(vm_got(x, 2), 0);
        assert_int_equal(x->s.vs.stats[0].rx_frames, 1);
        assert_int_equal(x->s.vs.stats[0].tx_frames, 1);
        assert_int_equal(x->s.vs.stats[2].tx_frames, 1);
}

/* vm_c reads nothing: its ring fills, its copies drop, and vm_b still gets every frame. */
static void a_full_port_drops_only_its_copy(void **state)
{
        struct ctx *x = *state;
        int sent = 0;
        for (int k = 0; k < 8; k++) {
                vm_sends(x, 0, 0xff, 30000);
                ward_switch_ports_drain(&x->s, 1);
                sent++;
                while (vm_got(x, 1) > 0) /* vm_b keeps up */
                        ;
        }
        assert_int_equal(x->s.vs.stats[1].tx_frames, (uint64_t)sent);
        assert_true(x->s.vs.stats[2].drops[WARD_VSW_DROP_NO_ROOM] > 0);
        assert_int_equal(x->s.vs.stats[2].tx_frames + x->s.vs.stats[2].drops[WARD_VSW_DROP_NO_ROOM],
                         (uint64_t)sent);
}

/* vm_b's VMM writes a length no frame has: its port is left out once; vm_a and vm_c go on. */
static void a_broken_port_is_left_out(void **state)
{
        struct ctx *x = *state;
        uint8_t raw[18] = {0xff, 0xff, 0xff, 0x7f};
        assert_true(ward_ring_push_n(&x->vm[1].out, raw, sizeof(raw)) >= 0);
        vm_sends(x, 0, 0xff, 80);
        ward_switch_ports_drain(&x->s, 1);
        assert_int_equal(x->deads, 1);
        assert_int_equal(x->last_dead, 1);
        assert_true(x->s.dead[1]);
        assert_int_equal(vm_got(x, 2), 80);
        assert_int_equal(vm_got(x, 1), 80); /* sent before its break was found */
        vm_sends(x, 0, 0xff, 81);
        ward_switch_ports_drain(&x->s, 2);
        assert_int_equal(vm_got(x, 2), 81);
        assert_int_equal(vm_got(x, 1), 0); /* nothing more goes to it */
        vm_sends(x, 2, 0x0a, 90);
        ward_switch_ports_drain(&x->s, 2);
        assert_int_equal(vm_got(x, 0), 90);
        assert_int_equal(x->deads, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(flood_then_learned_unicast, setup, teardown),
            cmocka_unit_test_setup_teardown(a_full_port_drops_only_its_copy, setup, teardown),
            cmocka_unit_test_setup_teardown(a_broken_port_is_left_out, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
