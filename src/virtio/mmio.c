/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtio-mmio register file (virtio 1.x, 4.2.2), version 2 only. */
#include "ward/virtio/virtio.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_SHM_LEN_LOW 0x0b0
#define REG_SHM_LEN_HIGH 0x0b4
#define REG_SHM_BASE_LOW 0x0b8
#define REG_SHM_BASE_HIGH 0x0bc
#define REG_QUEUE_RESET 0x0c0
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define WARD_VENDOR_ID 0x44524157u    /* "WARD" */

static struct ward_vq *selected_vq(struct ward_virtio *v)
{
        return v->queue_sel < v->nqueues ? &v->vq[v->queue_sel] : NULL;
}

static uint32_t read_reg(struct ward_virtio *v, uint64_t off)
{
        struct ward_vq *vq = selected_vq(v);
        switch (off) {
        case REG_MAGIC:
                return VIRTIO_MMIO_MAGIC;
        case REG_VERSION:
                return 2;
        case REG_DEVICE_ID:
                return v->device_id;
        case REG_VENDOR_ID:
                return WARD_VENDOR_ID;
        case REG_DEVICE_FEATURES:
                return v->dev_features_sel < 2
                           ? (uint32_t)(v->device_features >> (32 * v->dev_features_sel))
                           : 0;
        case REG_QUEUE_NUM_MAX:
                return vq ? v->queue_max : 0;
        case REG_QUEUE_READY:
                return vq ? vq->ready : 0;
        case REG_INTERRUPT_STATUS:
                return v->int_status;
        case REG_STATUS:
                return v->status;
        case REG_QUEUE_DESC_LOW:
                return vq ? (uint32_t)vq->desc_gpa : 0;
        case REG_QUEUE_DESC_HIGH:
                return vq ? (uint32_t)(vq->desc_gpa >> 32) : 0;
        case REG_QUEUE_DRIVER_LOW:
                return vq ? (uint32_t)vq->avail_gpa : 0;
        case REG_QUEUE_DRIVER_HIGH:
                return vq ? (uint32_t)(vq->avail_gpa >> 32) : 0;
        case REG_QUEUE_DEVICE_LOW:
                return vq ? (uint32_t)vq->used_gpa : 0;
        case REG_QUEUE_DEVICE_HIGH:
                return vq ? (uint32_t)(vq->used_gpa >> 32) : 0;
        case REG_SHM_LEN_LOW:
        case REG_SHM_LEN_HIGH:
                return 0xffffffffu; /* no shared memory regions */
        case REG_CONFIG_GENERATION:
                return v->config_generation;
        default:
                return 0;
        }
}

static void set_low(uint64_t *reg, uint32_t val)
{
        *reg = (*reg & ~0xffffffffull) | val;
}
static void set_high(uint64_t *reg, uint32_t val)
{
        *reg = (*reg & 0xffffffffull) | ((uint64_t)val << 32);
}

static void write_status(struct ward_virtio *v, uint32_t val)
{
        if (val == 0) {
                ward_virtio_reset(v);
                return;
        }
        /* NEEDS_RESET is the device's to set: a driver write cannot set it. */
        val &= 0xff & ~(uint32_t)WARD_VIRTIO_S_NEEDS_RESET;
        bool features_ok_now =
            (val & WARD_VIRTIO_S_FEATURES_OK) && !(v->status & WARD_VIRTIO_S_FEATURES_OK);
        if (features_ok_now) {
                uint64_t extra = v->driver_features & ~v->device_features;
                if (extra || !ward_virtio_has_feature(v, WARD_VIRTIO_F_VERSION_1))
                        val &= ~(uint32_t)WARD_VIRTIO_S_FEATURES_OK; /* refuse */
                else if (v->ops && v->ops->features_ok)
                        v->ops->features_ok(v);
        }
        /* ...and only a reset clears it. */
        v->status = val | (v->status & WARD_VIRTIO_S_NEEDS_RESET);
}

