/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A switch's ports and the moving of frames between them: the one loop
 * body of every switch (the Linux switch process, the seL4 switch PD),
 * which only attach the ports, wait for notifications and read a clock.
 *
 * Each port is the server side of a network port (ward/port/port_net.h)
 * whose client is a VMM's NIC. A frame is taken from a port whole, the
 * table (ward/net/vswitch.h) says where it goes, and it is written whole
 * to each of those ports that has room; one without room drops it
 * (counted as no_room): a switch never waits on one VM for another.
 * A VMM that breaks its port's framing has its port left out from then
 * on; the others go on.
 */
#ifndef WARD_NET_SWITCH_PORTS_H
#define WARD_NET_SWITCH_PORTS_H

#include "ward/net/vswitch.h"
#include "ward/port/port_net.h"

#define WARD_SWITCH_BATCH 64 /* frames from one port before the next port's turn */

struct ward_switch_ports {
        struct ward_vswitch vs;
        struct ward_net_port port[WARD_VSWITCH_MAX_PORTS]; /* attached by the runner */
        bool dead[WARD_VSWITCH_MAX_PORTS];
        /* Told once when port i is left out; may be NULL. */
        void (*on_dead)(void *ctx, unsigned i);
        void *ctx;
        uint8_t frame[WARD_NET_PORT_MAX_FRAME];
};

/* Moves up to WARD_SWITCH_BATCH frames from port i at now_ms; true when there may be more. */
bool ward_switch_ports_forward(struct ward_switch_ports *s, unsigned i, uint64_t now_ms);
/* Leaves port i out from now on (its VMM is gone); on_dead is told once. */
void ward_switch_ports_leave_out(struct ward_switch_ports *s, unsigned i);
/* Moves frames from every live port, in turns, until none has any. */
void ward_switch_ports_drain(struct ward_switch_ports *s, uint64_t now_ms);

#endif
