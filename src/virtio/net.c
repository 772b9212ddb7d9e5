/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/virtio/device.h"

#define Q_RX 0
#define Q_TX 1

#define F(bit) (1ull << (bit))
#define STATUS_LINK_UP 1

/* The header's fields, at their offsets in struct virtio_net_hdr_v1. */
struct hdr {
        uint8_t flags, gso_type;
        uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

static struct hdr hdr_decode(const uint8_t b[WARD_VNET_HDR_LEN])
{
        return (struct hdr){
            b[0], b[1], ward_le16(b + 2), ward_le16(b + 4), ward_le16(b + 6), ward_le16(b + 8)};
}

/* The offload feature a GSO type needs from whoever must segment it. */
static uint64_t gso_feature(uint8_t type, bool host)
{
        switch (type & ~WARD_VNET_GSO_ECN) {
        case WARD_VNET_GSO_TCPV4:
                return F(host ? WARD_VIRTIO_NET_F_HOST_TSO4 : WARD_VIRTIO_NET_F_GUEST_TSO4);
        case WARD_VNET_GSO_TCPV6:
                return F(host ? WARD_VIRTIO_NET_F_HOST_TSO6 : WARD_VIRTIO_NET_F_GUEST_TSO6);
        case WARD_VNET_GSO_UDP:
                return F(host ? WARD_VIRTIO_NET_F_HOST_UFO : WARD_VIRTIO_NET_F_GUEST_UFO);
        default:
                return 0; /* no such type */
        }
}

/*
 * Whether a header may go with a frame of len bytes, given the features
 * that must have been negotiated (host: guest to backend). Every field is
 * someone else's claim: a checksum position outside the frame or an
 * offload nobody agreed to fails the frame.
 */
static bool hdr_ok(const struct ward_vnet *n, const struct hdr *h, uint32_t len, bool host)
{
        const struct ward_virtio *v = &n->v;
        if (h->flags & ~(WARD_VNET_HDR_F_NEEDS_CSUM | WARD_VNET_HDR_F_DATA_VALID))
                return false;
        if (h->flags & WARD_VNET_HDR_F_NEEDS_CSUM) {
                unsigned csum = host ? WARD_VIRTIO_NET_F_CSUM : WARD_VIRTIO_NET_F_GUEST_CSUM;
                if (!ward_virtio_has_feature(v, csum) ||
                    (uint32_t)h->csum_start + h->csum_offset + 2u > len)
                        return false;
        }
        if (h->gso_type == WARD_VNET_GSO_NONE)
                return true;
        uint64_t need = gso_feature(h->gso_type, host);
        return need && (v->driver_features & need) == need && h->gso_size != 0 &&
               h->hdr_len <= len && (h->flags & WARD_VNET_HDR_F_NEEDS_CSUM);
}

/* ---- transmit: guest to backend ---- */

/* Checks one transmit chain and hands its frame on; false: the backend is busy. */
static bool transmit_one(struct ward_vnet *n, const struct ward_chain *c)
{
        uint8_t raw[WARD_VNET_HDR_LEN];
        uint32_t len = c->out_len;
        if (len < WARD_VNET_HDR_LEN + WARD_VNET_MIN_FRAME ||
            len > WARD_VNET_HDR_LEN + WARD_VNET_MAX_FRAME) {
                n->stats.tx_malformed++;
                return true;
        }
        ward_iov_read(c->iov, c->nout, 0, raw, sizeof(raw));
        struct hdr h = hdr_decode(raw);
        uint32_t frame = len - WARD_VNET_HDR_LEN;
        /* A backend without the header cannot honour an offload: the guest
         * was never offered one, so a header asking for it is a lie. */
        if (!hdr_ok(n, &h, frame, true) ||
            (!n->be.vnet_hdr &&
             (h.flags & WARD_VNET_HDR_F_NEEDS_CSUM || h.gso_type != WARD_VNET_GSO_NONE))) {
                n->stats.tx_malformed++;
                return true;
        }
        /* The iovs past the header (or all of them, header included). */
        uint32_t skip = n->be.vnet_hdr ? 0 : WARD_VNET_HDR_LEN;
        unsigned k = 0;
        for (unsigned i = 0; i < c->nout; i++) {
                const struct ward_iov *s = &c->iov[i];
                if (skip >= s->len) {
                        skip -= s->len;
                        continue;
                }
                n->tx_iov[k++] = (struct ward_iov){s->base + skip, s->len - skip};
                skip = 0;
        }
        uint32_t out = n->be.vnet_hdr ? len : frame;
        int rc = n->be.send(n->be.opaque, n->tx_iov, k, out);
        if (rc == WARD_EBUSY)
                return false;
        if (rc < 0) {
                n->stats.tx_dropped++;
                return true;
        }
        n->stats.tx_frames++;
        n->stats.tx_bytes += frame;
        return true;
}

static void transmit(struct ward_vnet *n)
{
        struct ward_virtio *v = &n->v;
        bool pushed = false;
        int rc;
        while (!n->tx_blocked && (rc = ward_vq_pop(&v->vq[Q_TX], v->gm, &n->chain)) != 0) {
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return;
                }
                if (rc == 1 && !transmit_one(n, &n->chain)) {
                        /* Busy: the chain stays the guest's, sent on resume. */
                        ward_vq_unpop(&v->vq[Q_TX], 1);
                        n->tx_blocked = true;
                        break;
                }
                if (rc != 1)
                        n->stats.tx_malformed++;
                ward_vq_push(&v->vq[Q_TX], n->chain.head, 0);
                pushed = true;
        }
        if (pushed)
                ward_virtio_signal_used(v, Q_TX);
}

