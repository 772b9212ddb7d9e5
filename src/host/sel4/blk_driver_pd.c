/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The block driver protection domain: drives the board's virtio-blk device
 * (QEMU virt: one of its 32 virtio-mmio transports) with the driver in
 * src/driver, and multiplexes it between the VMMs: each client (a VMM's
 * block port, BLKDRV_CLIENTS of them) gets its own range of sectors, fixed
 * at build time (BLKDRV_FIRST, BLKDRV_SECTORS). A client sees a disk of
 * its range's size and never a sector outside it: its port server checks
 * every request against that size before it reaches us, and we add the
 * range's first sector.
 *
 * Data is copied between a client's port buffer and the driver's DMA
 * buffers (a bounce), so the device only ever sees our DMA region, and no
 * VMM maps anything the device writes to. Requests beyond the driver's
 * slots wait in a queue, in order.
 */
#include <microkit.h>

#include "guest_layout.h"

#include "ward/driver/virtio_blk_driver.h"
#include "ward/port/port_blk.h"
#include "ward/util/util.h"
#include "ward/virtio/virtio_blk.h"

#ifndef BLKDRV_CLIENTS
#define BLKDRV_CLIENTS 1
#define BLKDRV_FIRST                                                                               \
        {                                                                                          \
                0                                                                                  \
        }
#define BLKDRV_SECTORS                                                                             \
        {                                                                                          \
                32768                                                                              \
        }
#endif
#define CH_IRQ 0 /* the device's interrupt; clients are channels 1.. */
#define TRANSPORTS 32
#define TRANSPORT_BYTES 0x200

uintptr_t virtio_mmio_vaddr; /* setvar: the board's virtio-mmio transports */
uintptr_t blk_dma_vaddr;     /* setvar: our DMA region ... */
uintptr_t blk_dma_paddr;     /* setvar (region_paddr): ... as the device sees it */
uintptr_t blk_port_vaddr;    /* setvar: the first client's block port */
uintptr_t blk_port_b_vaddr;  /* setvar: the second client's, if any */

_Static_assert(BLKDRV_CLIENTS >= 1 && BLKDRV_CLIENTS <= 2, "one or two clients");
_Static_assert(BLK_PORT_BUF_BYTES <= WARD_VBD_DATA_BYTES, "a port buffer must fit a DMA buffer");

static const uint64_t first_sector[BLKDRV_CLIENTS] = BLKDRV_FIRST;
static const uint64_t sectors[BLKDRV_CLIENTS] = BLKDRV_SECTORS;

static struct ward_blk_port_server server[BLKDRV_CLIENTS];
static struct ward_vbd drv;
static bool up;
static const struct ward_blk_io *inflight[WARD_VBD_REQS];
static unsigned inflight_client[WARD_VBD_REQS];

/* Requests waiting for a driver slot, oldest first. */
#define WAITING (BLKDRV_CLIENTS * WARD_BLK_QUEUE_SIZE)
static struct {
        const struct ward_blk_io *io;
        unsigned client;
} waiting[WAITING];
static unsigned wait_head, wait_count;

static void puts_err(const char *what, const char *why)
{
        microkit_dbg_puts("blk driver: ");
        microkit_dbg_puts(what);
        microkit_dbg_puts(why);
        microkit_dbg_puts("\n");
}

static uint32_t mmio_read32(void *ctx, uint32_t off)
{
        return *(volatile uint32_t *)((uintptr_t)ctx + off);
}

static void mmio_write32(void *ctx, uint32_t off, uint32_t val)
{
        *(volatile uint32_t *)((uintptr_t)ctx + off) = val;
}

static const struct ward_vbd_ops mmio_ops = {mmio_read32, mmio_write32};

/* Hands io to the device on a free slot; false when none is free. */
static bool start(const struct ward_blk_io *io, unsigned client)
{
        int slot = ward_vbd_free_slot(&drv);
        if (slot < 0)
                return false;
        uint64_t sector = first_sector[client] + io->offset / WARD_BLK_SECTOR;
        if (io->type == WARD_VIRTIO_BLK_T_OUT)
                memcpy(ward_vbd_buffer(&drv, (unsigned)slot), io->iov[0].base, io->len);
        if (io->type == WARD_VIRTIO_BLK_T_FLUSH && !drv.flush) {
                ward_blk_io_complete(io, 0); /* nothing to flush: the device has no cache */
                return true;
        }
        inflight[slot] = io;
        inflight_client[slot] = client;
        if (ward_vbd_submit(&drv, (unsigned)slot, io->type, sector,
                            io->type == WARD_VIRTIO_BLK_T_FLUSH ? 0 : io->len,
                            &inflight[slot]) != 0) {
                inflight[slot] = NULL;
                ward_blk_io_complete(io, -1);
        }
        return true;
}

