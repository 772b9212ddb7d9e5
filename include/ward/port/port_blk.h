/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The remote block port: a virtio-blk backend that lives in another process
 * (Linux) or protection domain (seL4). The same code runs on both; only the
 * shared region and the notify op differ (see port_linux.h for Linux).
 *
 * One shared region holds three parts, at offsets both sides compute from
 * the same local configuration (ward_blk_port_layout()):
 *
 *   request ring   client -> server, slots of struct ward_blk_port_msg_req
 *   response ring  server -> client, slots of struct ward_blk_port_msg_resp
 *   data region    nbufs buffers of buf_bytes each, page aligned
 *
 * Data never moves through the rings. The client (the VMM) copies write data
 * from guest memory into a data buffer and names the buffer in the request;
 * the server reads or writes the disk through that buffer; for a read the
 * client copies the buffer back into guest memory after the response. So
 * the server never sees guest memory, only the data region.
 *
 * Data buffers and splitting. The data region is cut into equal buffers of
 * buf_bytes, one per port request. A device request longer than buf_bytes
 * is split into buf_bytes chunks, each its own port request; the device
 * request completes when all its chunks have (it fails if any chunk
 * failed). When no buffer or no ring slot is free, device requests wait in
 * a FIFO inside the client and go out, in order, as responses free
 * buffers. So any request makes progress with a single free buffer, nothing
 * is refused for size, and requests never overtake each other (a flush is
 * sent after every request the device submitted before it). With
 * nbufs >= WARD_BLK_QUEUE_SIZE and ring_slots >= nbufs, a full virtio queue
 * of requests up to buf_bytes each is in flight at once and nothing waits.
 *
 * Trust. The server trusts nothing in the request ring or the data region:
 * each request is copied out once, then checked (known op, 512-byte aligned
 * offset and length, inside the data region, inside the disk); a bad one gets
 * WARD_BLK_PORT_S_BADREQ. The client trusts nothing in the response ring:
 * the id must name a chunk that is in flight (slot and sequence number, so
 * a duplicate or stale response is refused), an OK response must carry
 * exactly the length asked for, and data is only copied into the request's
 * own iovecs, for the request's own length. A response with a valid id but
 * a bad status or length fails that request. A ring whose indices the peer
 * corrupted is broken: the client then fails everything in flight and
 * every later request, and the server stops serving.
 */
#ifndef WARD_PORT_BLK_H
#define WARD_PORT_BLK_H

#include "ward/port/port_notify.h"
#include "ward/port/port_ring.h"
#include "ward/virtio/virtio_blk.h"

#define WARD_BLK_PORT_MAX_SLOTS 256u
#define WARD_BLK_PORT_MAX_BUFS 256u
#define WARD_BLK_PORT_ALIGN 4096u /* the data region starts on a page */

/* Ops start at 1 so that a zero-filled slot is not a valid request. */
#define WARD_BLK_PORT_OP_READ 1u
#define WARD_BLK_PORT_OP_WRITE 2u
#define WARD_BLK_PORT_OP_FLUSH 3u

#define WARD_BLK_PORT_S_OK 0u
#define WARD_BLK_PORT_S_IOERR 1u  /* the disk failed */
#define WARD_BLK_PORT_S_BADREQ 2u /* the request was malformed and refused */

/* Wire format: host byte order (both sides run on the same machine). */
struct ward_blk_port_msg_req {
        uint32_t id;       /* opaque to the server, echoed in the response */
        uint32_t op;       /* WARD_BLK_PORT_OP_* */
        uint64_t offset;   /* bytes into the disk */
        uint32_t len;      /* bytes to transfer (0 for flush) */
        uint32_t data_off; /* bytes into the data region */
};

struct ward_blk_port_msg_resp {
        uint32_t id;
        uint32_t status; /* WARD_BLK_PORT_S_* */
        uint32_t len;    /* bytes transferred: the request's len on success */
        uint32_t reserved;
};

/* Both sides must use the same configuration (the system description's). */
struct ward_blk_port_config {
        uint32_t ring_slots; /* power of two, <= WARD_BLK_PORT_MAX_SLOTS: chunks in flight */
        uint32_t nbufs;      /* data buffers, 1..WARD_BLK_PORT_MAX_BUFS */
        uint32_t buf_bytes;  /* bytes per buffer, a multiple of 512: the largest chunk */
};

/* A full virtio-blk queue of requests up to 64 KiB in flight: 8 MiB of data buffers. */
#define WARD_BLK_PORT_CONFIG_DEFAULT                                                               \
        ((struct ward_blk_port_config){.ring_slots = 128, .nbufs = 128, .buf_bytes = 65536})

struct ward_blk_port_layout {
        size_t req_ring; /* offsets into the shared region */
        size_t resp_ring;
        size_t data;
        size_t req_ring_bytes;
        size_t resp_ring_bytes;
        uint32_t data_bytes;
        size_t total; /* bytes the shared region must have */
};

/* Fills l from cfg; WARD_EINVAL for a configuration outside the limits. */
int ward_blk_port_layout(const struct ward_blk_port_config *cfg, struct ward_blk_port_layout *l);
/* Resets both rings (optional for zero-filled memory). */
int ward_blk_port_format(void *mem, size_t mem_bytes, const struct ward_blk_port_config *cfg);
/* Attaches the request and response rings with the given roles (both sides use it). */
int ward_blk_port_attach_rings(void *mem, size_t mem_bytes, const struct ward_blk_port_config *cfg,
                               struct ward_blk_port_layout *l, struct ward_ring *req,
                               enum ward_ring_role req_role, struct ward_ring *resp,
                               enum ward_ring_role resp_role);

/* ---- Client: the VMM side, a struct ward_blk_backend for ward_vblk. ---- */