void ward_vnet_tx_resume(struct ward_vnet *n)
{
        n->tx_blocked = false;
        if (ward_virtio_is_live(&n->v) && n->v.vq[Q_TX].ready)
                transmit(n);
}

/* ---- receive: backend to guest ---- */

/* Gives back the chains popped for a frame that cannot be delivered whole. */
static void rx_give_back(struct ward_vnet *n, unsigned popped, bool fail)
{
        struct ward_vq *vq = &n->v.vq[Q_RX];
        if (!fail) {
                ward_vq_unpop(vq, popped);
                return;
        }
        /* A malformed chain among them was popped last: complete them all, empty. */
        for (unsigned i = 0; i < popped; i++)
                ward_vq_push(vq, n->rx_heads[i], 0);
        ward_virtio_signal_used(&n->v, Q_RX);
}

int ward_vnet_receive(struct ward_vnet *n, const void *frame, uint32_t len)
{
        struct ward_virtio *v = &n->v;
        struct ward_vq *vq = &v->vq[Q_RX];
        const uint8_t *p = frame;
        uint8_t hdr[WARD_VNET_HDR_LEN] = {0};
        if (n->be.vnet_hdr) {
                if (len < WARD_VNET_HDR_LEN) {
                        n->stats.rx_dropped++;
                        return WARD_EINVAL;
                }
                memcpy(hdr, p, WARD_VNET_HDR_LEN);
                p += WARD_VNET_HDR_LEN;
                len -= WARD_VNET_HDR_LEN;
                struct hdr h = hdr_decode(hdr);
                if (!hdr_ok(n, &h, len, false)) {
                        n->stats.rx_dropped++;
                        return WARD_EINVAL;
                }
        }
        if (len < WARD_VNET_MIN_FRAME || len > WARD_VNET_MAX_FRAME) {
                n->stats.rx_dropped++;
                return WARD_EINVAL;
        }
        if (!ward_virtio_is_live(v) || !vq->ready) {
                n->rx_waiting = true;
                return 0;
        }
        bool merge = ward_virtio_has_feature(v, WARD_VIRTIO_NET_F_MRG_RXBUF);
        uint32_t total = WARD_VNET_HDR_LEN + len, done = 0;
        unsigned used = 0;
        while (done < total) {
                struct ward_chain *c = used == 0 ? &n->first : &n->chain;
                if (used == vq->num) {
                        /* Every buffer the ring can hold is too few. */
                        rx_give_back(n, used, false);
                        n->stats.rx_dropped++;
                        return WARD_EINVAL;
                }
                int rc = ward_vq_pop(vq, v->gm, c);
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return 0;
                }
                if (rc == 0) {
                        rx_give_back(n, used, false);
                        n->rx_waiting = true;
                        return 0;
                }
                n->rx_heads[used++] = c->head;
                if (rc != 1 || c->nout != 0 || c->in_len < (used == 1 ? WARD_VNET_HDR_LEN : 1u)) {
                        /* Complete the malformed chain (and those before it) empty,
                         * and start the frame again on the buffers after it. */
                        n->stats.rx_bad_buffers++;
                        rx_give_back(n, used, true);
                        used = 0;
                        done = 0;
                        continue;
                }
                if (!merge && c->in_len < total) {
                        /* One buffer per frame and this one is too small: the
                         * guest's buffers will never hold it. */
                        rx_give_back(n, used, false);
                        n->stats.rx_dropped++;
                        return WARD_EINVAL;
                }
                const struct ward_iov *in = &c->iov[c->nout];
                uint32_t put = used == 1 ? WARD_VNET_HDR_LEN : 0; /* the header goes in last */
                uint32_t chunk = WARD_MIN(c->in_len - put, total - done - put);
                ward_iov_write(in, c->nin, put, p + (done + put - WARD_VNET_HDR_LEN), chunk);
                n->rx_lens[used - 1] = put + chunk;
                done += put + chunk;
        }
        if (merge) {
                hdr[10] = (uint8_t)used;
                hdr[11] = (uint8_t)(used >> 8);
        }
        ward_iov_write(&n->first.iov[n->first.nout], n->first.nin, 0, hdr, WARD_VNET_HDR_LEN);
        for (unsigned i = 0; i < used; i++)
                ward_vq_push(vq, n->rx_heads[i], n->rx_lens[i]);
        ward_virtio_signal_used(v, Q_RX);
        n->stats.rx_frames++;
        n->stats.rx_bytes += len;
        return 1;
}

