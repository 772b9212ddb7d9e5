/* SPDX-License-Identifier: BSD-2-Clause */
/* virtio-vsock: connections, credit and packets (see ward/virtio/virtio_vsock.h). */
#include "ward/virtio/device.h"

#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2

#define TYPE_STREAM 1
#define SHUT_BOTH 3u

/* Control packets a connection owes the guest, sent as receive buffers come. */
#define OWE_REQUEST 1u
#define OWE_RESPONSE 2u
#define OWE_RST 4u
#define OWE_SHUTDOWN 8u
#define OWE_CREDIT 16u

#define FIRST_HOST_PORT 49152u

struct hdr {
        uint64_t src_cid, dst_cid;
        uint32_t src_port, dst_port, len;
        uint16_t type, op;
        uint32_t flags, buf_alloc, fwd_cnt;
};

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t)ward_le32(p) | (uint64_t)ward_le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
        put32(p, (uint32_t)v);
        put32(p + 4, (uint32_t)(v >> 32));
}

static struct hdr decode(const uint8_t *b)
{
        return (struct hdr){le64(b),           le64(b + 8),       ward_le32(b + 16),
                            ward_le32(b + 20), ward_le32(b + 24), ward_le16(b + 28),
                            ward_le16(b + 30), ward_le32(b + 32), ward_le32(b + 36),
                            ward_le32(b + 40)};
}

static int slot(const struct ward_vsock *s, const struct ward_vsock_conn *c)
{
        return (int)(c - s->conn);
}

static struct ward_vsock_conn *find(struct ward_vsock *s, uint32_t gport, uint32_t hport)
{
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++)
                if (s->conn[i].used && s->conn[i].gport == gport && s->conn[i].hport == hport)
                        return &s->conn[i];
        return NULL;
}

static struct ward_vsock_conn *handle(struct ward_vsock *s, int h)
{
        return h >= 0 && h < WARD_VSOCK_MAX_CONNS && s->conn[h].used ? &s->conn[h] : NULL;
}

/* ---- to the guest ---- */

/* A header from the host to the guest for connection c (or for ports alone). */
static void header(const struct ward_vsock *s, uint8_t *b, uint32_t gport, uint32_t hport,
                   uint16_t op, uint32_t len, uint32_t flags, uint32_t fwd)
{
        memset(b, 0, WARD_VSOCK_HDR_LEN);
        put64(b, WARD_VSOCK_HOST_CID);
        put64(b + 8, s->cid);
        put32(b + 16, hport);
        put32(b + 20, gport);
        put32(b + 24, len);
        b[28] = TYPE_STREAM;
        b[30] = (uint8_t)op;
        put32(b + 32, flags);
        put32(b + 36, WARD_VSOCK_BUF);
        put32(b + 40, fwd);
}

/*
 * Puts one packet in the guest's next receive buffer: a header and up to
 * len bytes of data. Returns the data bytes that went in, or -1 when there
 * is no buffer (or the queue is broken).
 */
static int put_packet(struct ward_vsock *s, const uint8_t *hdr, const void *data, uint32_t len)
{
        struct ward_virtio *v = &s->v;
        struct ward_vq *vq = &v->vq[Q_RX];
        for (;;) {
                /* Its own scratch chain: this runs inside transmit(), whose chain is s->chain. */
                int rc = ward_vq_pop(vq, v->gm, &s->rx_chain);
                if (rc == 0)
                        return -1;
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return -1;
                }
                struct ward_chain *c = &s->rx_chain;
                if (rc != 1 || c->nout || c->in_len < WARD_VSOCK_HDR_LEN) {
                        s->stats.bad_packets++; /* a malformed receive buffer: skip it */
                        ward_vq_push(vq, c->head, 0);
                        continue;
                }
                uint32_t n = WARD_MIN(len, c->in_len - WARD_VSOCK_HDR_LEN);
                uint8_t h[WARD_VSOCK_HDR_LEN];
                memcpy(h, hdr, sizeof(h));
                put32(h + 24, n);
                const struct ward_iov *in = &c->iov[c->nout];
                ward_iov_write(in, c->nin, 0, h, sizeof(h));
                if (n)
                        ward_iov_write(in, c->nin, WARD_VSOCK_HDR_LEN, data, n);
                ward_vq_push(vq, c->head, WARD_VSOCK_HDR_LEN + n);
                ward_virtio_signal_used(v, Q_RX);
                return (int)n;
        }
}

static void free_conn(struct ward_vsock_conn *c)
{
        memset(c, 0, sizeof(*c));
}

