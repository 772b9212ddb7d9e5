/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio socket device (virtio 1.x, 5.10): stream connections between the
 * guest (its CID from the config) and the host (CID 2). The device keeps
 * each connection's state and credit; its backend only moves bytes of
 * connections it knows by a handle:
 *
 *  - the guest connects to host port P: backend connect(P) gives a handle
 *    or refuses (the guest gets a reset);
 *  - the backend connects to guest port P: ward_vsock_connect_guest(); the
 *    answer comes back as connected(handle, ok);
 *  - the guest's bytes go to write(); the backend says when they have left
 *    it (ward_vsock_forwarded()), which is the credit the guest may use;
 *  - bytes for the guest go in with ward_vsock_send(), within the guest's
 *    credit and receive buffers; rx_ready(handle) says when more may go;
 *  - either side closes: close(handle) from the device, ward_vsock_close()
 *    from the backend.
 *
 * Every header the guest writes is hostile: its CIDs, ports, lengths, type
 * and op are checked before use, and a packet that fails gets the guest a
 * reset for that connection, never more.
 */
#ifndef WARD_VIRTIO_VSOCK_H
#define WARD_VIRTIO_VSOCK_H

#include "ward/virtio/virtio.h"

#define WARD_VIRTIO_ID_VSOCK 19
#define WARD_VSOCK_HDR_LEN 44
#define WARD_VSOCK_HOST_CID 2
#define WARD_VSOCK_MAX_CONNS 64
#define WARD_VSOCK_BUF (256u * 1024u) /* what each connection may have in flight to the backend */
#define WARD_VSOCK_MAX_PKT 65536      /* payload bytes in one packet, either way */
#define WARD_VSOCK_QUEUE_SIZE 128

enum ward_vsock_op {
        WARD_VSOCK_OP_REQUEST = 1,
        WARD_VSOCK_OP_RESPONSE = 2,
        WARD_VSOCK_OP_RST = 3,
        WARD_VSOCK_OP_SHUTDOWN = 4,
        WARD_VSOCK_OP_RW = 5,
        WARD_VSOCK_OP_CREDIT_UPDATE = 6,
        WARD_VSOCK_OP_CREDIT_REQUEST = 7,
};

struct ward_vsock_backend {
        /* The guest connects to host port `port`: a handle (0..WARD_VSOCK_MAX_CONNS-1) that
         * no connection of the device holds, or < 0. Any other handle is refused as < 0
         * is, and never named to the backend again. */
        int (*connect)(void *opaque, uint32_t port);
        /* A connection the backend asked for was accepted (ok) or refused. */
        void (*connected)(void *opaque, int h, bool ok);
        /* The guest's bytes for h (never more than WARD_VSOCK_BUF not yet forwarded). */
        void (*write)(void *opaque, int h, const struct ward_iov *iov, unsigned niov, uint32_t len);
        /* h is gone (the guest closed or reset it, or broke its rules). */
        void (*close)(void *opaque, int h);
        /* The guest has room again for h's bytes (credit or buffers). */
        void (*rx_ready)(void *opaque, int h);
        void *opaque;
};

struct ward_vsock_conn {
        bool used;
        bool open;          /* established */
        bool closing;       /* a reset is owed or sent: no more data */
        uint32_t gport;     /* the guest's port */
        uint32_t hport;     /* the host's */
        uint32_t peer_buf;  /* the guest's buf_alloc */
        uint32_t peer_fwd;  /* the guest's fwd_cnt */
        uint32_t tx_cnt;    /* bytes put in the guest's buffers */
        uint32_t in_flight; /* the guest's bytes the backend has not forwarded */
        uint32_t fwd_cnt;   /* the guest's bytes forwarded */
        uint32_t fwd_told;  /* fwd_cnt as last told to the guest */
        uint8_t owed;       /* control packets owed to the guest (OWE_* in vsock.c) */
        /* The guest's shutdown flags: 1 it receives no more, 2 it sends no more. */
        uint8_t peer_shut;
        bool wants_rx; /* the backend waits for room */
};

struct ward_vsock_stats {
        uint64_t bad_packets; /* failed a check: the guest got a reset */
        uint64_t refused;     /* connections the backend refused */
};

struct ward_vsock {
        struct ward_virtio v;
        struct ward_vsock_backend be;
        uint64_t cid;
        uint8_t config[8];
        uint32_t next_hport;
        struct ward_vsock_conn conn[WARD_VSOCK_MAX_CONNS];
        struct ward_vsock_stats stats;
        struct ward_chain chain;    /* scratch: the transmit queue's */
        struct ward_chain rx_chain; /* scratch: the receive queue's */
        struct ward_iov iov[WARD_VQ_MAX_CHAIN];
};

/* Prepares the device for guest CID cid (3 or more); then ward_virtio_init(&s->v, ...). */
void ward_vsock_setup(struct ward_vsock *s, const struct ward_vsock_backend *be, uint64_t cid);
/*
 * The backend connects handle h to guest port `port`: returns the host
 * port the guest sees, or -1 (no free connection, h in use, or the
 * device is not live). The answer is connected(h, ok).
 */
int ward_vsock_connect_guest(struct ward_vsock *s, int h, uint32_t port);
/* How many bytes h may send now (the guest's credit; 0 while it has none). */
uint32_t ward_vsock_room(const struct ward_vsock *s, int h);
/* Bytes for the guest on h: returns how many went in (0: wait for rx_ready). */
uint32_t ward_vsock_send(struct ward_vsock *s, int h, const void *buf, uint32_t len);
/* n of h's bytes from the guest have left the backend: the guest may send as many more. */
void ward_vsock_forwarded(struct ward_vsock *s, int h, uint32_t n);
/* The backend ends h: the guest gets a reset, and h is free again. */
void ward_vsock_close(struct ward_vsock *s, int h);

#endif
