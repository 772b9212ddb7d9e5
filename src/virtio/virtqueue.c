/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/virtio/virtqueue.h"

/*
 * The ring layout is little-endian and both supported hosts (x86_64,
 * aarch64) are little-endian, so ring fields are accessed natively.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ward's virtqueue assumes a little-endian host"
#endif

struct desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};
_Static_assert(sizeof(struct desc) == 16, "virtq_desc is 16 bytes");

/* Offsets inside the avail and used rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4

static uint16_t load16(const uint8_t *p)
{
        return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
}
static void store16(uint8_t *p, uint16_t v)
{
        __atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
}
static void store32(uint8_t *p, uint32_t v)
{
        __atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

void ward_vq_reset(struct ward_vq *vq)
{
        memset(vq, 0, sizeof(*vq));
}

int ward_vq_enable(struct ward_vq *vq, const struct ward_gmem *gm, uint16_t max_size,
                   bool event_idx)
{
        uint16_t n = vq->num;
        vq->ready = false;
        if (n == 0 || n > max_size || n > WARD_VQ_MAX_SIZE || (n & (n - 1)) != 0)
                return WARD_EINVAL;
        if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
                return WARD_EINVAL;
        /* The trailing 2 bytes are used_event / avail_event (EVENT_IDX). */
        uint8_t *d = ward_gmem_ptr(gm, vq->desc_gpa, 16u * n);
        uint8_t *a = ward_gmem_ptr(gm, vq->avail_gpa, 6u + 2u * n);
        uint8_t *u = ward_gmem_ptr(gm, vq->used_gpa, 6u + 8u * n);
        if (!d || !a || !u)
                return WARD_ERANGE;
        vq->desc = d;
        vq->avail = a;
        vq->used = u;
        vq->event_idx = event_idx;
        vq->last_avail = 0;
        vq->used_idx = 0;
        vq->signalled_valid = false;
        vq->broken = false;
        vq->ready = true;
        return WARD_OK;
}

/* Reads the avail index; the acquire orders the ring reads after it. */
static uint16_t avail_idx(const struct ward_vq *vq)
{
        return __atomic_load_n((const uint16_t *)(const void *)(vq->avail + AVAIL_IDX),
                               __ATOMIC_ACQUIRE);
}

static bool has_work(struct ward_vq *vq)
{
        if (avail_idx(vq) != vq->last_avail)
                return true;
        if (!vq->event_idx)
                return false;
        /*
         * Ask for a notification at the next buffer, then look again: the
         * driver may have added one between our read and our write.
         */
        store16(vq->used + USED_RING + 8u * vq->num, vq->last_avail);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return avail_idx(vq) != vq->last_avail;
}

static int add_iov(struct ward_chain *c, const struct ward_gmem *gm, const struct desc *d)
{
        bool writable = d->flags & WARD_VRING_DESC_F_WRITE;
        if (!writable && c->nin > 0)
                return WARD_EINVAL; /* readable after writable */
        if (d->len == 0)
                return WARD_OK; /* nothing to transfer; harmless */
        uint8_t *p = ward_gmem_ptr(gm, d->addr, d->len);
        if (!p)
                return WARD_ERANGE;
        if ((unsigned)c->nout + c->nin >= WARD_VQ_MAX_CHAIN)
                return WARD_EINVAL;
        uint32_t *total = writable ? &c->in_len : &c->out_len;
        if (*total + d->len < *total)
                return WARD_ERANGE; /* more than 4 GiB in one chain */
        *total += d->len;
        c->iov[c->nout + c->nin] = (struct ward_iov){p, d->len};
        if (writable)
                c->nin++;
        else
                c->nout++;
        return WARD_OK;
}