/* Sends what each connection owes the guest while buffers last. */
static void pay_debts(struct ward_vsock *s)
{
        if (!ward_virtio_is_live(&s->v))
                return;
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++) {
                struct ward_vsock_conn *c = &s->conn[i];
                while (c->used && c->owed) {
                        static const struct {
                                uint8_t bit;
                                uint16_t op;
                        } order[] = {{OWE_REQUEST, WARD_VSOCK_OP_REQUEST},
                                     {OWE_RESPONSE, WARD_VSOCK_OP_RESPONSE},
                                     {OWE_CREDIT, WARD_VSOCK_OP_CREDIT_UPDATE},
                                     {OWE_SHUTDOWN, WARD_VSOCK_OP_SHUTDOWN},
                                     {OWE_RST, WARD_VSOCK_OP_RST}};
                        unsigned k = 0;
                        while (!(c->owed & order[k].bit))
                                k++;
                        uint8_t h[WARD_VSOCK_HDR_LEN];
                        header(s, h, c->gport, c->hport, order[k].op, 0,
                               order[k].op == WARD_VSOCK_OP_SHUTDOWN ? SHUT_BOTH : 0, c->fwd_cnt);
                        int pr = put_packet(s, h, NULL, 0);
                        if (pr < 0)
                                return; /* no buffer: the rest waits for the next one */
                        c->owed &= (uint8_t)~order[k].bit;
                        if (order[k].op == WARD_VSOCK_OP_CREDIT_UPDATE)
                                c->fwd_told = c->fwd_cnt;
                        if (order[k].op == WARD_VSOCK_OP_RST)
                                free_conn(c);
                }
        }
}

/* A reset for ports that have no connection (a stray or refused packet). */
static void reset_ports(struct ward_vsock *s, uint32_t gport, uint32_t hport)
{
        uint8_t h[WARD_VSOCK_HDR_LEN];
        header(s, h, gport, hport, WARD_VSOCK_OP_RST, 0, 0, 0);
        put_packet(s, h, NULL, 0); /* dropped when the guest has no buffer: it retries */
}

/* Ends c from the device's side: the backend is told, the guest gets a reset. */
static void abort_conn(struct ward_vsock *s, struct ward_vsock_conn *c)
{
        if (!c->closing)
                s->be.close(s->be.opaque, slot(s, c));
        c->closing = true;
        c->open = false;
        c->owed = OWE_RST;
}

/* ---- from the guest ---- */

static void on_request(struct ward_vsock *s, const struct hdr *h)
{
        if (find(s, h->src_port, h->dst_port)) {
                reset_ports(s, h->src_port, h->dst_port); /* one connection per port pair */
                return;
        }
        int k = s->be.connect(s->be.opaque, h->dst_port);
        struct ward_vsock_conn *c =
            k >= 0 && k < WARD_VSOCK_MAX_CONNS && !s->conn[k].used ? &s->conn[k] : NULL;
        if (!c) {
                /* Refused, or a handle we cannot hold: out of range, or one a live
                 * connection has. Nothing goes back to the backend about it, since
                 * closing that handle would end the live one (or name one that
                 * does not exist). */
                s->stats.refused++;
                reset_ports(s, h->src_port, h->dst_port);
                return;
        }
        *c = (struct ward_vsock_conn){.used = true,
                                      .open = true,
                                      .gport = h->src_port,
                                      .hport = h->dst_port,
                                      .peer_buf = h->buf_alloc,
                                      .peer_fwd = h->fwd_cnt,
                                      .owed = OWE_RESPONSE};
}

/* The guest's data for c: within what we advertised, to the backend. */
static void on_data(struct ward_vsock *s, struct ward_vsock_conn *c, const struct ward_chain *ch,
                    uint32_t len)
{
        if (!c->open || c->closing)
                return;
        if (len > WARD_VSOCK_BUF - c->in_flight) {
                s->stats.bad_packets++; /* more than its credit: a guest that breaks the rules */
                abort_conn(s, c);
                return;
        }
        /* The payload's iovs, past the header. */
        uint32_t skip = WARD_VSOCK_HDR_LEN;
        unsigned k = 0;
        for (unsigned i = 0; i < ch->nout; i++) {
                const struct ward_iov *v = &ch->iov[i];
                if (skip >= v->len) {
                        skip -= v->len;
                        continue;
                }
                s->iov[k++] = (struct ward_iov){v->base + skip, v->len - skip};
                skip = 0;
        }
        c->in_flight += len;
        s->be.write(s->be.opaque, slot(s, c), s->iov, k, len);
}

