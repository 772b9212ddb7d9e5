/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A driver for a virtio-blk device on the virtio-mmio transport (virtio
 * 1.x, split virtqueue): the other side of src/virtio. The seL4 block
 * driver PD uses it for QEMU virt's virtio-blk; the unit test drives ward's
 * own device model with it.
 *
 * The device is not trusted further than a disk is: every used-ring entry
 * it writes is checked (a request it never had, or has already answered,
 * is counted and dropped), and the capacity it reports bounds what callers
 * may ask for. Register access goes through ops, so that a test can run
 * the driver against a device model; DMA memory is one region that the
 * caller maps and whose device-visible (physical) address it knows.
 * Freestanding: no allocation.
 */
#ifndef WARD_DRIVER_VIRTIO_BLK_DRIVER_H
#define WARD_DRIVER_VIRTIO_BLK_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARD_VBD_REQS 8                 /* requests in flight at once */
#define WARD_VBD_QSIZE 64               /* descriptors: 3 per request, a power of two */
#define WARD_VBD_DATA_BYTES (64u << 10) /* data bytes of one request at most */
#define WARD_VBD_DATA_OFF 0x1000u       /* where the data buffers start in the DMA region */
#define WARD_VBD_DMA_BYTES (WARD_VBD_DATA_OFF + WARD_VBD_REQS * WARD_VBD_DATA_BYTES)

struct ward_vbd_ops {
        uint32_t (*read32)(void *ctx, uint32_t off);
        void (*write32)(void *ctx, uint32_t off, uint32_t val);
};

/* A request's end: status 0 is success, else an I/O error (or a bad answer). */
typedef void (*ward_vbd_done)(void *cookie, int status);

struct ward_vbd {
        const struct ward_vbd_ops *ops;
        void *ctx;
        uint8_t *dma;      /* WARD_VBD_DMA_BYTES, as the driver sees it */
        uint64_t dma_phys; /* ... and as the device does */
        uint64_t capacity; /* in 512-byte sectors */
        bool flush;        /* the device takes flush requests (VIRTIO_BLK_F_FLUSH) */
        bool read_only;    /* VIRTIO_BLK_F_RO */
        uint16_t avail_idx, used_seen;
        struct {
                void *cookie;
                uint32_t type, len;
                bool busy;
        } req[WARD_VBD_REQS];
        uint64_t bad_answers; /* used entries for no request in flight */
};

/*
 * Finds the device at the transport (magic, version 2, device id 2),
 * negotiates VIRTIO_F_VERSION_1 (and FLUSH, RO where offered), sets up
 * queue 0 in the DMA region and starts the device. 0, or -1 with err set.
 */
int ward_vbd_init(struct ward_vbd *d, const struct ward_vbd_ops *ops, void *ctx, void *dma,
                  uint64_t dma_phys, char *err, size_t errlen);

/*
 * Whether the transport at ctx holds a virtio-blk device (to find one
 * among QEMU virt's 32 transports).
 */
bool ward_vbd_probe(const struct ward_vbd_ops *ops, void *ctx);

/*
 * A request slot's data buffer (WARD_VBD_DATA_BYTES): write data there
 * before submitting a write, read it there after a read completes.
 */
void *ward_vbd_buffer(struct ward_vbd *d, unsigned slot);

/* A free request slot, or -1 when all are in flight. */
int ward_vbd_free_slot(const struct ward_vbd *d);

/*
 * Sends a request on slot (from ward_vbd_free_slot): type is
 * WARD_VIRTIO_BLK_T_IN, _OUT or _FLUSH, len at most WARD_VBD_DATA_BYTES
 * (0 for a flush). 0, or -1 for a request the device cannot take (beyond
 * its capacity, a write to a read-only disk, a flush it does not know, a
 * bad slot or length).
 */
int ward_vbd_submit(struct ward_vbd *d, unsigned slot, uint32_t type, uint64_t sector, uint32_t len,
                    void *cookie);

/*
 * On the device's interrupt: acknowledges it and calls done for every
 * request the device has answered. Returns how many it completed.
 */
unsigned ward_vbd_poll(struct ward_vbd *d, ward_vbd_done done);

#endif
