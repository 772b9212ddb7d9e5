/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SPSC slot ring in shared memory; see include/ward/port/port_ring.h for the
 * trust rules. Ordering: the consumer loads the producer index with acquire
 * before it copies slots out, and stores its own index with release after;
 * the producer loads the consumer index with acquire before it overwrites
 * slots, and publishes its index with release after writing them. That is
 * all the synchronisation an honest peer needs, and a dishonest one can
 * only hurt itself or be caught by the index checks.
 */
#include "ward/port/port_ring.h"

static bool geometry_ok(uint32_t count, uint32_t slot_size)
{
        return count != 0 && count <= WARD_RING_MAX_SLOTS && (count & (count - 1)) == 0 &&
               slot_size != 0 && slot_size <= WARD_RING_MAX_SLOT_SIZE;
}

size_t ward_ring_bytes(uint32_t count, uint32_t slot_size)
{
        if (!geometry_ok(count, slot_size))
                return 0;
        /* Both factors are bounded above, so this cannot overflow a 64-bit size_t. */
        return WARD_RING_HDR_BYTES + (size_t)count * slot_size;
}

static uint32_t *field(uint8_t *hdr, uint32_t off)
{
        return (uint32_t *)(void *)(hdr + off);
}

static bool region_ok(const void *mem, size_t mem_bytes, uint32_t count, uint32_t slot_size)
{
        size_t need = ward_ring_bytes(count, slot_size);
        return mem && need != 0 && mem_bytes >= need && ((uintptr_t)mem & 3u) == 0;
}

int ward_ring_format(void *mem, size_t mem_bytes, uint32_t count, uint32_t slot_size,
                     uint32_t start)
{
        if (!region_ok(mem, mem_bytes, count, slot_size))
                return WARD_EINVAL;
        uint8_t *h = mem;
        memset(h, 0, WARD_RING_HDR_BYTES);
        __atomic_store_n(field(h, WARD_RING_OFF_COUNT), count, __ATOMIC_RELAXED);
        __atomic_store_n(field(h, WARD_RING_OFF_SLOT_SIZE), slot_size, __ATOMIC_RELAXED);
        __atomic_store_n(field(h, WARD_RING_OFF_MAGIC), WARD_RING_MAGIC, __ATOMIC_RELAXED);
        __atomic_store_n(field(h, WARD_RING_OFF_CONS), start, __ATOMIC_RELAXED);
        __atomic_store_n(field(h, WARD_RING_OFF_PROD), start, __ATOMIC_RELEASE);
        return WARD_OK;
}

int ward_ring_attach(struct ward_ring *r, void *mem, size_t mem_bytes, uint32_t count,
                     uint32_t slot_size, enum ward_ring_role role)
{
        memset(r, 0, sizeof(*r));
        if (!region_ok(mem, mem_bytes, count, slot_size)) {
                r->broken = true; /* an unattached ring must not be usable */
                return WARD_EINVAL;
        }
        r->hdr = mem;
        r->slots = r->hdr + WARD_RING_HDR_BYTES;
        r->count = count;
        r->mask = count - 1;
        r->slot_size = slot_size;
        r->producer = role == WARD_RING_PRODUCER;
        /* Our own index is read this once, as the starting point, and then kept locally. */
        uint32_t prod = __atomic_load_n(field(r->hdr, WARD_RING_OFF_PROD), __ATOMIC_ACQUIRE);
        uint32_t cons = __atomic_load_n(field(r->hdr, WARD_RING_OFF_CONS), __ATOMIC_ACQUIRE);
        r->own = r->producer ? prod : cons;
        r->peer = r->producer ? cons : prod;
        if (prod - cons > count) {
                r->broken = true;
                return WARD_EBROKEN;
        }
        return WARD_OK;
}

/* Filled slots according to the validated indices. */
static uint32_t filled(const struct ward_ring *r)
{
        return r->producer ? r->own - r->peer : r->peer - r->own;
}

/*
 * Loads and checks the peer's index. Unsigned differences make the checks
 * wrap-safe: for the producer, the consumer must lie in [peer, own]; for the
 * consumer, the producer must lie in [peer, own + count]. Either way the
 * distance between the indices stays within [0, count].
 */
static int refresh(struct ward_ring *r)
{
        if (r->broken)
                return WARD_EBROKEN;
        if (r->producer) {
                uint32_t v = __atomic_load_n(field(r->hdr, WARD_RING_OFF_CONS), __ATOMIC_ACQUIRE);
                if (v - r->peer > r->own - r->peer)
                        goto broken;
                r->peer = v;
        } else {
                uint32_t v = __atomic_load_n(field(r->hdr, WARD_RING_OFF_PROD), __ATOMIC_ACQUIRE);
                if (v - r->own > r->count || v - r->own < r->peer - r->own)
                        goto broken;
                r->peer = v;
        }
        return WARD_OK;
broken:
        r->broken = true;
        return WARD_EBROKEN;
}

static uint8_t *slot_at(const struct ward_ring *r, uint32_t index)
{
        return r->slots + (size_t)(index & r->mask) * r->slot_size;
}

