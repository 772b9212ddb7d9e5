/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A 16550A UART over MMIO (byte registers, reg-shift 0): enough for Linux's
 * 8250 driver to use it as earlycon and console (ttyS0). Transmission is
 * instantaneous; the receive FIFO holds host input until the guest reads it.
 */
#ifndef WARD_UART16550_H
#define WARD_UART16550_H

#include "ward/machine/bus.h"
#include "ward/machine/byte_fifo.h"
#include "ward/machine/irq.h"

#define WARD_UART_MMIO_SIZE 0x1000
#define WARD_UART_RX_SIZE 1024
#define WARD_UART_CLOCK_HZ 1843200

struct ward_uart {
        uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
        bool thre_pending; /* "transmitter empty" interrupt latched */
        uint8_t rx_buf[WARD_UART_RX_SIZE];
        struct ward_fifo rx;
        void (*out)(void *opaque, const void *buf, uint32_t len);
        void *out_opaque;
        ward_irq_fn irq;
        void *irq_opaque;
        bool irq_level;
};

extern const struct ward_mmio_ops ward_uart_mmio_ops;

void ward_uart_init(struct ward_uart *u, void (*out)(void *, const void *, uint32_t),
                    void *out_opaque, ward_irq_fn irq, void *irq_opaque);
/* Host input for the guest; returns how many bytes fitted in the FIFO. */
uint32_t ward_uart_input(struct ward_uart *u, const void *buf, uint32_t len);
uint32_t ward_uart_rx_room(const struct ward_uart *u);

#endif