static int walk_chain(struct ward_vq *vq, const struct ward_gmem *gm, struct ward_chain *c)
{
        const uint8_t *table = vq->desc;
        uint32_t table_len = vq->num;
        uint32_t budget = vq->num; /* descriptors we may still visit */
        bool indirect = false;
        uint32_t idx = c->head;

        for (;;) {
                struct desc d;
                if (budget == 0)
                        return WARD_EINVAL; /* loop, or longer than the table */
                budget--;
                memcpy(&d, table + 16u * idx, sizeof(d)); /* one fetch */

                if (d.flags & WARD_VRING_DESC_F_INDIRECT) {
                        if (indirect || (d.flags & WARD_VRING_DESC_F_NEXT))
                                return WARD_EINVAL;
                        if (d.len == 0 || d.len % 16 || d.len / 16 > WARD_VQ_MAX_CHAIN)
                                return WARD_EINVAL;
                        const uint8_t *t = ward_gmem_ptr(gm, d.addr, d.len);
                        if (!t)
                                return WARD_ERANGE;
                        table = t;
                        table_len = d.len / 16;
                        budget = table_len;
                        indirect = true;
                        idx = 0;
                        continue;
                }
                int rc = add_iov(c, gm, &d);
                if (rc)
                        return rc;
                if (!(d.flags & WARD_VRING_DESC_F_NEXT))
                        return WARD_OK;
                idx = d.next;
                if (idx >= table_len)
                        return WARD_ERANGE;
        }
}

int ward_vq_pop(struct ward_vq *vq, const struct ward_gmem *gm, struct ward_chain *c)
{
        if (!vq->ready)
                return 0;
        if (vq->broken)
                return WARD_EBROKEN;
        if (!has_work(vq))
                return 0;
        uint16_t ai = avail_idx(vq);
        if ((uint16_t)(ai - vq->last_avail) > vq->num) {
                vq->broken = true; /* driver claims more buffers than the ring holds */
                return WARD_EBROKEN;
        }
        uint16_t head = load16(vq->avail + AVAIL_RING + 2u * (vq->last_avail % vq->num));
        if (head >= vq->num) {
                vq->broken = true;
                return WARD_EBROKEN;
        }
        vq->last_avail++;
        c->head = head;
        c->nout = c->nin = 0;
        c->out_len = c->in_len = 0;
        int rc = walk_chain(vq, gm, c);
        return rc ? rc : 1;
}

void ward_vq_unpop(struct ward_vq *vq, uint16_t n)
{
        vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void ward_vq_push(struct ward_vq *vq, uint16_t head, uint32_t written)
{
        if (!vq->ready)
                return;
        uint8_t *elem = vq->used + USED_RING + 8u * (vq->used_idx % vq->num);
        store32(elem, head);
        store32(elem + 4, written);
        vq->used_idx++;
        /* The element must be visible before the index that publishes it. */
        __atomic_store_n((uint16_t *)(void *)(vq->used + USED_IDX), vq->used_idx, __ATOMIC_RELEASE);
}

bool ward_vq_should_signal(struct ward_vq *vq)
{
        if (!vq->ready)
                return false;
        /* Our used-index store must be ordered before reading the driver's wishes. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint16_t new_idx = vq->used_idx;
        if (!vq->event_idx) {
                bool quiet = load16(vq->avail + AVAIL_FLAGS) & WARD_VRING_AVAIL_F_NO_INTERRUPT;
                return !quiet;
        }
        uint16_t old = vq->signalled_used;
        bool valid = vq->signalled_valid;
        vq->signalled_used = new_idx;
        vq->signalled_valid = true;
        if (!valid)
                return true;
        uint16_t used_event = load16(vq->avail + AVAIL_RING + 2u * vq->num);
        /* virtio 1.x, 2.7.10: signal when used_event lies in (old, new]. */
        return (uint16_t)(new_idx - used_event - 1) < (uint16_t)(new_idx - old);
}

/* Copies between iovs and flat memory; to_iov chooses the direction. */
static uint32_t iov_copy(const struct ward_iov *iov, unsigned n, uint32_t skip, uint8_t *flat,
                         uint32_t len, bool to_iov)
{
        uint32_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (skip >= iov[i].len) {
                        skip -= iov[i].len;
                        continue;
                }
                uint32_t chunk = WARD_MIN(iov[i].len - skip, len - done);
                if (to_iov)
                        memcpy(iov[i].base + skip, flat + done, chunk);
                else
                        memcpy(flat + done, iov[i].base + skip, chunk);
                done += chunk;
                skip = 0;
        }
        return done;
}

uint32_t ward_iov_read(const struct ward_iov *iov, unsigned n, uint32_t skip, void *dst,
                       uint32_t len)
{
        return iov_copy(iov, n, skip, dst, len, false);
}

uint32_t ward_iov_write(const struct ward_iov *iov, unsigned n, uint32_t skip, const void *src,
                        uint32_t len)
{
        /* The flat side is only read in this direction. */
        return iov_copy(iov, n, skip, (uint8_t *)(uintptr_t)src, len, true);
}