/* One chunk with the server, indexed by the slot part of its id. */
struct ward_blk_port_chunk {
        const struct ward_blk_io *io;
        uint32_t req_off; /* where this chunk starts inside the request's data */
        uint32_t len;
        uint16_t buf; /* data buffer, or 0xffff for a flush */
        uint16_t seq; /* bumped on every use of the slot: stale ids do not match */
        uint32_t op;
        bool busy;
};

/* Progress of one device request (indexed by its struct ward_blk_io.slot). */
struct ward_blk_port_progress {
        uint32_t submitted;   /* bytes handed to the server so far */
        uint16_t outstanding; /* chunks with the server */
        bool waiting;         /* still in the FIFO: more chunks to send */
        bool failed;
};

struct ward_blk_port_client {
        struct ward_ring req_ring;
        struct ward_ring resp_ring;
        uint8_t *data;
        struct ward_blk_port_config cfg;
        struct ward_port_notify notify;
        bool broken;
        /* Free lists (stacks) of chunk slots and data buffers. */
        uint16_t free_slot[WARD_BLK_PORT_MAX_SLOTS];
        uint32_t nfree_slot;
        uint16_t free_buf[WARD_BLK_PORT_MAX_BUFS];
        uint32_t nfree_buf;
        /* Device requests waiting to (finish being) sent, oldest first. */
        const struct ward_blk_io *fifo[WARD_BLK_QUEUE_SIZE];
        uint32_t fifo_head;
        uint32_t fifo_count;
        struct ward_blk_port_chunk chunk[WARD_BLK_PORT_MAX_SLOTS];
        struct ward_blk_port_progress progress[WARD_BLK_QUEUE_SIZE];
        /* Counters, for tests and diagnostics. */
        uint64_t bad_responses; /* refused or failed for the server's fault */
        uint64_t waits;         /* times a request had to wait for a buffer or slot */
};

/*
 * Attaches the client to a shared region of mem_bytes (at least the
 * layout's total) as laid out by cfg. notify wakes the server.
 */
int ward_blk_port_client_init(struct ward_blk_port_client *c, void *mem, size_t mem_bytes,
                              const struct ward_blk_port_config *cfg,
                              const struct ward_port_notify *notify);
/* The backend to pass to ward_vblk_setup(). */
struct ward_blk_backend ward_blk_port_client_backend(struct ward_blk_port_client *c);
/*
 * Call when the server's notification arrives, with the device's lock
 * held: completes the requests the server answered and sends waiting ones.
 * Returns the responses handled (at most ring_slots per call, so a flooding
 * server cannot keep the VMM here), or WARD_EBROKEN.
 */
int ward_blk_port_client_poll(struct ward_blk_port_client *c);

/*
 * The server has gone (its process died): fails every request in flight
 * or waiting, and every later one, until ward_blk_port_client_init()
 * attaches the client to a new server's region. Device lock held.
 */
void ward_blk_port_client_fail_all(struct ward_blk_port_client *c);

/* ---- Server: the backend side. ---- */

/* The disk behind the server: a RAM disk on seL4, a file on Linux. 0 or an error. */
struct ward_blk_port_disk_ops {
        int (*read)(void *o, uint64_t off, void *buf, uint32_t len);
        int (*write)(void *o, uint64_t off, const void *buf, uint32_t len); /* NULL: read-only */
        int (*flush)(void *o);                                              /* NULL: no-op */
};

/* A request the server handed to an asynchronous block backend. */
struct ward_blk_port_server_io {
        struct ward_blk_io io; /* its one iovec is the request's data buffer */
        uint32_t msg_id;       /* the client's id, for the response */
        uint16_t seq;          /* bumped per use: part of io.id */
        bool busy;
};

struct ward_blk_port_server {
        struct ward_ring req_ring;
        struct ward_ring resp_ring;
        uint8_t *data;
        uint32_t data_bytes;
        uint32_t budget; /* requests per poll */
        uint64_t disk_bytes;
        struct ward_blk_port_disk_ops ops;
        void *disk;
        struct ward_port_notify notify;
        bool broken;
        uint64_t served;
        uint64_t bad_requests;
        /* With a block backend instead of disk ops (ward_blk_port_server_init_backend). */
        bool async;
        struct ward_blk_backend be;
        struct ward_blk_done done;
        uint32_t inflight;
        struct ward_blk_port_server_io io[WARD_BLK_QUEUE_SIZE];
};

int ward_blk_port_server_init(struct ward_blk_port_server *s, void *mem, size_t mem_bytes,
                              const struct ward_blk_port_config *cfg, uint64_t disk_bytes,
                              const struct ward_blk_port_disk_ops *ops, void *disk,
                              const struct ward_port_notify *notify);
/*
 * The same server over a block backend (the contract of virtio_blk.h: a
 * struct ward_blk_io in, a completion by id out), so that the backend that
 * serves a disk inside the VMM (io_uring on a file) serves it behind a port
 * too. Requests go to the backend as they arrive, at most
 * WARD_BLK_QUEUE_SIZE at once, each on its own data buffer; a response is
 * pushed when the backend completes it.
 */
int ward_blk_port_server_init_backend(struct ward_blk_port_server *s, void *mem, size_t mem_bytes,
                                      const struct ward_blk_port_config *cfg, uint64_t disk_bytes,
                                      const struct ward_blk_backend *be,
                                      const struct ward_port_notify *notify);
/*
 * Call when the client's notification arrives: serves waiting requests,
 * pushes their responses and notifies the client once. Returns the requests
 * served (at most ring_slots per call), or WARD_EBROKEN.
 */
int ward_blk_port_server_poll(struct ward_blk_port_server *s);

#endif