static void on_packet(struct ward_vsock *s, const struct ward_chain *ch)
{
        uint8_t raw[WARD_VSOCK_HDR_LEN];
        if (ch->out_len < WARD_VSOCK_HDR_LEN) {
                s->stats.bad_packets++;
                return;
        }
        ward_iov_read(ch->iov, ch->nout, 0, raw, sizeof(raw));
        struct hdr h = decode(raw);
        if (h.src_cid != s->cid || h.dst_cid != WARD_VSOCK_HOST_CID || h.type != TYPE_STREAM ||
            h.len > WARD_VSOCK_MAX_PKT || h.len > ch->out_len - WARD_VSOCK_HDR_LEN) {
                s->stats.bad_packets++;
                if (h.op != WARD_VSOCK_OP_RST)
                        reset_ports(s, h.src_port, h.dst_port);
                return;
        }
        if (h.op == WARD_VSOCK_OP_REQUEST) {
                on_request(s, &h);
                return;
        }
        struct ward_vsock_conn *c = find(s, h.src_port, h.dst_port);
        if (!c) {
                if (h.op != WARD_VSOCK_OP_RST)
                        reset_ports(s, h.src_port, h.dst_port);
                return;
        }
        c->peer_buf = h.buf_alloc;
        c->peer_fwd = h.fwd_cnt;
        switch (h.op) {
        case WARD_VSOCK_OP_RESPONSE:
                if (c->open || c->closing) {
                        abort_conn(s, c);
                        return;
                }
                c->open = true;
                s->be.connected(s->be.opaque, slot(s, c), true);
                return;
        case WARD_VSOCK_OP_RST:
                if (!c->closing) {
                        if (c->open)
                                s->be.close(s->be.opaque, slot(s, c));
                        else
                                s->be.connected(s->be.opaque, slot(s, c), false);
                }
                free_conn(c);
                return;
        case WARD_VSOCK_OP_SHUTDOWN:
                /* Both ways (close(2)), or after our own end: the backend ends its side,
                 * the guest gets its reset. One way only: remembered (RCV: send no more). */
                c->peer_shut |= (uint8_t)(h.flags & SHUT_BOTH);
                if (c->peer_shut == SHUT_BOTH || c->closing || !c->open)
                        abort_conn(s, c);
                return;
        case WARD_VSOCK_OP_RW:
                on_data(s, c, ch, h.len);
                return;
        case WARD_VSOCK_OP_CREDIT_UPDATE:
                break;
        case WARD_VSOCK_OP_CREDIT_REQUEST:
                c->owed |= OWE_CREDIT;
                break;
        default:
                s->stats.bad_packets++;
                abort_conn(s, c);
                return;
        }
        if (c->wants_rx && ward_vsock_room(s, slot(s, c))) {
                c->wants_rx = false;
                s->be.rx_ready(s->be.opaque, slot(s, c));
        }
}

static void transmit(struct ward_vsock *s)
{
        struct ward_virtio *v = &s->v;
        int rc;
        bool pushed = false;
        while ((rc = ward_vq_pop(&v->vq[Q_TX], v->gm, &s->chain)) != 0) {
                if (rc == WARD_EBROKEN) {
                        ward_virtio_set_needs_reset(v);
                        return;
                }
                if (rc == 1)
                        on_packet(s, &s->chain);
                else
                        s->stats.bad_packets++;
                ward_vq_push(&v->vq[Q_TX], s->chain.head, 0);
                pushed = true;
        }
        if (pushed)
                ward_virtio_signal_used(v, Q_TX);
}

/* The guest posted receive buffers: debts first, then whoever waits to send. */
static void rx_posted(struct ward_vsock *s)
{
        pay_debts(s);
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++) {
                struct ward_vsock_conn *c = &s->conn[i];
                if (c->used && c->wants_rx && ward_vsock_room(s, (int)i)) {
                        c->wants_rx = false;
                        s->be.rx_ready(s->be.opaque, (int)i);
                }
        }
}

static void vsock_notify(struct ward_virtio *v, unsigned q)
{
        struct ward_vsock *s = v->dev;
        if (q == Q_TX) {
                transmit(s);
                pay_debts(s);
        } else if (q == Q_RX) {
                rx_posted(s);
        } /* the event queue: the device sends no events */
}

static void vsock_reset(struct ward_virtio *v)
{
        struct ward_vsock *s = v->dev;
        /* A driver reset ends every connection (the transport-reset event's meaning). */
        for (unsigned i = 0; i < WARD_VSOCK_MAX_CONNS; i++) {
                struct ward_vsock_conn *c = &s->conn[i];
                if (c->used && !c->closing) {
                        if (c->open)
                                s->be.close(s->be.opaque, (int)i);
                        else
                                s->be.connected(s->be.opaque, (int)i, false);
                }
                free_conn(c);
        }
}

