/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The block protection domain: a RAM disk behind the VMM's block port. It
 * formats the shared region at init (higher priority than the VMM, so it
 * runs first) and serves requests when the VMM notifies. The disk's first
 * bytes come from an image linked into this PD (disk.S), so a guest can
 * read known content.
 */
#include <microkit.h>

#include "guest_layout.h"

#include "ward/port/port_blk.h"

#define CH_VMM 2

uintptr_t blk_port_vaddr; /* setvar: the region shared with the VMM */
uintptr_t ramdisk_vaddr;  /* setvar: the disk's memory */

extern const char _disk_image[], _disk_image_end[];

static struct ward_blk_port_server server;

static int disk_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        (void)o;
        memcpy(buf, (const uint8_t *)ramdisk_vaddr + off, len);
        return 0;
}

static int disk_write(void *o, uint64_t off, const void *buf, uint32_t len)
{
        (void)o;
        memcpy((uint8_t *)ramdisk_vaddr + off, buf, len);
        return 0;
}

static void notify_vmm(void *o)
{
        (void)o;
        microkit_notify(CH_VMM);
}

void init(void)
{
        uint64_t image = (uint64_t)(_disk_image_end - _disk_image);
        uint64_t copied = image < BLK_DISK_BYTES ? image : BLK_DISK_BYTES;
        memcpy((void *)ramdisk_vaddr, _disk_image, copied);
        /* The region may sit at a fixed physical address in device memory,
         * which seL4 does not clear: the rest of the disk reads as zeros. */
        memset((uint8_t *)ramdisk_vaddr + copied, 0, BLK_DISK_BYTES - copied);
        struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        cfg.nbufs = BLK_PORT_NBUFS;
        cfg.ring_slots = BLK_PORT_SLOTS;
        cfg.buf_bytes = BLK_PORT_BUF_BYTES;
        static const struct ward_blk_port_disk_ops ops = {disk_read, disk_write, NULL};
        struct ward_port_notify n = {notify_vmm, NULL};
        ward_blk_port_format((void *)blk_port_vaddr, BLK_PORT_BYTES, &cfg);
        ward_blk_port_server_init(&server, (void *)blk_port_vaddr, BLK_PORT_BYTES, &cfg,
                                  BLK_DISK_BYTES, &ops, NULL, &n);
}

void notified(microkit_channel ch)
{
        if (ch == CH_VMM)
                ward_blk_port_server_poll(&server);
}
