/* SPDX-License-Identifier: BSD-2-Clause */
/* A virtio-net device's side of a network port; see include/ward/port/port_net.h. */
#include "ward/port/port_net.h"

static void down(struct ward_net_port_client *c)
{
        if (c->down)
                return;
        c->down = true;
        c->held = false;
        c->rx_len = 0;
        if (c->on_down)
                c->on_down(c->ctx);
}

/* The guest's frame: into the port whole, or the device waits for the switch's room. */
static int client_send(void *opaque, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        struct ward_net_port_client *c = opaque;
        if (c->down)
                return WARD_EIO;
        int rc = ward_net_port_send(&c->port, iov, niov, len);
        if (rc == 1)
                return 0;
        if (rc == 0) {
                c->full = true; /* the switch's next notification means room */
                return WARD_EBUSY;
        }
        if (rc == WARD_EBROKEN) {
                down(c);
                return WARD_EIO;
        }
        return WARD_EINVAL;
}

/* The held frame first, then what the switch sent, until the guest has no buffer. */
static void deliver(struct ward_net_port_client *c)
{
        while (!c->down && c->dev) {
                if (!c->rx_len) {
                        int n = ward_net_port_recv(&c->port, c->rx, sizeof(c->rx));
                        if (n == WARD_EBROKEN) {
                                down(c);
                                return;
                        }
                        if (n <= 0)
                                return;
                        c->rx_len = (uint32_t)n;
                }
                int rc = ward_vnet_receive(c->dev, c->rx, c->rx_len);
                if (rc == 0) {
                        c->held = true;
                        return;
                }
                if (rc < 0)
                        c->rx_dropped++;
                c->rx_len = 0;
        }
}

static void client_rx_ready(void *opaque)
{
        struct ward_net_port_client *c = opaque;
        c->held = false;
        deliver(c);
}

struct ward_net_backend ward_net_port_client_backend(struct ward_net_port_client *c)
{
        return (struct ward_net_backend){
            .send = client_send,
            .rx_ready = client_rx_ready,
            .opaque = c,
        };
}

void ward_net_port_client_poll(struct ward_net_port_client *c)
{
        if (!c->held)
                deliver(c);
        if (c->full && !c->down) {
                c->full = false;
                if (c->dev)
                        ward_vnet_tx_resume(c->dev);
        }
}
