/* SPDX-License-Identifier: BSD-2-Clause */
#include "fake_guest.h"

#include "ward/virtio/virtio_blk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t guard_bytes(void)
{
        return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t whole_pages(size_t bytes)
{
        return (bytes + guard_bytes() - 1) & ~(guard_bytes() - 1);
}

void *fg_map_pages(size_t bytes)
{
        size_t guard = guard_bytes();
        bytes = whole_pages(bytes);
        uint8_t *m = mmap(NULL, bytes + 2 * guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED || mprotect(m + guard, bytes, PROT_READ | PROT_WRITE))
                abort();
        return m + guard;
}

void fg_zero_pages(void *p, size_t bytes)
{
        if (madvise(p, whole_pages(bytes), MADV_DONTNEED))
                abort();
}

void fg_unmap_pages(void *p, size_t bytes)
{
        if (p)
                munmap((uint8_t *)p - guard_bytes(), whole_pages(bytes) + 2 * guard_bytes());
}

void fg_init(struct fake_guest *g)
{
        memset(g, 0, sizeof(*g));
        g->ram =
            fg_map_pages(FG_RAM_SIZE); /* a memset per reset was a quarter of a fuzzer's time */
        ward_gmem_init(&g->gm);
        ward_gmem_add(&g->gm, FG_RAM_BASE, FG_RAM_SIZE, g->ram);
        g->data_next = FG_DATA_BASE;
}

void fg_reset(struct fake_guest *g)
{
        if (!g->ram) {
                fg_init(g);
                return;
        }
        uint8_t *ram = g->ram;
        fg_zero_pages(ram, FG_RAM_SIZE);
        memset(g, 0, sizeof(*g));
        g->ram = ram;
        ward_gmem_init(&g->gm);
        ward_gmem_add(&g->gm, FG_RAM_BASE, FG_RAM_SIZE, g->ram);
        g->data_next = FG_DATA_BASE;
}

void fg_free(struct fake_guest *g)
{
        fg_unmap_pages(g->ram, FG_RAM_SIZE);
        g->ram = NULL;
}

void *fg_ptr(struct fake_guest *g, uint64_t gpa)
{
        return g->ram + (gpa - FG_RAM_BASE);
}

uint64_t fg_alloc(struct fake_guest *g, uint32_t len, uint8_t fill)
{
        uint64_t gpa = g->data_next;
        g->data_next += (len + 15u) & ~15u;
        if (g->data_next > FG_RAM_BASE + FG_RAM_SIZE)
                abort();
        memset(fg_ptr(g, gpa), fill, len);
        return gpa;
}

void fg_desc_at(struct fake_guest *g, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
                uint16_t flags, uint16_t next)
{
        uint8_t *d = fg_ptr(g, table + 16u * i);
        ward_put_le64(d, addr);
        ward_put_le32(d + 8, len);
        d[12] = (uint8_t)flags;
        d[13] = (uint8_t)(flags >> 8);
        d[14] = (uint8_t)next;
        d[15] = (uint8_t)(next >> 8);
}

void fg_desc(struct fake_guest *g, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next)
{
        fg_desc_at(g, FG_DESC(q), i, addr, len, flags, next);
}

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
}

void fg_avail(struct fake_guest *g, unsigned q, uint16_t head)
{
        uint8_t *a = fg_ptr(g, FG_AVAIL(q));
        uint16_t n = g->num[q];
        put16(a + 4 + 2u * (g->avail_idx[q] % n), head);
        g->avail_idx[q]++;
        put16(a + 2, g->avail_idx[q]);
}

void fg_set_avail_idx(struct fake_guest *g, unsigned q, uint16_t idx)
{
        g->avail_idx[q] = idx;
        put16((uint8_t *)fg_ptr(g, FG_AVAIL(q)) + 2, idx);
}

void fg_set_used_event(struct fake_guest *g, unsigned q, uint16_t v)
{
        put16((uint8_t *)fg_ptr(g, FG_AVAIL(q)) + 4 + 2u * g->num[q], v);
}

uint16_t fg_avail_event(struct fake_guest *g, unsigned q)
{
        return ward_le16((uint8_t *)fg_ptr(g, FG_USED(q)) + 4 + 8u * g->num[q]);
}

uint16_t fg_used_idx(struct fake_guest *g, unsigned q)
{
        return ward_le16((uint8_t *)fg_ptr(g, FG_USED(q)) + 2);
}

void fg_used_elem(struct fake_guest *g, unsigned q, uint16_t k, uint32_t *id, uint32_t *len)
{
        uint8_t *e = (uint8_t *)fg_ptr(g, FG_USED(q)) + 4 + 8u * (k % g->num[q]);
        *id = ward_le32(e);
        *len = ward_le32(e + 4);
}

