/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtio-mmio transport (version 2) with a tiny test device behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"

/* Register offsets (virtio 1.x, 4.2.2). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR_ID 0x00c
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DEVICE_LO 0x0a0
#define R_SHM_LEN_LO 0x0b0
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100

#define S_ACK WARD_VIRTIO_S_ACKNOWLEDGE
#define S_DRV WARD_VIRTIO_S_DRIVER
#define S_FOK WARD_VIRTIO_S_FEATURES_OK
#define S_DOK WARD_VIRTIO_S_DRIVER_OK
#define S_NEEDS_RESET WARD_VIRTIO_S_NEEDS_RESET

#define TEST_DEVICE_ID 42
#define TEST_NQUEUES 2
#define TEST_QMAX 16
#define TEST_FEAT_A 0 /* device-specific features the test device offers */
#define TEST_FEAT_B 5
#define V1 (1ull << WARD_VIRTIO_F_VERSION_1)
#define BASE 0x0a000000ull

/* A device with two queues that completes every chain with 7 bytes written. */
struct tdev {
        struct ward_virtio v;
        uint8_t config[8];
        unsigned notified[WARD_VIRTIO_MAX_QUEUES];
        unsigned resets;
        unsigned config_writes;
        uint32_t cw_off;
        unsigned cw_len;
        uint8_t cw_data[8];
        struct ward_chain chain;
};

static void tdev_notify(struct ward_virtio *v, unsigned q)
{
        struct tdev *d = v->dev;
        assert_true(q < TEST_NQUEUES);
        d->notified[q]++;
        while (ward_vq_pop(&v->vq[q], v->gm, &d->chain) == 1)
                ward_vq_push(&v->vq[q], d->chain.head, 7);
        ward_virtio_signal_used(v, q);
}

static void tdev_reset(struct ward_virtio *v)
{
        struct tdev *d = v->dev;
        d->resets++;
}

static void tdev_config_write(struct ward_virtio *v, uint32_t off, const void *data, unsigned len)
{
        struct tdev *d = v->dev;
        d->config_writes++;
        d->cw_off = off;
        d->cw_len = len;
        memcpy(d->cw_data, data, len);
}

static const struct ward_virtio_ops tdev_ops = {
    .queue_notify = tdev_notify,
    .reset = tdev_reset,
    .config_write = tdev_config_write,
};

struct ctx {
        struct fake_guest g;
        struct tdev d;
        struct ward_bus_window storage[1];
        struct ward_bus bus;
};

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        struct tdev *d = &x->d;
        d->v.device_id = TEST_DEVICE_ID;
        d->v.device_features = (1ull << TEST_FEAT_A) | (1ull << TEST_FEAT_B);
        d->v.nqueues = TEST_NQUEUES;
        d->v.queue_max = TEST_QMAX;
        d->v.ops = &tdev_ops;
        d->v.dev = d;
        for (int i = 0; i < 8; i++)
                d->config[i] = (uint8_t)(0x10 + i);
        d->v.config = d->config;
        d->v.config_len = sizeof(d->config);
        ward_virtio_init(&d->v, &x->g.gm, fg_irq, &x->g);
        ward_bus_init(&x->bus, x->storage, 1);
        assert_int_equal(
            ward_bus_register(&x->bus, BASE, WARD_VIRTIO_MMIO_SIZE, &ward_virtio_mmio_ops, d),
            WARD_OK);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static uint32_t rd(struct ctx *x, uint64_t off)
{
        return fg_mmio_read(&x->d.v, off);
}

static void wr(struct ctx *x, uint64_t off, uint32_t val)
{
        fg_mmio_write(&x->d.v, off, val);
}

/* A sized access through the bus, as a vCPU exit would make it. */
static uint64_t bus_rd(struct ctx *x, uint64_t off, unsigned len)
{
        uint8_t b[8];
        memset(b, 0xee, sizeof(b));
        assert_int_equal(ward_bus_access(&x->bus, BASE + off, false, b, len), WARD_BUS_HANDLED);
        return ward_load_len(b, len);
}

