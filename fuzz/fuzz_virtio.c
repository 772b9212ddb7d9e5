/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A hostile driver against ward's virtio devices: the input picks a device
 * (block, console, entropy or vsock), which a well-behaved driver brings up on
 * fake guest RAM (tests/unit/fake_guest.c), and is then read as a program
 * of steps: register reads and writes (the MMIO register file, config space
 * included), bytes written anywhere in the rings and buffers, descriptors,
 * avail entries, notifications, late block completions and console input.
 * Every guest-supplied value is hostile: the sanitizers and the checks here
 * (a block request the device hands over must be inside the disk) catch
 * what the device lets through.
 */
#include "fake_guest.h"
#include "fuzz_input.h"

#include "ward/virtio/virtio_blk.h"
#include "ward/virtio/virtio_console.h"
#include "ward/virtio/virtio_rng.h"
#include "ward/virtio/virtio_vsock.h"

#include <stdlib.h>

#define QSIZE 16
#define DISK_BYTES (64u * 1024u)

static struct fake_guest g;
static struct ward_vblk blk;
static struct ward_vconsole con;
static struct ward_vrng rng;
static struct ward_vsock vsock;
static uint8_t disk[DISK_BYTES];
static const struct ward_blk_io *pending[WARD_BLK_QUEUE_SIZE];
static unsigned npending;

static int disk_submit(void *opaque, const struct ward_blk_io *r)
{
        (void)opaque;
        if (r->type != WARD_VIRTIO_BLK_T_FLUSH &&
            (r->offset > DISK_BYTES || r->len > DISK_BYTES - r->offset))
                abort(); /* the device must check every request it hands over */
        uint64_t pos = r->offset;
        for (unsigned i = 0; i < r->niov && r->type != WARD_VIRTIO_BLK_T_FLUSH; i++) {
                if (r->type == WARD_VIRTIO_BLK_T_IN)
                        memcpy(r->iov[i].base, disk + pos, r->iov[i].len);
                else
                        memcpy(disk + pos, r->iov[i].base, r->iov[i].len);
                pos += r->iov[i].len;
        }
        if (npending == WARD_BLK_QUEUE_SIZE)
                abort();         /* more requests out than the device has slots */
        pending[npending++] = r; /* completed later, by a step */
        return 0;
}

static void con_write(void *opaque, const void *buf, uint32_t len)
{
        (void)opaque;
        volatile uint8_t sink = 0;
        for (uint32_t i = 0; i < len; i++) /* touch every byte: ASan checks the iov */
                sink ^= ((const uint8_t *)buf)[i];
        (void)sink;
}

static uint32_t rng_fill(void *opaque, void *buf, uint32_t len)
{
        (void)opaque;
        memset(buf, 0x5a, len);
        return len;
}

/* vsock's backend: takes connections to some ports, and every byte it is given. */
static int vs_connect(void *opaque, uint32_t port)
{
        (void)opaque;
        return port % 4 ? (int)(port % (WARD_VSOCK_MAX_CONNS + 4)) - 2 : -1;
}

static void vs_connected(void *opaque, int h, bool ok)
{
        (void)opaque, (void)ok;
        if (h < 0 || h >= WARD_VSOCK_MAX_CONNS)
                abort(); /* a handle the backend never had */
}

static void vs_write(void *opaque, int h, const struct ward_iov *iov, unsigned niov, uint32_t len)
{
        vs_connected(opaque, h, true);
        if (len > WARD_VSOCK_BUF)
                abort(); /* more than any connection's credit */
        con_write(opaque, iov[0].base, niov ? WARD_MIN(iov[0].len, len) : 0);
}

static void vs_close(void *opaque, int h)
{
        vs_connected(opaque, h, false);
}

static struct ward_virtio *bring_up(uint8_t which)
{
        fg_reset(&g);
        npending = 0;
        /* The devices assume zeroed memory at setup (as the VM gives them). */
        memset(&blk, 0, sizeof(blk));
        memset(&con, 0, sizeof(con));
        memset(&rng, 0, sizeof(rng));
        memset(&vsock, 0, sizeof(vsock));
        struct ward_virtio *v;
        if (which & 0x40) {
                struct ward_vsock_backend be = {vs_connect, vs_connected, vs_write,
                                                vs_close,   vs_close,     NULL};
                ward_vsock_setup(&vsock, &be, 3);
                v = &vsock.v;
        } else {
                switch (which % 3) {
                case 0: {
                        struct ward_blk_backend be = {.submit = disk_submit};
                        ward_vblk_setup(&blk, &be, DISK_BYTES, which & 4, "fuzz-disk");
                        v = &blk.v;
                        break;
                }
                case 1: {
                        struct ward_console_backend be = {.write = con_write};
                        ward_vconsole_setup(&con, &be);
                        v = &con.v;
                        break;
                }
                default: {
                        struct ward_rng_backend be = {.fill = rng_fill};
                        ward_vrng_setup(&rng, &be);
                        v = &rng.v;
                        break;
                }
                }
        }
        ward_virtio_init(v, &g.gm, fg_irq, &g);
        uint64_t features = 1ull << WARD_VIRTIO_F_VERSION_1;
        if (which & 8)
                features |= 1ull << WARD_VIRTIO_F_EVENT_IDX;
        if (which & 16)
                features |= 1ull << WARD_VIRTIO_F_INDIRECT_DESC;
        fg_driver_init(&g, v, features, QSIZE);
        return v;
}