int fg_vq_setup(struct fake_guest *g, struct ward_vq *vq, unsigned q, uint16_t num, bool event_idx)
{
        ward_vq_reset(vq);
        g->num[q] = num;
        g->avail_idx[q] = 0;
        vq->num = num;
        vq->desc_gpa = FG_DESC(q);
        vq->avail_gpa = FG_AVAIL(q);
        vq->used_gpa = FG_USED(q);
        return ward_vq_enable(vq, &g->gm, WARD_VQ_MAX_SIZE, event_idx);
}

uint32_t fg_mmio_read(struct ward_virtio *v, uint64_t off)
{
        uint8_t b[4] = {0}; /* as the bus does: ignored reads give zero */
        ward_virtio_mmio_ops.read(v, off, b, 4);
        return ward_le32(b);
}

void fg_mmio_write(struct ward_virtio *v, uint64_t off, uint32_t val)
{
        uint8_t b[4];
        ward_put_le32(b, val);
        ward_virtio_mmio_ops.write(v, off, b, 4);
}

void fg_irq(void *opaque, bool level)
{
        struct fake_guest *g = opaque;
        if (level)
                g->irq_count++;
        g->irq_level = level;
}

void fg_driver_init(struct fake_guest *g, struct ward_virtio *v, uint64_t features, uint16_t num)
{
        fg_mmio_write(v, 0x070, 0); /* reset */
        fg_mmio_write(v, 0x070, WARD_VIRTIO_S_ACKNOWLEDGE);
        fg_mmio_write(v, 0x070, WARD_VIRTIO_S_ACKNOWLEDGE | WARD_VIRTIO_S_DRIVER);
        fg_mmio_write(v, 0x024, 0);
        fg_mmio_write(v, 0x020, (uint32_t)features);
        fg_mmio_write(v, 0x024, 1);
        fg_mmio_write(v, 0x020, (uint32_t)(features >> 32));
        fg_mmio_write(v, 0x070,
                      WARD_VIRTIO_S_ACKNOWLEDGE | WARD_VIRTIO_S_DRIVER | WARD_VIRTIO_S_FEATURES_OK);
        for (unsigned q = 0; q < v->nqueues; q++) {
                fg_mmio_write(v, 0x030, q);
                fg_mmio_write(v, 0x038, num);
                fg_mmio_write(v, 0x080, (uint32_t)FG_DESC(q));
                fg_mmio_write(v, 0x084, (uint32_t)(FG_DESC(q) >> 32));
                fg_mmio_write(v, 0x090, (uint32_t)FG_AVAIL(q));
                fg_mmio_write(v, 0x094, (uint32_t)(FG_AVAIL(q) >> 32));
                fg_mmio_write(v, 0x0a0, (uint32_t)FG_USED(q));
                fg_mmio_write(v, 0x0a4, (uint32_t)(FG_USED(q) >> 32));
                fg_mmio_write(v, 0x044, 1);
                g->num[q] = num;
                g->avail_idx[q] = 0;
        }
        fg_mmio_write(v, 0x070,
                      WARD_VIRTIO_S_ACKNOWLEDGE | WARD_VIRTIO_S_DRIVER | WARD_VIRTIO_S_FEATURES_OK |
                          WARD_VIRTIO_S_DRIVER_OK);
}

uint64_t fg_blk_post(struct fake_guest *g, struct ward_virtio *v, uint16_t *next, uint16_t qsize,
                     uint32_t type, uint64_t sector, uint64_t data, uint32_t len)
{
        uint64_t h = fg_alloc(g, 16, 0), st = fg_alloc(g, 1, 0xee);
        ward_put_le32(fg_ptr(g, h), type);
        ward_put_le64((uint8_t *)fg_ptr(g, h) + 8, sector);
        uint16_t d0 = (*next)++ % qsize, d1 = (*next)++ % qsize, d2 = (*next)++ % qsize;
        uint16_t wr = type == WARD_VIRTIO_BLK_T_IN ? WARD_VRING_DESC_F_WRITE : 0;
        if (len) {
                fg_desc(g, 0, d0, h, 16, WARD_VRING_DESC_F_NEXT, d1);
                fg_desc(g, 0, d1, data, len, (uint16_t)(WARD_VRING_DESC_F_NEXT | wr), d2);
        } else {
                fg_desc(g, 0, d0, h, 16, WARD_VRING_DESC_F_NEXT, d2);
        }
        fg_desc(g, 0, d2, st, 1, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(g, 0, d0);
        fg_mmio_write(v, 0x050, 0);
        return st;
}
