/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transport-independent part of a virtio device: setup, reset, feature
 * checks, queue notification, used-ring signalling and DEVICE_NEEDS_RESET.
 * A transport (mmio.c) maps its registers onto these; a device never sees
 * either.
 */
#include "ward/virtio/virtio.h"

static void update_irq(struct ward_virtio *v, bool new_event)
{
        if (v->irq && (new_event || v->int_status == 0))
                v->irq(v->irq_opaque, v->int_status != 0);
}

void ward_virtio_reset(struct ward_virtio *v)
{
        if (v->ops && v->ops->reset)
                v->ops->reset(v);
        for (unsigned i = 0; i < WARD_VIRTIO_MAX_QUEUES; i++)
                ward_vq_reset(&v->vq[i]);
        v->status = 0;
        v->dev_features_sel = 0;
        v->drv_features_sel = 0;
        v->driver_features = 0;
        v->queue_sel = 0;
        v->int_status = 0;
        update_irq(v, false);
}

void ward_virtio_init(struct ward_virtio *v, const struct ward_gmem *gm, ward_irq_fn irq,
                      void *irq_opaque)
{
        v->gm = gm;
        v->irq = irq;
        v->irq_opaque = irq_opaque;
        v->device_features |= (1ull << WARD_VIRTIO_F_VERSION_1) |
                              (1ull << WARD_VIRTIO_F_INDIRECT_DESC) |
                              (1ull << WARD_VIRTIO_F_EVENT_IDX);
        if (v->nqueues > WARD_VIRTIO_MAX_QUEUES)
                v->nqueues = WARD_VIRTIO_MAX_QUEUES;
        if (v->queue_max > WARD_VQ_MAX_SIZE)
                v->queue_max = WARD_VQ_MAX_SIZE;
        v->config_generation = 0;
        ward_virtio_reset(v);
}

bool ward_virtio_has_feature(const struct ward_virtio *v, unsigned bit)
{
        return bit < 64 && (v->driver_features >> bit) & 1;
}

bool ward_virtio_is_live(const struct ward_virtio *v)
{
        return (v->status & WARD_VIRTIO_S_DRIVER_OK) &&
               !(v->status & (WARD_VIRTIO_S_FAILED | WARD_VIRTIO_S_NEEDS_RESET));
}

void ward_virtio_set_needs_reset(struct ward_virtio *v)
{
        if (v->status & WARD_VIRTIO_S_NEEDS_RESET)
                return;
        v->status |= WARD_VIRTIO_S_NEEDS_RESET;
        if (v->status & WARD_VIRTIO_S_DRIVER_OK) {
                v->int_status |= WARD_VIRTIO_INT_CONFIG;
                update_irq(v, true);
        }
}

void ward_virtio_signal_used(struct ward_virtio *v, unsigned q)
{
        if (q >= v->nqueues || !ward_vq_should_signal(&v->vq[q]))
                return;
        v->int_status |= WARD_VIRTIO_INT_USED;
        update_irq(v, true);
}

void ward_virtio_notify(struct ward_virtio *v, unsigned q)
{
        if (q >= v->nqueues || !v->vq[q].ready || !ward_virtio_is_live(v))
                return;
        v->ops->queue_notify(v, q);
}

void ward_virtio_ack(struct ward_virtio *v, uint32_t bits)
{
        v->int_status &= ~bits;
        update_irq(v, false);
}
