/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A virtio device (virtio 1.x). A device (console, block, entropy) only
 * fills in struct ward_virtio and implements struct ward_virtio_ops; the
 * virtio core (src/virtio/core.c) owns the feature handshake, the queues,
 * notification, used-ring signalling and needs-reset; a transport (today
 * MMIO, version 2 only, src/virtio/mmio.c) maps its registers onto the
 * core. A device never sees a register offset, and the transport never
 * sees a request.
 */
#ifndef WARD_VIRTIO_H
#define WARD_VIRTIO_H

#include "ward/machine/bus.h"
#include "ward/machine/irq.h"
#include "ward/virtio/virtqueue.h"

#define WARD_VIRTIO_MAX_QUEUES 4
#define WARD_VIRTIO_MMIO_SIZE 0x200

/* Feature bits (virtio 1.x, section 6). */
#define WARD_VIRTIO_F_INDIRECT_DESC 28
#define WARD_VIRTIO_F_EVENT_IDX 29
#define WARD_VIRTIO_F_VERSION_1 32

/* Device status bits (section 2.1). */
#define WARD_VIRTIO_S_ACKNOWLEDGE 1
#define WARD_VIRTIO_S_DRIVER 2
#define WARD_VIRTIO_S_DRIVER_OK 4
#define WARD_VIRTIO_S_FEATURES_OK 8
#define WARD_VIRTIO_S_NEEDS_RESET 64
#define WARD_VIRTIO_S_FAILED 128

#define WARD_VIRTIO_INT_USED 1
#define WARD_VIRTIO_INT_CONFIG 2

struct ward_virtio;

struct ward_virtio_ops {
        /* The driver has made buffers available on queue q. */
        void (*queue_notify)(struct ward_virtio *v, unsigned q);
        /* The driver reset the device: drop all in-flight state. */
        void (*reset)(struct ward_virtio *v);
        /* Optional: the driver took queue q down (QueueReady 0): drop what is in
         * flight on it, as a reset does, before the queue is set up again. */
        void (*queue_reset)(struct ward_virtio *v, unsigned q);
        /* Optional: the driver's features are settled (FEATURES_OK accepted). */
        void (*features_ok)(struct ward_virtio *v);
        /* Optional: a write to the device config space (bounds already checked). */
        void (*config_write)(struct ward_virtio *v, uint32_t off, const void *data, unsigned len);
};

struct ward_virtio {
        /* Filled by the device before ward_virtio_init(). */
        uint32_t device_id;
        uint64_t device_features; /* device-specific bits; transport adds its own */
        unsigned nqueues;
        uint16_t queue_max;
        const struct ward_virtio_ops *ops;
        void *dev;
        uint8_t *config;
        uint32_t config_len;

        /* Wiring, filled by the machine. */
        const struct ward_gmem *gm;
        ward_irq_fn irq;
        void *irq_opaque;

        /* Transport state: the driver's view. */
        uint32_t status;
        uint32_t dev_features_sel;
        uint32_t drv_features_sel;
        uint64_t driver_features;
        uint32_t queue_sel;
        uint32_t int_status;
        uint32_t config_generation;
        struct ward_vq vq[WARD_VIRTIO_MAX_QUEUES];
};

extern const struct ward_mmio_ops ward_virtio_mmio_ops;

/* Completes setup: adds transport features and resets the register file. */
void ward_virtio_init(struct ward_virtio *v, const struct ward_gmem *gm, ward_irq_fn irq,
                      void *irq_opaque);
/* The driver's queue notification, when it arrives other than by MMIO (ioeventfd). */
void ward_virtio_notify(struct ward_virtio *v, unsigned q);
/* Interrupts the driver for queue q if its notification suppression allows. */
void ward_virtio_signal_used(struct ward_virtio *v, unsigned q);
/* Resets the device and its queues (the driver wrote 0 to its status). */
void ward_virtio_reset(struct ward_virtio *v);
/* The driver acknowledged the interrupt causes in bits. */
void ward_virtio_ack(struct ward_virtio *v, uint32_t bits);
/* Marks the device as needing a reset and tells the driver (config interrupt). */
void ward_virtio_set_needs_reset(struct ward_virtio *v);
/* True once the driver has set DRIVER_OK and not failed or reset since. */
bool ward_virtio_is_live(const struct ward_virtio *v);
bool ward_virtio_has_feature(const struct ward_virtio *v, unsigned bit);

#endif
