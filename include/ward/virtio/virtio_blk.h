/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio block device (virtio 1.x, 5.2): read, write, flush, get-id.
 *
 * The device decodes and validates a request completely, then hands it to
 * its backend as a struct ward_blk_io: an operation, an offset and a list
 * of iovecs that point straight into guest memory (no bounce buffer). The
 * backend completes it later by its id (ward_blk_io_complete()), from any
 * context that holds the device's lock. That is the whole block backend
 * contract: a backend never sees the device's state.
 */
#ifndef WARD_VIRTIO_BLK_H
#define WARD_VIRTIO_BLK_H

#include "ward/virtio/virtio.h"

#define WARD_VIRTIO_ID_BLOCK 2
#define WARD_VIRTIO_BLK_F_SEG_MAX 2
#define WARD_VIRTIO_BLK_F_RO 5
#define WARD_VIRTIO_BLK_F_BLK_SIZE 6
#define WARD_VIRTIO_BLK_F_FLUSH 9

#define WARD_VIRTIO_BLK_T_IN 0
#define WARD_VIRTIO_BLK_T_OUT 1
#define WARD_VIRTIO_BLK_T_FLUSH 4
#define WARD_VIRTIO_BLK_T_GET_ID 8

#define WARD_VIRTIO_BLK_S_OK 0
#define WARD_VIRTIO_BLK_S_IOERR 1
#define WARD_VIRTIO_BLK_S_UNSUPP 2

#define WARD_BLK_SECTOR 512u
#define WARD_BLK_QUEUE_SIZE 128
#define WARD_BLK_SEG_MAX 126 /* data segments per request we advertise */
#define WARD_BLK_ID_BYTES 20

struct ward_vblk;

/* How a backend completes an I/O: the device's callback, by id. */
struct ward_blk_done {
        void (*complete)(void *dev, uint32_t id, int status);
        void *dev;
};

/*
 * One block I/O, as a backend sees it. Valid from submit until it is
 * completed; the backend must not touch it afterwards.
 */
struct ward_blk_io {
        uint32_t type;   /* WARD_VIRTIO_BLK_T_IN, _OUT or _FLUSH */
        uint64_t offset; /* bytes into the disk */
        uint32_t len;    /* data bytes */
        unsigned niov;
        struct ward_iov iov[WARD_BLK_SEG_MAX]; /* guest buffers, already checked */
        /*
         * 0..WARD_BLK_QUEUE_SIZE-1, and no two I/Os out at once share it:
         * a backend may index its own per-I/O state by it.
         */
        uint16_t slot;
        uint32_t id; /* completes it; a stale id (after a reset) is ignored */
        const struct ward_blk_done *done;
};

/* Completes io: status 0 is success, anything else an I/O error for the guest. */
static inline void ward_blk_io_complete(const struct ward_blk_io *io, int status)
{
        io->done->complete(io->done->dev, io->id, status);
}

/*
 * Backend port. submit() returns 0 when it has taken the I/O (it will
 * complete it, possibly before returning), or a negative value to fail it.
 */
struct ward_blk_backend {
        int (*submit)(void *opaque, const struct ward_blk_io *io);
        void *opaque;
};

/* The device's own record of one request (private to src/virtio/blk.c). */
struct ward_blk_req {
        struct ward_blk_io io;
        uint16_t head;
        uint16_t seq; /* bumped per use of the slot: part of io.id */
        uint32_t generation;
        uint8_t *status;
        bool busy;
};

struct ward_vblk {
        struct ward_virtio v;
        struct ward_blk_backend be;
        struct ward_blk_done done; /* handed to the backend with every I/O */
        uint64_t capacity;         /* in 512-byte sectors */
        bool read_only;
        uint8_t config[24];
        char id[WARD_BLK_ID_BYTES];
        uint32_t generation; /* bumped by reset; stale completions are dropped */
        bool in_notify;      /* inside blk_notify: completions defer the interrupt */
        bool starved;        /* stopped taking requests for want of a slot */
        struct ward_chain chain;
        /* Counters, for tests and diagnostics. */
        uint64_t bad_requests;
        /*
         * Last, and not cleared by ward_vblk_setup(): the slots are most of
         * the struct, and leaving untouched ones alone keeps them out of the
         * VMM's resident memory.
         */
        struct ward_blk_req req[WARD_BLK_QUEUE_SIZE];
};

/*
 * b must be zero-filled storage (static, calloc). size_bytes is rounded
 * down to whole sectors.
 */
void ward_vblk_setup(struct ward_vblk *b, const struct ward_blk_backend *be, uint64_t size_bytes,
                     bool read_only, const char *id);

#endif
