/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio-blk driver over virtio-mmio (see ward/driver/virtio_blk_driver.h).
 * Register offsets and the initialisation order are the virtio 1.1 spec's
 * (4.2.2, 3.1.1); the split virtqueue layout is 2.6.
 *
 * The DMA region: the descriptor table at 0, the avail ring at 0x400, the
 * used ring at 0x500, request headers at 0x800, status bytes at 0x900 and
 * data buffers from WARD_VBD_DATA_OFF, one per request slot. Request slot
 * k uses descriptors 3k, 3k+1 and 3k+2.
 */
#include "ward/driver/virtio_blk_driver.h"

#include "ward/util/util.h"
#include "ward/virtio/virtio_blk.h"
#include "ward/virtio/virtqueue.h"

/* virtio-mmio registers (virtio 1.1, 4.2.2). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_STATUS 0x060
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100

#define MAGIC 0x74726976u /* "virt" */
#define S_ACKNOWLEDGE 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_FAILED 128u

#define OFF_DESC 0x000u
#define OFF_AVAIL 0x400u
#define OFF_USED 0x500u
#define OFF_HDR 0x800u
#define OFF_STATUS 0x900u

_Static_assert(16 * WARD_VBD_QSIZE <= OFF_AVAIL, "descriptor table overlaps the avail ring");
_Static_assert(OFF_AVAIL + 6 + 2 * WARD_VBD_QSIZE <= OFF_USED, "avail ring overlaps the used ring");
_Static_assert(OFF_USED + 6 + 8 * WARD_VBD_QSIZE <= OFF_HDR, "used ring overlaps the headers");
_Static_assert(3 * WARD_VBD_REQS <= WARD_VBD_QSIZE, "too few descriptors");
_Static_assert(OFF_STATUS + WARD_VBD_REQS <= WARD_VBD_DATA_OFF, "status bytes overlap the data");

