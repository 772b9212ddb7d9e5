/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared-memory ports with a hostile peer: a block port's client (the
 * VMM side) and server (the backend side), and a console port, on regions
 * whose every byte the input may overwrite between steps, as a compromised
 * peer process or PD could. Each side must only ever touch its own memory
 * and the region, and complete each request at most once.
 */
#include "fuzz_input.h"

#include "ward/port/port_blk.h"
#include "ward/port/port_console.h"

#include <stdlib.h>

#define DISK_BYTES (32u * 1024u)
#define NIO 8
#define IO_BYTES 2048u
#define CON_RING 256u

static uint8_t disk[DISK_BYTES];
static uint8_t iobuf[NIO][IO_BYTES];
static struct ward_blk_io io[NIO];
static bool out[NIO];
static struct ward_blk_port_client client;
static struct ward_blk_port_server server;

static void completed(void *dev, uint32_t id, int status)
{
        (void)dev;
        (void)status;
        if (id >= NIO || !out[id])
                __builtin_trap(); /* a completion for no request, or a second one */
        out[id] = false;
}
static const struct ward_blk_done done = {completed, NULL};

static int disk_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        (void)o;
        if (off > DISK_BYTES || len > DISK_BYTES - off)
                __builtin_trap(); /* the server must check the request first */
        memcpy(buf, disk + off, len);
        return 0;
}
static int disk_write(void *o, uint64_t off, const void *buf, uint32_t len)
{
        (void)o;
        if (off > DISK_BYTES || len > DISK_BYTES - off)
                __builtin_trap();
        memcpy(disk + off, buf, len);
        return 0;
}
static const struct ward_blk_port_disk_ops disk_ops = {disk_read, disk_write, NULL};

static void nobody(void *o)
{
        (void)o;
}

static uint32_t sink(void *opaque, const void *buf, uint32_t len)
{
        (void)opaque;
        volatile uint8_t s = 0;
        for (uint32_t i = 0; i < len; i++)
                s ^= ((const uint8_t *)buf)[i];
        (void)s;
        return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        const struct ward_blk_port_config cfg = {.ring_slots = 8, .nbufs = 4, .buf_bytes = 1024};
        struct ward_blk_port_layout l;
        if (ward_blk_port_layout(&cfg, &l) != WARD_OK)
                __builtin_trap();
        uint8_t *region = calloc(1, l.total);
        size_t con_bytes = ward_console_port_region_bytes(CON_RING);
        uint8_t *con_region = calloc(1, con_bytes);
        if (!region || !con_region)
                abort();
        const struct ward_port_notify n = {nobody, NULL};
        struct ward_console_port con_a, con_b;
        ward_console_port_format(con_region, con_bytes, CON_RING);
        ward_console_port_init(&con_a, con_region, con_bytes, CON_RING, WARD_PORT_CLIENT, &n);
        ward_console_port_init(&con_b, con_region, con_bytes, CON_RING, WARD_PORT_SERVER, &n);
        ward_blk_port_format(region, l.total, &cfg);
        memset(&client, 0, sizeof(client));
        memset(&server, 0, sizeof(server));
        ward_blk_port_client_init(&client, region, l.total, &cfg, &n);
        ward_blk_port_server_init(&server, region, l.total, &cfg, DISK_BYTES, &disk_ops, NULL, &n);
        struct ward_blk_backend be = ward_blk_port_client_backend(&client);
        memset(out, 0, sizeof(out));
        for (unsigned steps = 0; in.left && steps < 256; steps++) {
                uint8_t op = fuzz_u8(&in);
                switch (op & 7) {
                case 0: { /* the hostile peer writes the block region */
                        size_t off = fuzz_u32(&in) % l.total;
                        size_t len = fuzz_u8(&in);
                        if (len > l.total - off)
                                len = l.total - off;
                        fuzz_bytes(&in, region + off, len);
                        break;
                }
                case 1: { /* the device hands the client a request */
                        unsigned k = (op >> 3) % NIO;
                        if (out[k])
                                break;
                        struct ward_blk_io *r = &io[k];
                        memset(r, 0, sizeof(*r));
                        r->type = fuzz_u8(&in) % 3 == 0 ? WARD_VIRTIO_BLK_T_FLUSH
                                  : fuzz_u8(&in) & 1    ? WARD_VIRTIO_BLK_T_IN
                                                        : WARD_VIRTIO_BLK_T_OUT;
                        r->offset = (fuzz_u16(&in) % (DISK_BYTES / 512)) * 512ull;
                        uint32_t len = r->type == WARD_VIRTIO_BLK_T_FLUSH
                                           ? 0
                                           : (fuzz_u8(&in) % (IO_BYTES / 512) + 1) * 512u;
                        if (len > DISK_BYTES - r->offset)
                                len = (uint32_t)(DISK_BYTES - r->offset);
                        r->len = len;
                        r->niov = len ? 2 : 0;
                        r->iov[0] = (struct ward_iov){iobuf[k], len / 2};
                        r->iov[1] = (struct ward_iov){iobuf[k] + len / 2, len - len / 2};
                        r->slot = (uint16_t)k;
                        r->id = k;
                        r->done = &done;
                        out[k] = true;
                        if (be.submit(be.opaque, r) < 0)
                                out[k] = false;
                        break;
                }
                case 2:
                        ward_blk_port_client_poll(&client);
                        break;
                case 3:
                        ward_blk_port_server_poll(&server);
                        break;
                case 4: { /* the hostile peer writes the console region */
                        size_t off = fuzz_u16(&in) % con_bytes;
                        size_t len = fuzz_u8(&in) % 32;
                        if (len > con_bytes - off)
                                len = con_bytes - off;
                        fuzz_bytes(&in, con_region + off, len);
                        break;
                }
                case 5: {
                        uint8_t buf[64];
                        size_t len = fuzz_bytes(&in, buf, fuzz_u8(&in) % sizeof(buf));
                        ward_console_port_write(&con_a, buf, (uint32_t)len);
                        break;
                }
                case 6:
                        ward_console_port_poll(op & 8 ? &con_a : &con_b, sink, NULL);
                        break;
                default:
                        ward_blk_port_client_fail_all(&client);
                        break;
                }
        }
        /* The server is gone: the client fails what is still out, once. */
        ward_blk_port_client_fail_all(&client);
        for (unsigned k = 0; k < NIO; k++)
                if (out[k])
                        __builtin_trap(); /* a request the client lost */
        free(region);
        free(con_region);
        return 0;
}
