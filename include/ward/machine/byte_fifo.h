/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A byte FIFO over caller storage: host input waiting for the guest (the
 * UART's receive FIFO, virtio-console's input buffer).
 */
#ifndef WARD_BYTE_FIFO_H
#define WARD_BYTE_FIFO_H

#include "ward/util/util.h"

struct ward_fifo {
        uint8_t *buf;
        uint32_t size;
        uint32_t head;  /* index of the oldest byte */
        uint32_t count; /* bytes stored */
};

static inline void ward_fifo_init(struct ward_fifo *f, uint8_t *buf, uint32_t size)
{
        f->buf = buf;
        f->size = size;
        f->head = 0;
        f->count = 0;
}

static inline uint32_t ward_fifo_room(const struct ward_fifo *f)
{
        return f->size - f->count;
}

/* Appends what fits of src; returns the bytes taken. */
static inline uint32_t ward_fifo_put(struct ward_fifo *f, const void *src, uint32_t len)
{
        const uint8_t *b = src;
        uint32_t n = WARD_MIN(len, ward_fifo_room(f));
        for (uint32_t i = 0; i < n; i++)
                f->buf[(f->head + f->count + i) % f->size] = b[i];
        f->count += n;
        return n;
}

/* The oldest bytes that sit contiguously in storage (up to the wrap). */
static inline uint32_t ward_fifo_run(const struct ward_fifo *f, const uint8_t **p)
{
        *p = f->buf + f->head;
        return WARD_MIN(f->count, f->size - f->head);
}

static inline void ward_fifo_drop(struct ward_fifo *f, uint32_t n)
{
        n = WARD_MIN(n, f->count);
        f->head = (f->head + n) % f->size;
        f->count -= n;
}

static inline void ward_fifo_clear(struct ward_fifo *f)
{
        f->head = 0;
        f->count = 0;
}

#endif
