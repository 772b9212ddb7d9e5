/* SPDX-License-Identifier: BSD-2-Clause */
/* A switch's ports; see include/ward/net/switch_ports.h. */
#include "ward/net/switch_ports.h"

void ward_switch_ports_leave_out(struct ward_switch_ports *s, unsigned i)
{
        if (s->dead[i])
                return;
        s->dead[i] = true;
        ward_vswitch_forget_port(&s->vs, i);
        if (s->on_dead)
                s->on_dead(s->ctx, i);
}

bool ward_switch_ports_forward(struct ward_switch_ports *s, unsigned i, uint64_t now_ms)
{
        if (i >= s->vs.nports || s->dead[i])
                return false;
        for (unsigned k = 0; k < WARD_SWITCH_BATCH; k++) {
                int len = ward_net_port_recv(&s->port[i], s->frame, sizeof(s->frame));
                if (len == WARD_EBROKEN) {
                        ward_switch_ports_leave_out(s, i);
                        return false;
                }
                if (len <= 0)
                        return false;
                uint32_t to = ward_vswitch_route(&s->vs, i, s->frame, (uint32_t)len, now_ms);
                struct ward_iov iov = {s->frame, (uint32_t)len};
                for (unsigned o = 0; to && o < s->vs.nports; o++) {
                        if (!(to & (1u << o)) || s->dead[o])
                                continue;
                        int rc = ward_net_port_send(&s->port[o], &iov, 1, (uint32_t)len);
                        if (rc == WARD_EBROKEN)
                                ward_switch_ports_leave_out(s, o);
                        ward_vswitch_sent(&s->vs, o, (uint32_t)len, rc == 1);
                }
        }
        return true;
}

void ward_switch_ports_drain(struct ward_switch_ports *s, uint64_t now_ms)
{
        bool more = true;
        while (more) {
                more = false;
                for (unsigned i = 0; i < s->vs.nports; i++)
                        more |= ward_switch_ports_forward(s, i, now_ms);
        }
}