static void bus_wr(struct ctx *x, uint64_t off, uint64_t val, unsigned len)
{
        uint8_t b[8];
        ward_store_len(b, val, len);
        assert_int_equal(ward_bus_access(&x->bus, BASE + off, true, b, len), WARD_BUS_HANDLED);
}

/* Driver steps up to FEATURES_OK with the given feature bits; returns the status read back. */
static uint32_t negotiate(struct ctx *x, uint64_t features)
{
        wr(x, R_STATUS, 0);
        wr(x, R_STATUS, S_ACK);
        wr(x, R_STATUS, S_ACK | S_DRV);
        wr(x, R_DRV_FEAT_SEL, 0);
        wr(x, R_DRV_FEAT, (uint32_t)features);
        wr(x, R_DRV_FEAT_SEL, 1);
        wr(x, R_DRV_FEAT, (uint32_t)(features >> 32));
        wr(x, R_STATUS, S_ACK | S_DRV | S_FOK);
        return rd(x, R_STATUS);
}

/* Configures queue q at the fake guest's ring addresses without making it ready. */
static void queue_config(struct ctx *x, unsigned q, uint32_t num)
{
        wr(x, R_QUEUE_SEL, q);
        wr(x, R_QUEUE_NUM, num);
        wr(x, R_DESC_LO, (uint32_t)FG_DESC(q));
        wr(x, R_DESC_HI, 0);
        wr(x, R_DRIVER_LO, (uint32_t)FG_AVAIL(q));
        wr(x, R_DRIVER_LO + 4, 0);
        wr(x, R_DEVICE_LO, (uint32_t)FG_USED(q));
        wr(x, R_DEVICE_LO + 4, 0);
        x->g.num[q] = (uint16_t)num;
        x->g.avail_idx[q] = 0;
}

/* Posts one writable buffer on queue q (descriptor 0) and notifies. */
static void post_and_notify(struct ctx *x, unsigned q)
{
        uint64_t b = fg_alloc(&x->g, 16, 0);
        fg_desc(&x->g, q, 0, b, 16, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(&x->g, q, 0);
        wr(x, R_QUEUE_NOTIFY, q);
}

static void identity_registers(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(rd(x, R_MAGIC), 0x74726976);
        assert_int_equal(rd(x, R_VERSION), 2);
        assert_int_equal(rd(x, R_DEVICE_ID), TEST_DEVICE_ID);
        assert_int_equal(rd(x, R_VENDOR_ID), 0x44524157);
        assert_int_equal(rd(x, R_STATUS), 0);
        assert_int_equal(rd(x, R_CONFIG_GEN), 0);
        assert_int_equal(rd(x, R_SHM_LEN_LO), 0xffffffffu); /* no shared memory */
        /* Unknown registers read as zero; writes to read-only ones change nothing. */
        assert_int_equal(rd(x, 0x0f0), 0);
        wr(x, R_MAGIC, 0);
        wr(x, R_DEVICE_ID, 7);
        assert_int_equal(rd(x, R_MAGIC), 0x74726976);
        assert_int_equal(rd(x, R_DEVICE_ID), TEST_DEVICE_ID);
}

static void device_features_are_offered_with_transport_bits(void **state)
{
        struct ctx *x = *state;
        wr(x, R_DEV_FEAT_SEL, 0);
        /* Device bits 0 and 5, plus INDIRECT_DESC (28) and EVENT_IDX (29). */
        assert_int_equal(rd(x, R_DEV_FEAT), 0x30000021u);
        wr(x, R_DEV_FEAT_SEL, 1);
        assert_int_equal(rd(x, R_DEV_FEAT), 0x1u); /* VERSION_1 */
        wr(x, R_DEV_FEAT_SEL, 2);
        assert_int_equal(rd(x, R_DEV_FEAT), 0);
        wr(x, R_DEV_FEAT_SEL, 0xffffffffu);
        assert_int_equal(rd(x, R_DEV_FEAT), 0);
}

static void features_ok_refused_for_unknown_bits(void **state)
{
        struct ctx *x = *state;
        /* Bit 1 is not offered by the device. */
        assert_int_equal(negotiate(x, V1 | (1ull << TEST_FEAT_A) | (1ull << 1)), S_ACK | S_DRV);
        /* A bit in the high word the device does not have (33). */
        assert_int_equal(negotiate(x, V1 | (1ull << 33)), S_ACK | S_DRV);
        /* Feature select 2 and above do not exist: writes there change nothing. */
        wr(x, R_DRV_FEAT_SEL, 2);
        wr(x, R_DRV_FEAT, 0xffffffffu);
        assert_false(ward_virtio_has_feature(&x->d.v, TEST_FEAT_A));
        assert_true(ward_virtio_has_feature(&x->d.v, 32));
        assert_true(ward_virtio_has_feature(&x->d.v, 33));
        assert_false(ward_virtio_has_feature(&x->d.v, 34));
}

static void features_ok_refused_without_version_1(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, 1ull << TEST_FEAT_A), S_ACK | S_DRV);
        assert_int_equal(negotiate(x, 0), S_ACK | S_DRV);
}