/* Starts waiting requests while the driver has slots. */
static void pump(void)
{
        while (wait_count && start(waiting[wait_head].io, waiting[wait_head].client)) {
                wait_head = (wait_head + 1) % WAITING;
                wait_count--;
        }
}

struct client_ref {
        unsigned index;
};
static struct client_ref refs[BLKDRV_CLIENTS];

/* A client's port server hands us an I/O of its disk (already checked against its size). */
static int submit(void *opaque, const struct ward_blk_io *io)
{
        unsigned client = ((struct client_ref *)opaque)->index;
        /* The port server checked it against the client's disk; the bounce buffer is ours to guard.
         */
        if (!up || io->niov != 1 ||
            (io->type != WARD_VIRTIO_BLK_T_FLUSH &&
             (io->offset % WARD_BLK_SECTOR || io->len % WARD_BLK_SECTOR ||
              io->len > WARD_VBD_DATA_BYTES || io->iov[0].len < io->len)))
                return -1;
        if (wait_count == 0 && start(io, client))
                return 0;
        if (wait_count == WAITING)
                return -1;
        waiting[(wait_head + wait_count) % WAITING].io = io;
        waiting[(wait_head + wait_count) % WAITING].client = client;
        wait_count++;
        return 0;
}

static void done(void *cookie, int status)
{
        const struct ward_blk_io **slot = cookie;
        const struct ward_blk_io *io = *slot;
        unsigned k = (unsigned)(slot - inflight);
        *slot = NULL;
        if (!io)
                return;
        if (status == 0 && io->type == WARD_VIRTIO_BLK_T_IN)
                memcpy(io->iov[0].base, ward_vbd_buffer(&drv, k), io->len);
        ward_blk_io_complete(io, status);
}

static void notify_client(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

void init(void)
{
        char err[120];
        /* The first transport that holds a block device is ours. */
        void *transport = NULL;
        for (unsigned t = 0; t < TRANSPORTS && !transport; t++) {
                void *base = (void *)(virtio_mmio_vaddr + t * TRANSPORT_BYTES);
                if (ward_vbd_probe(&mmio_ops, base))
                        transport = base;
        }
        if (!transport)
                puts_err("", "no virtio-blk device on the board");
        else if (ward_vbd_init(&drv, &mmio_ops, transport, (void *)blk_dma_vaddr, blk_dma_paddr,
                               err, sizeof(err)))
                puts_err("", err);
        else
                up = true;
        uintptr_t region[2] = {blk_port_vaddr, blk_port_b_vaddr};
        struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        cfg.nbufs = BLK_PORT_NBUFS;
        cfg.ring_slots = BLK_PORT_SLOTS;
        cfg.buf_bytes = BLK_PORT_BUF_BYTES;
        for (unsigned c = 0; c < BLKDRV_CLIENTS; c++) {
                if (up && (first_sector[c] > drv.capacity ||
                           sectors[c] > drv.capacity - first_sector[c])) {
                        puts_err("a client's range is beyond the disk's end", "");
                        up = false;
                }
                refs[c].index = c;
                struct ward_blk_backend be = {submit, &refs[c]};
                struct ward_port_notify n = {notify_client, (void *)(uintptr_t)(1 + c)};
                ward_blk_port_format((void *)region[c], BLK_PORT_BYTES, &cfg);
                ward_blk_port_server_init_backend(&server[c], (void *)region[c], BLK_PORT_BYTES,
                                                  &cfg, sectors[c] * WARD_BLK_SECTOR, &be, &n);
        }
}

void notified(microkit_channel ch)
{
        if (ch == CH_IRQ) {
                if (up)
                        ward_vbd_poll(&drv, done);
                microkit_irq_ack(ch);
        } else if (ch >= 1 && ch <= BLKDRV_CLIENTS) {
                ward_blk_port_server_poll(&server[ch - 1]);
        }
        pump();
}
