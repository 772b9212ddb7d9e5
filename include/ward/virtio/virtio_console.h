/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * virtio console (virtio 1.x, 5.3), single port, no multiport: the guest's
 * hvc0. Output goes to the backend as it arrives; input is kept in a small
 * buffer until the guest posts receive buffers.
 */
#ifndef WARD_VIRTIO_CONSOLE_H
#define WARD_VIRTIO_CONSOLE_H

#include "ward/machine/byte_fifo.h"
#include "ward/virtio/virtio.h"

#define WARD_VIRTIO_ID_CONSOLE 3
#define WARD_VCONSOLE_INBUF 4096

struct ward_console_backend {
        void (*write)(void *opaque, const void *buf, uint32_t len);
        void *opaque;
};

struct ward_vconsole {
        struct ward_virtio v;
        struct ward_console_backend be;
        uint8_t config[12];
        uint8_t in_buf[WARD_VCONSOLE_INBUF];
        struct ward_fifo in;
        struct ward_chain chain;
};

void ward_vconsole_setup(struct ward_vconsole *c, const struct ward_console_backend *be);
/* Queues host input for the guest; returns the bytes accepted (may be fewer). */
uint32_t ward_vconsole_input(struct ward_vconsole *c, const void *buf, uint32_t len);
uint32_t ward_vconsole_input_room(const struct ward_vconsole *c);

#endif