/* A guest address the step names: mostly inside fake RAM, sometimes not. */
static uint64_t gpa_of(struct fuzz_in *in)
{
        uint32_t off = fuzz_u32(in);
        if (off >> 31)
                return (uint64_t)off << 8; /* anywhere, mostly outside RAM */
        return FG_RAM_BASE + off % FG_RAM_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        struct ward_virtio *v = bring_up(fuzz_u8(&in));
        const unsigned nq = v->nqueues;
        for (unsigned steps = 0; in.left && steps < 256; steps++) {
                uint8_t op = fuzz_u8(&in);
                unsigned q = (op >> 4) % (nq ? nq : 1);
                switch (op & 0xf) {
                case 0: /* a register write: the whole register file and config space */
                        fg_mmio_write(v, (fuzz_u16(&in) % 0x200) & ~3u, fuzz_u32(&in));
                        break;
                case 1:
                        (void)fg_mmio_read(v, (fuzz_u16(&in) % 0x200) & ~3u);
                        break;
                case 2: { /* raw bytes anywhere in RAM */
                        uint32_t off = fuzz_u32(&in) % FG_RAM_SIZE;
                        uint8_t len = fuzz_u8(&in);
                        if (len > FG_RAM_SIZE - off)
                                len = (uint8_t)(FG_RAM_SIZE - off);
                        fuzz_bytes(&in, g.ram + off, len);
                        break;
                }
                case 3: { /* a descriptor */
                        uint16_t i = fuzz_u16(&in) % QSIZE;
                        uint64_t addr = gpa_of(&in);
                        uint32_t len = fuzz_u32(&in) % (DISK_BYTES * 2);
                        uint16_t flags = fuzz_u8(&in) & 7, next = fuzz_u16(&in);
                        fg_desc(&g, q, i, addr, len, flags, next);
                        break;
                }
                case 4:
                        fg_avail(&g, q, fuzz_u16(&in));
                        break;
                case 5:
                        fg_set_avail_idx(&g, q, fuzz_u16(&in));
                        break;
                case 6:
                        fg_mmio_write(v, 0x050, q); /* QueueNotify */
                        break;
                case 7: /* the backend completes a request, maybe after a reset */
                        if (npending) {
                                unsigned k = fuzz_u8(&in) % npending;
                                const struct ward_blk_io *r = pending[k];
                                pending[k] = pending[--npending];
                                ward_blk_io_complete(r, fuzz_u8(&in) & 1 ? -5 : 0);
                        }
                        break;
                case 8:
                        if (v == &vsock.v) { /* the backend's side: send, credit, close, connect */
                                uint8_t buf[256];
                                uint8_t what = fuzz_u8(&in);
                                int h = (int)(fuzz_u8(&in) % (WARD_VSOCK_MAX_CONNS + 2)) - 1;
                                size_t n = fuzz_bytes(&in, buf, fuzz_u8(&in));
                                if (what % 4 == 0)
                                        ward_vsock_send(&vsock, h, buf, (uint32_t)n);
                                else if (what % 4 == 1)
                                        ward_vsock_forwarded(&vsock, h, fuzz_u32(&in));
                                else if (what % 4 == 2)
                                        ward_vsock_close(&vsock, h);
                                else
                                        ward_vsock_connect_guest(&vsock, h, fuzz_u32(&in));
                        } else if (v == &con.v) {
                                uint8_t buf[64];
                                size_t n = fuzz_bytes(&in, buf, fuzz_u8(&in) % sizeof(buf));
                                ward_vconsole_input(&con, buf, (uint32_t)n);
                        }
                        break;
                case 9:
                        fg_set_used_event(&g, q, fuzz_u16(&in));
                        break;
                case 10: /* a well-formed block request, for the fuzzer to mutate from */
                        if (v == &blk.v) {
                                uint16_t next = fuzz_u16(&in);
                                uint64_t buf = FG_DATA_BASE + (fuzz_u16(&in) % 64) * 4096;
                                fg_blk_post(&g, v, &next, QSIZE, fuzz_u8(&in) % 9,
                                            fuzz_u16(&in) % (DISK_BYTES / 512 + 4), buf,
                                            (fuzz_u8(&in) % 9) * 512);
                        }
                        break;
                default:
                        (void)fg_mmio_read(v, 0x060); /* InterruptStatus */
                        fg_mmio_write(v, 0x064, fuzz_u8(&in) & 3);
                        break;
                }
        }
        /* Whatever is still out completes: nothing may land outside RAM. */
        while (npending)
                ward_blk_io_complete(pending[--npending], 0);
        return 0;
}