static void features_ok_accepted_and_then_frozen(void **state)
{
        struct ctx *x = *state;
        uint64_t want = V1 | (1ull << TEST_FEAT_B) | (1ull << WARD_VIRTIO_F_EVENT_IDX);
        assert_int_equal(negotiate(x, want), S_ACK | S_DRV | S_FOK);
        assert_true(ward_virtio_has_feature(&x->d.v, WARD_VIRTIO_F_VERSION_1));
        assert_true(ward_virtio_has_feature(&x->d.v, TEST_FEAT_B));
        assert_true(ward_virtio_has_feature(&x->d.v, WARD_VIRTIO_F_EVENT_IDX));
        assert_false(ward_virtio_has_feature(&x->d.v, TEST_FEAT_A));
        assert_false(ward_virtio_has_feature(&x->d.v, 200));
        /* After FEATURES_OK the driver's features may not change. */
        wr(x, R_DRV_FEAT_SEL, 0);
        wr(x, R_DRV_FEAT, 1u << TEST_FEAT_A);
        assert_false(ward_virtio_has_feature(&x->d.v, TEST_FEAT_A));
        assert_true(ward_virtio_has_feature(&x->d.v, TEST_FEAT_B));
}

static void features_ok_retry_after_refusal(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1 | (1ull << 3)), S_ACK | S_DRV);
        /* The driver drops the offending bit and tries again without a reset. */
        wr(x, R_DRV_FEAT_SEL, 0);
        wr(x, R_DRV_FEAT, 1u << TEST_FEAT_A);
        wr(x, R_STATUS, S_ACK | S_DRV | S_FOK);
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK);
        assert_true(ward_virtio_has_feature(&x->d.v, TEST_FEAT_A));
}

static void queue_setup_and_readback(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        for (unsigned q = 0; q < TEST_NQUEUES; q++) {
                wr(x, R_QUEUE_SEL, q);
                assert_int_equal(rd(x, R_QUEUE_NUM_MAX), TEST_QMAX);
                assert_int_equal(rd(x, R_QUEUE_READY), 0);
                queue_config(x, q, 8);
                wr(x, R_DESC_HI, 0x12); /* high halves are kept */
                assert_int_equal(rd(x, R_DESC_LO), (uint32_t)FG_DESC(q));
                assert_int_equal(rd(x, R_DESC_HI), 0x12);
                assert_int_equal(rd(x, R_DRIVER_LO), (uint32_t)FG_AVAIL(q));
                assert_int_equal(rd(x, R_DEVICE_LO), (uint32_t)FG_USED(q));
                wr(x, R_DESC_HI, 0);
                wr(x, R_QUEUE_READY, 1);
                assert_int_equal(rd(x, R_QUEUE_READY), 1);
                assert_true(x->d.v.vq[q].ready);
                assert_int_equal(x->d.v.vq[q].num, 8);
        }
        wr(x, R_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
        assert_true(ward_virtio_is_live(&x->d.v));
        /* Both queues work: the device completes a buffer on each. */
        post_and_notify(x, 1);
        post_and_notify(x, 0);
        assert_int_equal(x->d.notified[0], 1);
        assert_int_equal(x->d.notified[1], 1);
        uint32_t id, len;
        assert_int_equal(fg_used_idx(&x->g, 1), 1);
        fg_used_elem(&x->g, 1, 0, &id, &len);
        assert_int_equal(id, 0);
        assert_int_equal(len, 7);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
}

static void queue_ready_with_ring_outside_ram_needs_reset(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        queue_config(x, 0, 8);
        wr(x, R_DESC_LO, (uint32_t)(FG_RAM_BASE + FG_RAM_SIZE - 64)); /* 128 bytes needed */
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_false(x->d.v.vq[0].ready);
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK | S_NEEDS_RESET);
        /* Before DRIVER_OK there is no config interrupt. */
        assert_int_equal(rd(x, R_INT_STATUS), 0);
        assert_int_equal(x->g.irq_count, 0);
        /* NEEDS_RESET sticks through the driver's status writes; the device is not live. */
        wr(x, R_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK | S_DOK | S_NEEDS_RESET);
        assert_false(ward_virtio_is_live(&x->d.v));
        /* Only a reset clears it. */
        wr(x, R_STATUS, 0);
        assert_int_equal(rd(x, R_STATUS), 0);
}