static const struct ward_virtio_ops vsock_ops = {
    .queue_notify = vsock_notify,
    .reset = vsock_reset,
};

void ward_vsock_setup(struct ward_vsock *s, const struct ward_vsock_backend *be, uint64_t cid)
{
        memset(s, 0, sizeof(*s));
        s->be = *be;
        s->cid = cid;
        s->next_hport = FIRST_HOST_PORT;
        put64(s->config, cid);
        s->v.device_id = WARD_VIRTIO_ID_VSOCK;
        s->v.nqueues = 3;
        s->v.queue_max = WARD_VSOCK_QUEUE_SIZE;
        s->v.ops = &vsock_ops;
        s->v.dev = s;
        s->v.config = s->config;
        s->v.config_len = sizeof(s->config);
}

/* ---- the backend's calls ---- */

int ward_vsock_connect_guest(struct ward_vsock *s, int h, uint32_t port)
{
        if (h < 0 || h >= WARD_VSOCK_MAX_CONNS || s->conn[h].used || !ward_virtio_is_live(&s->v))
                return -1;
        uint32_t hport;
        do {
                hport = s->next_hport++;
                if (s->next_hport == 0)
                        s->next_hport = FIRST_HOST_PORT;
        } while (find(s, port, hport));
        s->conn[h] = (struct ward_vsock_conn){
            .used = true, .gport = port, .hport = hport, .owed = OWE_REQUEST};
        pay_debts(s);
        return (int)hport;
}

uint32_t ward_vsock_room(const struct ward_vsock *s, int h)
{
        if (h < 0 || h >= WARD_VSOCK_MAX_CONNS)
                return 0;
        const struct ward_vsock_conn *c = &s->conn[h];
        if (!c->used || !c->open || c->closing || (c->peer_shut & 1))
                return 0;
        uint32_t used = c->tx_cnt - c->peer_fwd; /* wraps as the counters do */
        return used >= c->peer_buf ? 0 : c->peer_buf - used;
}

uint32_t ward_vsock_send(struct ward_vsock *s, int h, const void *buf, uint32_t len)
{
        struct ward_vsock_conn *c = handle(s, h);
        if (!c)
                return 0;
        pay_debts(s); /* its control packets go before its data */
        uint32_t n = WARD_MIN(len, WARD_MIN(ward_vsock_room(s, h), WARD_VSOCK_MAX_PKT));
        if (n == 0 || c->owed || !ward_virtio_is_live(&s->v)) {
                c->wants_rx = true;
                return 0;
        }
        uint8_t hd[WARD_VSOCK_HDR_LEN];
        header(s, hd, c->gport, c->hport, WARD_VSOCK_OP_RW, n, 0, c->fwd_cnt);
        int put = put_packet(s, hd, buf, n);
        if (put <= 0) {
                c->wants_rx = true;
                return 0;
        }
        c->tx_cnt += (uint32_t)put;
        c->fwd_told = c->fwd_cnt;
        return (uint32_t)put;
}

void ward_vsock_forwarded(struct ward_vsock *s, int h, uint32_t n)
{
        struct ward_vsock_conn *c = handle(s, h);
        if (!c)
                return;
        n = WARD_MIN(n, c->in_flight);
        c->in_flight -= n;
        c->fwd_cnt += n;
        /* Tell the guest of its credit when half the buffer came free since it last heard. */
        if (c->fwd_cnt - c->fwd_told >= WARD_VSOCK_BUF / 4) {
                c->owed |= OWE_CREDIT;
                pay_debts(s);
        }
}

void ward_vsock_close(struct ward_vsock *s, int h)
{
        struct ward_vsock_conn *c = handle(s, h);
        if (!c || c->closing)
                return;
        c->closing = true;
        c->wants_rx = false;
        /* Established: the guest reads what it has, then sees the end; otherwise a reset. */
        c->owed = c->open ? OWE_SHUTDOWN : OWE_RST;
        pay_debts(s);
}

static struct ward_virtio *vsock_setup_type(void *state, const union ward_backend *be,
                                            const struct ward_device_params *p)
{
        struct ward_vsock *s = state;
        ward_vsock_setup(s, &be->vsock, p->cid);
        return &s->v;
}

const struct ward_device_type ward_virtio_vsock_type = {
    .name = "vsock",
    .cls = WARD_DEVICE_VSOCK,
    .state_size = sizeof(struct ward_vsock),
    .setup = vsock_setup_type,
};