static void write_queue_ready(struct ward_virtio *v, struct ward_vq *vq, uint32_t val)
{
        if (!(val & 1)) {
                if (v->ops && v->ops->queue_reset)
                        v->ops->queue_reset(v, (unsigned)(vq - v->vq));
                uint16_t num = vq->num;
                uint64_t d = vq->desc_gpa, a = vq->avail_gpa, u = vq->used_gpa;
                ward_vq_reset(vq);
                vq->num = num;
                vq->desc_gpa = d;
                vq->avail_gpa = a;
                vq->used_gpa = u;
                return;
        }
        if (vq->ready)
                return;
        if (ward_vq_enable(vq, v->gm, v->queue_max,
                           ward_virtio_has_feature(v, WARD_VIRTIO_F_EVENT_IDX)) != WARD_OK)
                ward_virtio_set_needs_reset(v);
}

static void write_reg(struct ward_virtio *v, uint64_t off, uint32_t val)
{
        struct ward_vq *vq = selected_vq(v);
        /* Queue layout may change only while the queue is not ready (4.2.2.3). */
        bool vq_writable = vq && !vq->ready;
        switch (off) {
        case REG_DEVICE_FEATURES_SEL:
                v->dev_features_sel = val;
                break;
        case REG_DRIVER_FEATURES:
                if (v->status & WARD_VIRTIO_S_FEATURES_OK)
                        break; /* too late to change */
                if (v->drv_features_sel == 0)
                        set_low(&v->driver_features, val);
                else if (v->drv_features_sel == 1)
                        set_high(&v->driver_features, val);
                break;
        case REG_DRIVER_FEATURES_SEL:
                v->drv_features_sel = val;
                break;
        case REG_QUEUE_SEL:
                v->queue_sel = val;
                break;
        case REG_QUEUE_NUM:
                if (vq_writable)
                        vq->num = (uint16_t)(val <= 0xffff ? val : 0);
                break;
        case REG_QUEUE_READY:
                if (vq)
                        write_queue_ready(v, vq, val);
                break;
        case REG_QUEUE_NOTIFY:
                ward_virtio_notify(v, val & 0xffff);
                break;
        case REG_INTERRUPT_ACK:
                ward_virtio_ack(v, val);
                break;
        case REG_STATUS:
                write_status(v, val);
                break;
        case REG_QUEUE_DESC_LOW:
                if (vq_writable)
                        set_low(&vq->desc_gpa, val);
                break;
        case REG_QUEUE_DESC_HIGH:
                if (vq_writable)
                        set_high(&vq->desc_gpa, val);
                break;
        case REG_QUEUE_DRIVER_LOW:
                if (vq_writable)
                        set_low(&vq->avail_gpa, val);
                break;
        case REG_QUEUE_DRIVER_HIGH:
                if (vq_writable)
                        set_high(&vq->avail_gpa, val);
                break;
        case REG_QUEUE_DEVICE_LOW:
                if (vq_writable)
                        set_low(&vq->used_gpa, val);
                break;
        case REG_QUEUE_DEVICE_HIGH:
                if (vq_writable)
                        set_high(&vq->used_gpa, val);
                break;
        default:
                break; /* read-only or unknown: ignored */
        }
}

static void mmio_read(void *dev, uint64_t off, void *data, unsigned len)
{
        struct ward_virtio *v = dev;
        if (off >= REG_CONFIG) {
                uint64_t c = off - REG_CONFIG;
                if (c < v->config_len && len <= v->config_len - c)
                        memcpy(data, v->config + c, len);
                return; /* out of range: the bus already zeroed data */
        }
        if (len != 4 || (off & 3))
                return; /* registers are 32-bit only (4.2.2.2) */
        ward_store_len(data, read_reg(v, off), 4);
}

static void mmio_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct ward_virtio *v = dev;
        if (off >= REG_CONFIG) {
                uint64_t c = off - REG_CONFIG;
                if (v->ops->config_write && c < v->config_len && len <= v->config_len - c)
                        v->ops->config_write(v, (uint32_t)c, data, len);
                return;
        }
        if (len != 4 || (off & 3))
                return;
        write_reg(v, off, (uint32_t)ward_load_len(data, 4));
}

const struct ward_mmio_ops ward_virtio_mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
};
