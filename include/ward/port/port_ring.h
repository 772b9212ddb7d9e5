/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A single-producer single-consumer ring of fixed-size slots in memory
 * shared with another process (Linux) or protection domain (seL4): the data
 * plane of a remote backend port.
 *
 * The peer is not trusted. It may write any value into the shared header or
 * the slots at any moment. So:
 *  - the geometry (slot count, slot size) comes from the local side's
 *    configuration; the copy in the shared header is informational and is
 *    never read back;
 *  - each side keeps its own index locally and only ever stores it; it
 *    never re-reads it from shared memory, where the peer could change it;
 *  - the peer's index is loaded once per operation (acquire) and checked:
 *    the producer may run at most `count` slots ahead of the consumer, and
 *    neither index may move backwards. A violation marks the ring broken,
 *    and a broken ring stays broken (every call returns WARD_EBROKEN);
 *  - slots are copied out into caller storage before the caller looks at
 *    them, and slot addresses are computed from the local index modulo the
 *    local count, so no shared value ever becomes an address.
 *
 * A zero-filled region is a valid empty ring (both indices 0), which is
 * what a Microkit memory region looks like at boot: ward_ring_format() is
 * optional there. Indices are free-running 32-bit counters that wrap.
 *
 * Shared layout, WARD_RING_HDR_BYTES of header then `count` slots:
 *   +0   producer index (written by the producer only)
 *   +4   slot count, +8 slot size, +12 magic (informational)
 *   +64  consumer index (written by the consumer only; own cache line)
 *   +128 slot 0, slot 1, ...
 */
#ifndef WARD_PORT_RING_H
#define WARD_PORT_RING_H

#include "ward/util/util.h"

#define WARD_RING_HDR_BYTES 128u
#define WARD_RING_OFF_PROD 0u
#define WARD_RING_OFF_COUNT 4u
#define WARD_RING_OFF_SLOT_SIZE 8u
#define WARD_RING_OFF_MAGIC 12u
#define WARD_RING_OFF_CONS 64u
#define WARD_RING_MAGIC 0x676e6972u /* "ring" */
/* Limits keep counts representable as a positive int and sizes in 32 bits. */
#define WARD_RING_MAX_SLOTS (1u << 24)
#define WARD_RING_MAX_SLOT_SIZE 4096u

enum ward_ring_role {
        WARD_RING_PRODUCER,
        WARD_RING_CONSUMER,
};

/* One side's private view of a shared ring. */
struct ward_ring {
        uint8_t *hdr;   /* shared */
        uint8_t *slots; /* shared */
        uint32_t count; /* local configuration */
        uint32_t mask;
        uint32_t slot_size;
        uint32_t own;  /* our index: authoritative, never re-read */
        uint32_t peer; /* the peer's index as last validated */
        bool producer;
        bool broken;
};

/* Bytes a ring needs (header and slots), or 0 for an invalid geometry. */
size_t ward_ring_bytes(uint32_t count, uint32_t slot_size);

/*
 * Initialises a ring's header in `mem` before either side attaches: both
 * indices set to `start` (tests start near UINT32_MAX to cover wrap-around)
 * and the informational geometry. Returns WARD_EINVAL for a bad geometry or
 * a region too small.
 */
int ward_ring_format(void *mem, size_t mem_bytes, uint32_t count, uint32_t slot_size,
                     uint32_t start);

/*
 * Attaches one side. mem must be 4-byte aligned (64 is better: the indices
 * then sit on their own cache lines). The indices found in shared memory are
 * the starting point; if they are already inconsistent the ring is broken
 * and WARD_EBROKEN is returned. WARD_EINVAL: bad geometry, region too small,
 * or misaligned.
 */
int ward_ring_attach(struct ward_ring *r, void *mem, size_t mem_bytes, uint32_t count,
                     uint32_t slot_size, enum ward_ring_role role);

/*
 * Producer: copies up to n slots from src (n * slot_size bytes) into the
 * ring and publishes them. Returns the slots pushed (0 when full) or
 * WARD_EBROKEN.
 */
int ward_ring_push_n(struct ward_ring *r, const void *src, uint32_t n);
/* Producer: one slot. 1 pushed, 0 full, or WARD_EBROKEN. */
int ward_ring_push(struct ward_ring *r, const void *slot);

/*
 * Consumer: copies up to n slots out into dst and releases them to the
 * producer. Returns the slots popped (0 when empty) or WARD_EBROKEN.
 */
int ward_ring_pop_n(struct ward_ring *r, void *dst, uint32_t n);
/* Consumer: one slot. 1 popped, 0 empty, or WARD_EBROKEN. */
int ward_ring_pop(struct ward_ring *r, void *slot);
/*
 * Consumer: copies up to n slots out without releasing them, so a caller
 * that cannot take everything (backpressure) can consume only what it used.
 */
int ward_ring_peek_n(struct ward_ring *r, void *dst, uint32_t n);
/* Consumer: releases n slots previously peeked; WARD_EINVAL if n is too many. */
int ward_ring_consume(struct ward_ring *r, uint32_t n);

/* Filled slots (either side), after reading the peer's index; or WARD_EBROKEN. */
int ward_ring_used(struct ward_ring *r);
/* Free slots (either side); or WARD_EBROKEN. */
int ward_ring_room(struct ward_ring *r);

/*
 * A pair of byte rings (1-byte slots), one each way, in one shared region:
 * the client -> server ring at +0, the server -> client ring at the next
 * 64-byte boundary. The console and network ports are such pairs.
 */
/* Bytes the pair needs, or 0 for an invalid ring size. */
size_t ward_ring_pair_bytes(uint32_t ring_bytes);
/* Resets both rings (optional for zero-filled memory). */
int ward_ring_pair_format(void *mem, size_t mem_bytes, uint32_t ring_bytes);
/* Attaches one side: out is the ring it produces into, in the one it consumes. */
int ward_ring_pair_attach(struct ward_ring *out, struct ward_ring *in, void *mem, size_t mem_bytes,
                          uint32_t ring_bytes, bool client);

static inline bool ward_ring_is_broken(const struct ward_ring *r)
{
        return r->broken;
}

#endif