/* Copies n slots into the ring from flat storage, starting at index: at most two runs. */
static void copy_in(const struct ward_ring *r, uint32_t index, const uint8_t *src, uint32_t n)
{
        uint32_t first = WARD_MIN(n, r->count - (index & r->mask));
        size_t a = (size_t)first * r->slot_size;
        memcpy(slot_at(r, index), src, a);
        memcpy(r->slots, src + a, (size_t)(n - first) * r->slot_size);
}

static void copy_out(const struct ward_ring *r, uint32_t index, uint8_t *dst, uint32_t n)
{
        uint32_t first = WARD_MIN(n, r->count - (index & r->mask));
        size_t a = (size_t)first * r->slot_size;
        memcpy(dst, slot_at(r, index), a);
        memcpy(dst + a, r->slots, (size_t)(n - first) * r->slot_size);
}

int ward_ring_push_n(struct ward_ring *r, const void *src, uint32_t n)
{
        if (!r->producer && !r->broken)
                return WARD_EINVAL;
        int rc = refresh(r);
        if (rc != WARD_OK)
                return rc;
        uint32_t k = WARD_MIN(n, r->count - filled(r));
        if (k == 0)
                return 0;
        copy_in(r, r->own, src, k);
        r->own += k;
        __atomic_store_n(field(r->hdr, WARD_RING_OFF_PROD), r->own, __ATOMIC_RELEASE);
        return (int)k;
}

int ward_ring_push(struct ward_ring *r, const void *slot)
{
        return ward_ring_push_n(r, slot, 1);
}

int ward_ring_peek_n(struct ward_ring *r, void *dst, uint32_t n)
{
        if (r->producer && !r->broken)
                return WARD_EINVAL;
        int rc = refresh(r);
        if (rc != WARD_OK)
                return rc;
        uint32_t k = WARD_MIN(n, filled(r));
        if (k > 0)
                copy_out(r, r->own, dst, k);
        return (int)k;
}

int ward_ring_consume(struct ward_ring *r, uint32_t n)
{
        if (r->broken)
                return WARD_EBROKEN;
        if (r->producer)
                return WARD_EINVAL;
        /* Only slots already validated as filled may be released. */
        if (n > filled(r))
                return WARD_EINVAL;
        r->own += n;
        if (n)
                __atomic_store_n(field(r->hdr, WARD_RING_OFF_CONS), r->own, __ATOMIC_RELEASE);
        return WARD_OK;
}

int ward_ring_pop_n(struct ward_ring *r, void *dst, uint32_t n)
{
        int k = ward_ring_peek_n(r, dst, n);
        if (k > 0)
                ward_ring_consume(r, (uint32_t)k);
        return k;
}

int ward_ring_pop(struct ward_ring *r, void *slot)
{
        return ward_ring_pop_n(r, slot, 1);
}

int ward_ring_used(struct ward_ring *r)
{
        int rc = refresh(r);
        return rc != WARD_OK ? rc : (int)filled(r);
}

int ward_ring_room(struct ward_ring *r)
{
        int rc = refresh(r);
        return rc != WARD_OK ? rc : (int)(r->count - filled(r));
}

/* ---- a pair of byte rings ---- */

static size_t second_ring(uint32_t ring_bytes)
{
        return (ward_ring_bytes(ring_bytes, 1) + 63u) & ~(size_t)63u;
}

size_t ward_ring_pair_bytes(uint32_t ring_bytes)
{
        size_t one = ward_ring_bytes(ring_bytes, 1);
        return one ? second_ring(ring_bytes) + one : 0;
}

int ward_ring_pair_format(void *mem, size_t mem_bytes, uint32_t ring_bytes)
{
        size_t need = ward_ring_pair_bytes(ring_bytes);
        if (need == 0 || mem_bytes < need)
                return WARD_EINVAL;
        size_t one = ward_ring_bytes(ring_bytes, 1);
        int rc = ward_ring_format(mem, one, ring_bytes, 1, 0);
        if (rc == WARD_OK)
                rc = ward_ring_format((uint8_t *)mem + second_ring(ring_bytes), one, ring_bytes, 1,
                                      0);
        return rc;
}

int ward_ring_pair_attach(struct ward_ring *out, struct ward_ring *in, void *mem, size_t mem_bytes,
                          uint32_t ring_bytes, bool client)
{
        size_t need = ward_ring_pair_bytes(ring_bytes);
        if (need == 0 || mem_bytes < need) {
                out->broken = in->broken = true;
                return WARD_EINVAL;
        }
        size_t one = ward_ring_bytes(ring_bytes, 1);
        uint8_t *to_server = mem, *to_client = (uint8_t *)mem + second_ring(ring_bytes);
        int rc = ward_ring_attach(out, client ? to_server : to_client, one, ring_bytes, 1,
                                  WARD_RING_PRODUCER);
        int rc2 = ward_ring_attach(in, client ? to_client : to_server, one, ring_bytes, 1,
                                   WARD_RING_CONSUMER);
        return rc != WARD_OK ? rc : rc2;
}
