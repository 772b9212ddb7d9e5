/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fake guest for unit tests: guest RAM in a host buffer, and a driver
 * side for split virtqueues that can build well-formed and hostile rings.
 */
#ifndef WARD_TEST_FAKE_GUEST_H
#define WARD_TEST_FAKE_GUEST_H

#include "ward/machine/gmem.h"
#include "ward/virtio/virtio.h"

#define FG_RAM_BASE 0x40000000ull
#define FG_RAM_SIZE (1u << 20)

/* Ring areas inside fake RAM for queue q (each queue gets 64 KiB). */
#define FG_RING_BASE(q) (FG_RAM_BASE + 0x10000ull * (q))
#define FG_DESC(q) (FG_RING_BASE(q))
#define FG_AVAIL(q) (FG_RING_BASE(q) + 0x4000)
#define FG_USED(q) (FG_RING_BASE(q) + 0x6000)
/* Free buffer area for payloads. */
#define FG_DATA_BASE (FG_RAM_BASE + 0x80000ull)

struct fake_guest {
        uint8_t *ram;
        struct ward_gmem gm;
        uint16_t num[WARD_VIRTIO_MAX_QUEUES];
        uint16_t avail_idx[WARD_VIRTIO_MAX_QUEUES];
        uint16_t used_seen[WARD_VIRTIO_MAX_QUEUES];
        uint64_t data_next; /* bump allocator in the data area */
        unsigned irq_count;
        bool irq_level;
};

/*
 * Zeroed memory of `bytes` (in whole pages) with an inaccessible page on
 * each side, so a device that reaches past either end faults at once;
 * fg_zero_pages zeroes it again by handing the pages back (MADV_DONTNEED),
 * much faster than a memset of what was never touched. Aborts on failure.
 */
void *fg_map_pages(size_t bytes);
void fg_zero_pages(void *p, size_t bytes);
void fg_unmap_pages(void *p, size_t bytes);

void fg_init(struct fake_guest *g);
/* As fg_init, keeping the RAM it has (zeroed again): for fuzzers, which
 * would otherwise allocate and free 1 MiB for every input. */
void fg_reset(struct fake_guest *g);
void fg_free(struct fake_guest *g);
/* Host pointer for a guest address inside fake RAM (test code only). */
void *fg_ptr(struct fake_guest *g, uint64_t gpa);
/* Allocates len bytes in the data area, filled with `fill`. */
uint64_t fg_alloc(struct fake_guest *g, uint32_t len, uint8_t fill);

/* Writes descriptor i of queue q. */
void fg_desc(struct fake_guest *g, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next);
/* Writes entry i of an indirect descriptor table at guest address table. */
void fg_desc_at(struct fake_guest *g, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
                uint16_t flags, uint16_t next);
/* Publishes head on queue q's avail ring. */
void fg_avail(struct fake_guest *g, unsigned q, uint16_t head);
/* Sets the avail index directly (hostile drivers). */
void fg_set_avail_idx(struct fake_guest *g, unsigned q, uint16_t idx);
/* used_event (EVENT_IDX) the driver publishes for queue q. */
void fg_set_used_event(struct fake_guest *g, unsigned q, uint16_t v);
uint16_t fg_avail_event(struct fake_guest *g, unsigned q);
uint16_t fg_used_idx(struct fake_guest *g, unsigned q);
/* Used element k (absolute index) of queue q. */
void fg_used_elem(struct fake_guest *g, unsigned q, uint16_t k, uint32_t *id, uint32_t *len);

/* Configures and enables a queue directly (no transport). */
int fg_vq_setup(struct fake_guest *g, struct ward_vq *vq, unsigned q, uint16_t num, bool event_idx);

/* Transport helpers: 32-bit register access through the MMIO ops. */
uint32_t fg_mmio_read(struct ward_virtio *v, uint64_t off);
void fg_mmio_write(struct ward_virtio *v, uint64_t off, uint32_t val);
/* Runs the driver's initialisation (virtio 3.1.1) for all queues with size num. */
void fg_driver_init(struct fake_guest *g, struct ward_virtio *v, uint64_t features, uint16_t num);
/* The irq callback to pass to ward_virtio_init; opaque is the fake_guest. */
void fg_irq(void *opaque, bool level);

/*
 * Posts one virtio-blk request on queue 0 of v (type, sector, a data
 * buffer of len bytes at gpa data, none when len is 0) in three
 * descriptors from *next (mod qsize), and notifies. Returns the gpa of its
 * status byte (0xee until the device writes it).
 */
uint64_t fg_blk_post(struct fake_guest *g, struct ward_virtio *v, uint16_t *next, uint16_t qsize,
                     uint32_t type, uint64_t sector, uint64_t data, uint32_t len);

#endif