/* ---- the device ---- */

static void net_notify(struct ward_virtio *v, unsigned q)
{
        struct ward_vnet *n = v->dev;
        if (q == Q_TX) {
                transmit(n);
        } else if (q == Q_RX && n->rx_waiting) {
                n->rx_waiting = false;
                if (n->be.rx_ready)
                        n->be.rx_ready(n->be.opaque);
        }
}

static void net_reset(struct ward_virtio *v)
{
        struct ward_vnet *n = v->dev;
        n->tx_blocked = false;
        /* A backend holding a frame keeps holding it until the new driver posts buffers. */
}

static void net_features_ok(struct ward_virtio *v)
{
        struct ward_vnet *n = v->dev;
        if (n->be.features)
                n->be.features(n->be.opaque, v->driver_features);
}

static const struct ward_virtio_ops net_ops = {
    .queue_notify = net_notify,
    .reset = net_reset,
    .features_ok = net_features_ok,
};

void ward_vnet_setup(struct ward_vnet *n, const struct ward_net_backend *be, const uint8_t mac[6])
{
        memset(n, 0, sizeof(*n));
        n->be = *be;
        n->v.device_id = WARD_VIRTIO_ID_NET;
        n->v.device_features =
            F(WARD_VIRTIO_NET_F_MAC) | F(WARD_VIRTIO_NET_F_STATUS) | F(WARD_VIRTIO_NET_F_MRG_RXBUF);
        if (be->vnet_hdr)
                n->v.device_features |= be->offloads & WARD_VNET_OFFLOADS;
        n->v.nqueues = 2;
        n->v.queue_max = WARD_VNET_QUEUE_SIZE;
        n->v.ops = &net_ops;
        n->v.dev = n;
        memcpy(n->config, mac, 6);
        n->config[6] = STATUS_LINK_UP;
        n->config[8] = 1; /* max_virtqueue_pairs (read only with MQ, which is not offered) */
        n->v.config = n->config;
        n->v.config_len = sizeof(n->config);
}

static struct ward_virtio *net_setup_type(void *state, const union ward_backend *be,
                                          const struct ward_device_params *p)
{
        struct ward_vnet *n = state;
        ward_vnet_setup(n, &be->net, p->mac);
        return &n->v;
}

const struct ward_device_type ward_virtio_net_type = {
    .name = "net",
    .cls = WARD_DEVICE_NET,
    .state_size = sizeof(struct ward_vnet),
    .setup = net_setup_type,
};