/* The device sees memory the driver wrote only after a barrier, and vice versa. */
static void barrier(void)
{
#if defined(__aarch64__)
        __asm__ volatile("dmb sy" ::: "memory");
#else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static uint32_t rd(struct ward_vbd *d, uint32_t off)
{
        return d->ops->read32(d->ctx, off);
}

static void wr(struct ward_vbd *d, uint32_t off, uint32_t v)
{
        d->ops->write32(d->ctx, off, v);
}

static void wr64(struct ward_vbd *d, uint32_t off, uint64_t v)
{
        wr(d, off, (uint32_t)v);
        wr(d, off + 4, (uint32_t)(v >> 32));
}

/* Little-endian fields of the DMA region (the driver runs little-endian). */
static volatile uint16_t *u16_at(struct ward_vbd *d, uint32_t off)
{
        return (volatile uint16_t *)(d->dma + off);
}

static volatile uint32_t *u32_at(struct ward_vbd *d, uint32_t off)
{
        return (volatile uint32_t *)(d->dma + off);
}

static volatile uint64_t *u64_at(struct ward_vbd *d, uint32_t off)
{
        return (volatile uint64_t *)(d->dma + off);
}

bool ward_vbd_probe(const struct ward_vbd_ops *ops, void *ctx)
{
        return ops->read32(ctx, R_MAGIC) == MAGIC && ops->read32(ctx, R_VERSION) == 2 &&
               ops->read32(ctx, R_DEVICE_ID) == 2;
}

static int fail(struct ward_vbd *d, char *err, size_t errlen, const char *why)
{
        wr(d, R_STATUS, rd(d, R_STATUS) | S_FAILED);
        ward_fmt(err, errlen, "virtio-blk: %s", why);
        return -1;
}

int ward_vbd_init(struct ward_vbd *d, const struct ward_vbd_ops *ops, void *ctx, void *dma,
                  uint64_t dma_phys, char *err, size_t errlen)
{
        memset(d, 0, sizeof(*d));
        d->ops = ops;
        d->ctx = ctx;
        d->dma = dma;
        d->dma_phys = dma_phys;
        if (!ward_vbd_probe(ops, ctx)) {
                ward_fmt(err, errlen, "virtio-blk: no virtio 1 block device at the transport");
                return -1;
        }
        memset(dma, 0, WARD_VBD_DATA_OFF);
        wr(d, R_STATUS, 0); /* reset */
        wr(d, R_STATUS, S_ACKNOWLEDGE);
        wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
        wr(d, R_DEVICE_FEATURES_SEL, 1);
        uint32_t hi = rd(d, R_DEVICE_FEATURES);
        wr(d, R_DEVICE_FEATURES_SEL, 0);
        uint32_t lo = rd(d, R_DEVICE_FEATURES);
        if (!(hi & (1u << (WARD_VIRTIO_F_VERSION_1 - 32))))
                return fail(d, err, errlen, "the device does not offer VIRTIO_F_VERSION_1");
        uint32_t want = lo & ((1u << WARD_VIRTIO_BLK_F_FLUSH) | (1u << WARD_VIRTIO_BLK_F_RO));
        d->flush = want & (1u << WARD_VIRTIO_BLK_F_FLUSH);
        d->read_only = want & (1u << WARD_VIRTIO_BLK_F_RO);
        wr(d, R_DRIVER_FEATURES_SEL, 1);
        wr(d, R_DRIVER_FEATURES, 1u << (WARD_VIRTIO_F_VERSION_1 - 32));
        wr(d, R_DRIVER_FEATURES_SEL, 0);
        wr(d, R_DRIVER_FEATURES, want);
        wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
        if (!(rd(d, R_STATUS) & S_FEATURES_OK))
                return fail(d, err, errlen, "the device refused our features");
        wr(d, R_QUEUE_SEL, 0);
        if (rd(d, R_QUEUE_READY))
                return fail(d, err, errlen, "queue 0 is already in use");
        if (rd(d, R_QUEUE_NUM_MAX) < WARD_VBD_QSIZE)
                return fail(d, err, errlen, "queue 0 is too small");
        wr(d, R_QUEUE_NUM, WARD_VBD_QSIZE);
        wr64(d, R_QUEUE_DESC, dma_phys + OFF_DESC);
        wr64(d, R_QUEUE_DRIVER, dma_phys + OFF_AVAIL);
        wr64(d, R_QUEUE_DEVICE, dma_phys + OFF_USED);
        barrier();
        wr(d, R_QUEUE_READY, 1);
        d->capacity = (uint64_t)rd(d, R_CONFIG) | (uint64_t)rd(d, R_CONFIG + 4) << 32;
        wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
        return 0;
}

void *ward_vbd_buffer(struct ward_vbd *d, unsigned slot)
{
        return slot < WARD_VBD_REQS ? d->dma + WARD_VBD_DATA_OFF + slot * WARD_VBD_DATA_BYTES
                                    : NULL;
}

int ward_vbd_free_slot(const struct ward_vbd *d)
{
        for (unsigned k = 0; k < WARD_VBD_REQS; k++)
                if (!d->req[k].busy)
                        return (int)k;
        return -1;
}

static void desc(struct ward_vbd *d, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
        uint32_t off = OFF_DESC + 16 * i;
        *u64_at(d, off) = addr;
        *u32_at(d, off + 8) = len;
        *u16_at(d, off + 12) = flags;
        *u16_at(d, off + 14) = next;
}

int ward_vbd_submit(struct ward_vbd *d, unsigned slot, uint32_t type, uint64_t sector, uint32_t len,
                    void *cookie)
{
        if (slot >= WARD_VBD_REQS || d->req[slot].busy)
                return -1;
        bool flush = type == WARD_VIRTIO_BLK_T_FLUSH;
        if (flush) {
                if (!d->flush || len)
                        return -1;
        } else if (type == WARD_VIRTIO_BLK_T_IN || type == WARD_VIRTIO_BLK_T_OUT) {
                if (!len || len > WARD_VBD_DATA_BYTES || len % 512 || sector > d->capacity ||
                    len / 512 > d->capacity - sector ||
                    (type == WARD_VIRTIO_BLK_T_OUT && d->read_only))
                        return -1;
        } else {
                return -1;
        }
        uint32_t hdr = OFF_HDR + 16 * slot;
        *u32_at(d, hdr) = type;
        *u32_at(d, hdr + 4) = 0;
        *u64_at(d, hdr + 8) = flush ? 0 : sector;
        *(volatile uint8_t *)(d->dma + OFF_STATUS + slot) = 0xff;
        unsigned h = 3 * slot;
        uint64_t status = d->dma_phys + OFF_STATUS + slot;
        if (flush) {
                desc(d, h, d->dma_phys + hdr, 16, WARD_VRING_DESC_F_NEXT, (uint16_t)(h + 2));
        } else {
                desc(d, h, d->dma_phys + hdr, 16, WARD_VRING_DESC_F_NEXT, (uint16_t)(h + 1));
                uint16_t f = WARD_VRING_DESC_F_NEXT;
                if (type == WARD_VIRTIO_BLK_T_IN)
                        f |= WARD_VRING_DESC_F_WRITE; /* the device writes the data */
                desc(d, h + 1, d->dma_phys + WARD_VBD_DATA_OFF + slot * WARD_VBD_DATA_BYTES, len, f,
                     (uint16_t)(h + 2));
        }
        desc(d, h + 2, status, 1, WARD_VRING_DESC_F_WRITE, 0);
        d->req[slot].cookie = cookie;
        d->req[slot].type = type;
        d->req[slot].len = len;
        d->req[slot].busy = true;
        *u16_at(d, OFF_AVAIL + 4 + 2 * (d->avail_idx % WARD_VBD_QSIZE)) = (uint16_t)h;
        barrier(); /* the entry before the index */
        d->avail_idx++;
        *u16_at(d, OFF_AVAIL + 2) = d->avail_idx;
        barrier(); /* the index before the notification */
        wr(d, R_QUEUE_NOTIFY, 0);
        return 0;
}

unsigned ward_vbd_poll(struct ward_vbd *d, ward_vbd_done done)
{
        wr(d, R_INTERRUPT_ACK, rd(d, R_INTERRUPT_STATUS));
        unsigned n = 0;
        for (;;) {
                barrier();
                uint16_t idx = *u16_at(d, OFF_USED + 2);
                /* A device cannot answer more than we have in flight. */
                if (idx == d->used_seen || (uint16_t)(idx - d->used_seen) > WARD_VBD_QSIZE)
                        break;
                barrier(); /* the index before its entries */
                uint32_t id = *u32_at(d, OFF_USED + 4 + 8 * (d->used_seen % WARD_VBD_QSIZE));
                d->used_seen++;
                unsigned slot = id / 3;
                if (id % 3 || slot >= WARD_VBD_REQS || !d->req[slot].busy) {
                        d->bad_answers++;
                        continue;
                }
                uint8_t status = *(volatile uint8_t *)(d->dma + OFF_STATUS + slot);
                d->req[slot].busy = false;
                n++;
                done(d->req[slot].cookie, status == 0 ? 0 : -1);
        }
        return n;
}
