/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The split virtqueue (virtio 1.x, section 2.7), device side.
 *
 * Every ring index, descriptor address, length and chain link is guest
 * supplied and hostile. The rules enforced here:
 *  - ring areas are translated once, when the driver marks the queue ready,
 *    and must be aligned and inside guest RAM;
 *  - a descriptor is copied out of guest memory once, then validated, then
 *    used (no double fetch);
 *  - a chain (direct plus indirect) has at most WARD_VQ_MAX_CHAIN
 *    descriptors and may not revisit more descriptors than the table holds,
 *    so loops end;
 *  - device-readable descriptors must precede device-writable ones;
 *  - an avail index that runs more than `num` ahead, or a head index out of
 *    range, marks the queue broken (the transport then sets NEEDS_RESET):
 *    there is no valid id to complete.
 */
#ifndef WARD_VIRTQUEUE_H
#define WARD_VIRTQUEUE_H

#include "ward/machine/gmem.h"

#define WARD_VQ_MAX_SIZE 256
#define WARD_VQ_MAX_CHAIN 256

#define WARD_VRING_DESC_F_NEXT 1
#define WARD_VRING_DESC_F_WRITE 2
#define WARD_VRING_DESC_F_INDIRECT 4
#define WARD_VRING_AVAIL_F_NO_INTERRUPT 1

struct ward_iov {
        uint8_t *base;
        uint32_t len;
};

struct ward_chain {
        uint16_t head;
        uint16_t nout; /* device-readable iovs, at iov[0 .. nout) */
        uint16_t nin;  /* device-writable iovs, at iov[nout .. nout+nin) */
        uint32_t out_len;
        uint32_t in_len;
        struct ward_iov iov[WARD_VQ_MAX_CHAIN];
};

struct ward_vq {
        /* Set by the transport from driver writes. */
        uint16_t num;
        uint64_t desc_gpa, avail_gpa, used_gpa;
        /* Live state, valid while ready. */
        bool ready;
        bool broken;
        bool event_idx;
        uint8_t *desc;
        uint8_t *avail;
        uint8_t *used;
        uint16_t last_avail;
        uint16_t used_idx;
        uint16_t signalled_used;
        bool signalled_valid;
};

/* Forgets everything; queue is not ready. */
void ward_vq_reset(struct ward_vq *vq);
/*
 * Validates the driver's ring configuration and makes the queue live.
 * Returns WARD_OK, or an error leaving the queue not ready.
 */
int ward_vq_enable(struct ward_vq *vq, const struct ward_gmem *gm, uint16_t max_size,
                   bool event_idx);

/*
 * Takes the next available chain.
 *  1           a chain is in *c
 *  0           nothing available (with EVENT_IDX, the driver was asked to
 *              notify on the next buffer)
 *  WARD_EINVAL / WARD_ERANGE  the chain at c->head is malformed: complete it
 *              with ward_vq_push(vq, c->head, 0) and go on
 *  WARD_EBROKEN the queue cannot go on until the driver resets the device
 */
int ward_vq_pop(struct ward_vq *vq, const struct ward_gmem *gm, struct ward_chain *c);
/* Gives back the last n chains popped and not pushed: the next pops return them again. */
void ward_vq_unpop(struct ward_vq *vq, uint16_t n);
/* Returns a chain to the driver with `written` bytes written into it. */
void ward_vq_push(struct ward_vq *vq, uint16_t head, uint32_t written);
/* True when the driver wants an interrupt for what was pushed since last asked. */
bool ward_vq_should_signal(struct ward_vq *vq);

/* Copies between a chain's iovs and flat memory, starting `skip` bytes in. */
uint32_t ward_iov_read(const struct ward_iov *iov, unsigned n, uint32_t skip, void *dst,
                       uint32_t len);
uint32_t ward_iov_write(const struct ward_iov *iov, unsigned n, uint32_t skip, const void *src,
                        uint32_t len);

#endif