static void queue_ready_with_bad_size_needs_reset(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        queue_config(x, 0, TEST_QMAX * 2); /* above QueueNumMax */
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_int_equal(rd(x, R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);

        wr(x, R_STATUS, 0);
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        queue_config(x, 0, 6); /* not a power of two */
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_int_equal(rd(x, R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);

        wr(x, R_STATUS, 0);
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        queue_config(x, 0, 0x10008); /* does not fit QueueNum's 16 bits */
        assert_int_equal(x->d.v.vq[0].num, 0);
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_int_equal(rd(x, R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
}

static void needs_reset_after_driver_ok_raises_config_interrupt(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        assert_true(ward_virtio_is_live(&x->d.v));
        /* Queue 1 is disabled by the driver, then re-enabled with a ring outside RAM. */
        wr(x, R_QUEUE_SEL, 1);
        wr(x, R_QUEUE_READY, 0);
        wr(x, R_DEVICE_LO, 0x1000); /* below RAM */
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_int_equal(rd(x, R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
        assert_int_equal(rd(x, R_INT_STATUS), WARD_VIRTIO_INT_CONFIG);
        assert_int_equal(x->g.irq_count, 1);
        assert_true(x->g.irq_level);
        assert_false(ward_virtio_is_live(&x->d.v));
        /* Notifications are not delivered to a device that needs a reset. */
        post_and_notify(x, 0);
        assert_int_equal(x->d.notified[0], 0);
}

static void queue_layout_frozen_while_ready(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        struct ward_vq *vq = &x->d.v.vq[0];
        uint8_t *desc = vq->desc;
        wr(x, R_QUEUE_SEL, 0);
        /* A running queue ignores layout writes (4.2.2.3). */
        wr(x, R_QUEUE_NUM, 4);
        wr(x, R_DESC_LO, (uint32_t)FG_DESC(2));
        wr(x, R_DESC_HI, 1);
        wr(x, R_DRIVER_LO, (uint32_t)FG_AVAIL(2));
        wr(x, R_DEVICE_LO, (uint32_t)FG_USED(2));
        assert_int_equal(rd(x, R_DESC_LO), (uint32_t)FG_DESC(0));
        assert_int_equal(rd(x, R_DESC_HI), 0);
        assert_int_equal(rd(x, R_DRIVER_LO), (uint32_t)FG_AVAIL(0));
        assert_int_equal(rd(x, R_DEVICE_LO), (uint32_t)FG_USED(0));
        assert_int_equal(vq->num, 8);
        assert_ptr_equal(vq->desc, desc);
        /* Writing ready=1 again while ready changes nothing either. */
        wr(x, R_QUEUE_READY, 1);
        assert_true(vq->ready);
        assert_ptr_equal(vq->desc, desc);
        /* The queue still serves requests from its original rings. */
        post_and_notify(x, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);

        /* Disabled, the layout is kept and writable; enabled again it takes effect. */
        wr(x, R_QUEUE_READY, 0);
        assert_int_equal(rd(x, R_QUEUE_READY), 0);
        assert_int_equal(rd(x, R_DESC_LO), (uint32_t)FG_DESC(0));
        assert_int_equal(vq->num, 8);
        wr(x, R_QUEUE_NUM, 4);
        wr(x, R_DESC_LO, (uint32_t)FG_DESC(2));
        wr(x, R_DRIVER_LO, (uint32_t)FG_AVAIL(2));
        wr(x, R_DEVICE_LO, (uint32_t)FG_USED(2));
        wr(x, R_QUEUE_READY, 1);
        assert_int_equal(rd(x, R_QUEUE_READY), 1);
        assert_int_equal(vq->num, 4);
        assert_ptr_equal(vq->desc, fg_ptr(&x->g, FG_DESC(2)));
        assert_int_equal(rd(x, R_STATUS) & S_NEEDS_RESET, 0);
}

static void queue_sel_out_of_range(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        const uint32_t sels[] = {TEST_NQUEUES, WARD_VIRTIO_MAX_QUEUES, 0xffffffffu};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(sels); i++) {
                wr(x, R_QUEUE_SEL, sels[i]);
                assert_int_equal(rd(x, R_QUEUE_NUM_MAX), 0);
                wr(x, R_QUEUE_NUM, 8);
                wr(x, R_DESC_LO, (uint32_t)FG_DESC(2));
                wr(x, R_DRIVER_LO, (uint32_t)FG_AVAIL(2));
                wr(x, R_DEVICE_LO, (uint32_t)FG_USED(2));
                wr(x, R_QUEUE_READY, 1);
                assert_int_equal(rd(x, R_QUEUE_READY), 0);
                assert_int_equal(rd(x, R_DESC_LO), 0);
                assert_int_equal(rd(x, R_DRIVER_LO), 0);
                assert_int_equal(rd(x, R_DEVICE_LO), 0);
        }
        /* The queue slots the device does not use stay untouched. */
        for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++) {
                assert_false(x->d.v.vq[q].ready);
                assert_int_equal(x->d.v.vq[q].num, 0);
                assert_int_equal(x->d.v.vq[q].desc_gpa, 0);
        }
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK);
}

static void reset_clears_everything(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1 | (1ull << TEST_FEAT_A), 8);
        post_and_notify(x, 0);
        assert_int_equal(rd(x, R_INT_STATUS), WARD_VIRTIO_INT_USED);
        assert_true(x->g.irq_level);
        wr(x, R_QUEUE_SEL, 1);
        wr(x, R_DEV_FEAT_SEL, 1);
        unsigned resets = x->d.resets;

        wr(x, R_STATUS, 0);
        assert_int_equal(x->d.resets, resets + 1);
        assert_int_equal(rd(x, R_STATUS), 0);
        assert_int_equal(rd(x, R_INT_STATUS), 0);
        assert_false(x->g.irq_level); /* the line was lowered */
        assert_false(ward_virtio_has_feature(&x->d.v, WARD_VIRTIO_F_VERSION_1));
        assert_false(ward_virtio_has_feature(&x->d.v, TEST_FEAT_A));
        assert_int_equal(rd(x, R_DEV_FEAT), 0x30000021u); /* selector back to 0 */
        for (unsigned q = 0; q < TEST_NQUEUES; q++) {
                wr(x, R_QUEUE_SEL, q);
                assert_int_equal(rd(x, R_QUEUE_READY), 0);
                assert_int_equal(rd(x, R_DESC_LO), 0);
                assert_int_equal(rd(x, R_DRIVER_LO), 0);
                assert_int_equal(rd(x, R_DEVICE_LO), 0);
                assert_int_equal(x->d.v.vq[q].num, 0);
        }
        assert_false(ward_virtio_is_live(&x->d.v));
        /* A notify after reset reaches nothing. */
        wr(x, R_QUEUE_NOTIFY, 0);
        assert_int_equal(x->d.notified[0], 1);
        /* And the device can be brought up again, on fresh rings. */
        memset(fg_ptr(&x->g, FG_RING_BASE(0)), 0, 0x10000);
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        assert_true(ward_virtio_is_live(&x->d.v));
        post_and_notify(x, 0);
        assert_int_equal(x->d.notified[0], 2);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
}

static void non_32bit_register_access_is_ignored(void **state)
{
        struct ctx *x = *state;
        /* Reads of 1, 2 and 8 bytes, and a misaligned 4-byte read, give zero. */
        assert_int_equal(bus_rd(x, R_MAGIC, 4), 0x74726976);
        assert_int_equal(bus_rd(x, R_MAGIC, 1), 0);
        assert_int_equal(bus_rd(x, R_MAGIC, 2), 0);
        assert_int_equal(bus_rd(x, R_MAGIC, 8), 0);
        assert_int_equal(bus_rd(x, R_MAGIC + 2, 4), 0);
        assert_int_equal(bus_rd(x, R_VERSION + 1, 1), 0);
        /* Writes of the wrong width change nothing. */
        bus_wr(x, R_STATUS, S_ACK, 1);
        bus_wr(x, R_STATUS, S_ACK, 2);
        bus_wr(x, R_STATUS, S_ACK, 8);
        bus_wr(x, R_STATUS + 1, S_ACK, 4);
        assert_int_equal(rd(x, R_STATUS), 0);
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        uint64_t b = fg_alloc(&x->g, 16, 0);
        fg_desc(&x->g, 0, 0, b, 16, WARD_VRING_DESC_F_WRITE, 0);
        fg_avail(&x->g, 0, 0);
        bus_wr(x, R_QUEUE_NOTIFY, 0, 2);
        bus_wr(x, R_QUEUE_NOTIFY, 0, 8);
        assert_int_equal(x->d.notified[0], 0);
        bus_wr(x, R_STATUS, 0, 1); /* not a reset */
        assert_true(ward_virtio_is_live(&x->d.v));
        bus_wr(x, R_QUEUE_NOTIFY, 0, 4);
        assert_int_equal(x->d.notified[0], 1);
}

static void config_space_access(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(bus_rd(x, R_CONFIG, 4), 0x13121110u);
        assert_int_equal(bus_rd(x, R_CONFIG, 8), 0x1716151413121110ull);
        assert_int_equal(bus_rd(x, R_CONFIG + 1, 2), 0x1211);
        assert_int_equal(bus_rd(x, R_CONFIG + 7, 1), 0x17);
        /* Past the end, or straddling it: zero. */
        assert_int_equal(bus_rd(x, R_CONFIG + 7, 2), 0);
        assert_int_equal(bus_rd(x, R_CONFIG + 4, 8), 0);
        assert_int_equal(bus_rd(x, R_CONFIG + 8, 1), 0);
        assert_int_equal(bus_rd(x, WARD_VIRTIO_MMIO_SIZE - 8, 8), 0);

        bus_wr(x, R_CONFIG + 6, 0xbeef, 2);
        assert_int_equal(x->d.config_writes, 1);
        assert_int_equal(x->d.cw_off, 6);
        assert_int_equal(x->d.cw_len, 2);
        assert_int_equal(ward_le32(x->d.cw_data) & 0xffff, 0xbeef);
        bus_wr(x, R_CONFIG + 7, 0xbeef, 2);
        bus_wr(x, R_CONFIG + 8, 1, 1);
        bus_wr(x, R_CONFIG + 0x80, 1, 4);
        assert_int_equal(x->d.config_writes, 1);
}

static void config_write_without_handler_is_ignored(void **state)
{
        struct ctx *x = *state;
        static const struct ward_virtio_ops ro_ops = {
            .queue_notify = tdev_notify,
            .reset = tdev_reset,
        };
        x->d.v.ops = &ro_ops;
        bus_wr(x, R_CONFIG, 0xffffffffu, 4);
        assert_int_equal(bus_rd(x, R_CONFIG, 4), 0x13121110u);
        assert_int_equal(x->d.config_writes, 0);
}

static void interrupt_status_and_ack(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        assert_int_equal(x->g.irq_count, 0);
        post_and_notify(x, 0);
        assert_int_equal(rd(x, R_INT_STATUS), WARD_VIRTIO_INT_USED);
        assert_int_equal(x->g.irq_count, 1);
        assert_true(x->g.irq_level);
        ward_virtio_set_needs_reset(&x->d.v);
        assert_int_equal(rd(x, R_INT_STATUS), WARD_VIRTIO_INT_USED | WARD_VIRTIO_INT_CONFIG);
        assert_int_equal(x->g.irq_count, 2);
        /* Acknowledging one cause keeps the line up; both lowers it. */
        wr(x, R_INT_ACK, WARD_VIRTIO_INT_USED);
        assert_int_equal(rd(x, R_INT_STATUS), WARD_VIRTIO_INT_CONFIG);
        assert_true(x->g.irq_level);
        wr(x, R_INT_ACK, WARD_VIRTIO_INT_CONFIG);
        assert_int_equal(rd(x, R_INT_STATUS), 0);
        assert_false(x->g.irq_level);
        assert_int_equal(x->g.irq_count, 2);
        /* The interrupt status register itself is read-only. */
        wr(x, R_INT_STATUS, 3);
        assert_int_equal(rd(x, R_INT_STATUS), 0);
}

static void no_interrupt_when_driver_suppresses(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        uint8_t *avail = fg_ptr(&x->g, FG_AVAIL(0));
        avail[0] = WARD_VRING_AVAIL_F_NO_INTERRUPT;
        post_and_notify(x, 0);
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        assert_int_equal(rd(x, R_INT_STATUS), 0);
        assert_int_equal(x->g.irq_count, 0);
}

static void notify_out_of_range_is_harmless(void **state)
{
        struct ctx *x = *state;
        fg_driver_init(&x->g, &x->d.v, V1, 8);
        const uint32_t qs[] = {TEST_NQUEUES, WARD_VIRTIO_MAX_QUEUES, 0xffff, 0xfffe};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(qs); i++)
                wr(x, R_QUEUE_NOTIFY, qs[i]);
        ward_virtio_notify(&x->d.v, 1000);
        for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                assert_int_equal(x->d.notified[q], 0);
        assert_int_equal(rd(x, R_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
        /* Signalling a queue that does not exist does nothing either. */
        ward_virtio_signal_used(&x->d.v, TEST_NQUEUES);
        assert_int_equal(rd(x, R_INT_STATUS), 0);
        wr(x, R_QUEUE_NOTIFY, 1);
        assert_int_equal(x->d.notified[1], 1);
}

static void notify_before_driver_ok_is_dropped(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(negotiate(x, V1), S_ACK | S_DRV | S_FOK);
        queue_config(x, 0, 8);
        wr(x, R_QUEUE_READY, 1);
        wr(x, R_QUEUE_NOTIFY, 0);
        assert_int_equal(x->d.notified[0], 0);
        wr(x, R_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
        wr(x, R_QUEUE_NOTIFY, 0);
        assert_int_equal(x->d.notified[0], 1);
        /* A queue that is not ready is not notified. */
        wr(x, R_QUEUE_NOTIFY, 1);
        assert_int_equal(x->d.notified[1], 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(identity_registers),
            T(device_features_are_offered_with_transport_bits),
            T(features_ok_refused_for_unknown_bits),
            T(features_ok_refused_without_version_1),
            T(features_ok_accepted_and_then_frozen),
            T(features_ok_retry_after_refusal),
            T(queue_setup_and_readback),
            T(queue_ready_with_ring_outside_ram_needs_reset),
            T(queue_ready_with_bad_size_needs_reset),
            T(needs_reset_after_driver_ok_raises_config_interrupt),
            T(queue_layout_frozen_while_ready),
            T(queue_sel_out_of_range),
            T(reset_clears_everything),
            T(non_32bit_register_access_is_ignored),
            T(config_space_access),
            T(config_write_without_handler_is_ignored),
            T(interrupt_status_and_ack),
            T(no_interrupt_when_driver_suppresses),
            T(notify_out_of_range_is_harmless),
            T(notify_before_driver_ok_is_dropped),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
