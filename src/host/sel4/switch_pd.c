/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A network's switch as a seL4 Microkit protection domain: the same
 * table (src/net/vswitch.c) and the same port loop (src/net/switch_ports.c)
 * as the Linux switch process, over net ports the generator maps here
 * (port j at net_ports_vaddr + j * NET_PORT_BYTES) and channels (port j's
 * VMM on channel j). It can read and write only those ports: not a VM's
 * memory, not another network's.
 *
 * Built once per network, with the network's table compiled in by `ward
 * system sel4` (vms.mk: N_SWITCH, N_PORTS): SWITCH_NPORTS ports, the
 * initializer SWITCH_PORTS. Its priority is above the VMMs', so init()
 * formats every port before a VMM attaches to it.
 */
#include <microkit.h>
#include <stdint.h>

#include "guest_layout.h" /* NET_PORT_BYTES, NET_RING_BYTES */
#include "ward/net/switch_ports.h"

#ifndef SWITCH_NPORTS
#error "SWITCH_NPORTS and SWITCH_PORTS come from vms.mk (ward system sel4)"
#endif

uintptr_t net_ports_vaddr; /* setvar: port 0; the others follow */

static const struct ward_vswitch_port_config config[SWITCH_NPORTS] = SWITCH_PORTS;
static struct ward_switch_ports sw;

/* Milliseconds on the physical counter, which seL4 lets user level read
 * (the timer PD reads it too). */
static uint64_t now_ms(void)
{
        uint64_t ticks, hz;
        __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(ticks));
        __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
        return hz ? ticks / (hz / 1000 ? hz / 1000 : 1) : 0;
}

static void notify_port(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

static void left_out(void *ctx, unsigned i)
{
        (void)ctx, (void)i;
        microkit_dbg_puts("ward switch: a VMM broke its port's framing; it is left out\n");
}

void init(void)
{
        if (ward_vswitch_init(&sw.vs, config, SWITCH_NPORTS, 0)) {
                microkit_dbg_puts("ward switch: bad port configuration\n");
                return;
        }
        sw.on_dead = left_out;
        for (unsigned j = 0; j < SWITCH_NPORTS; j++) {
                void *mem = (void *)(net_ports_vaddr + j * NET_PORT_BYTES);
                struct ward_port_notify n = {notify_port, (void *)(uintptr_t)j};
                if (ward_net_port_format(mem, NET_PORT_BYTES, NET_RING_BYTES) ||
                    ward_net_port_init(&sw.port[j], mem, NET_PORT_BYTES, NET_RING_BYTES,
                                       WARD_PORT_SERVER, &n)) {
                        microkit_dbg_puts("ward switch: a port does not fit its region\n");
                        sw.dead[j] = true;
                }
        }
}

void notified(microkit_channel ch)
{
        (void)ch; /* frames from that port, or room: every port is looked at */
        ward_switch_ports_drain(&sw, now_ms());
}
