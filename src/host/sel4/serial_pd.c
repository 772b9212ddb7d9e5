/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The serial protection domain: drives QEMU virt's PL011 UART and serves
 * the console ports of one or two VMMs (SERIAL_CLIENTS). Output of every
 * VM goes to the UART; typed input goes to the first VM. The VMM never touches the UART: guest
 * console bytes arrive on the port's ring, typed bytes go back on the other ring, and notifications
 * say when to look. This PD formats the shared region at init (it runs at a higher priority than
 * the VMM, so first).
 */
#include <microkit.h>

#include "guest_layout.h"

#include "ward/port/port_console.h"

#ifndef SERIAL_CLIENTS
#define SERIAL_CLIENTS 1
#endif
#define CH_VMM 1 /* first VMM */
#define CH_UART_IRQ 2
#define CH_VMM_B 3 /* second VMM, if any */

/* PL011 registers (ARM DDI 0183). */
#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIMSC 0x038
#define UARTICR 0x044
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define IMSC_RXIM (1u << 4)
#define IMSC_RTIM (1u << 6)

uintptr_t uart_base;           /* setvar: the PL011's registers */
uintptr_t serial_port_vaddr;   /* setvar: the region shared with the first VMM */
uintptr_t serial_port_b_vaddr; /* setvar: ... with the second VMM */

static struct ward_console_port port[SERIAL_CLIENTS];

static volatile uint32_t *reg(uint32_t off)
{
        return (volatile uint32_t *)(uart_base + off);
}

static void notify_vmm(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

/* Sends the VMM's bytes to the UART (busy-waits on a full FIFO: it drains fast). */
static uint32_t to_uart(void *o, const void *buf, uint32_t len)
{
        (void)o;
        const uint8_t *b = buf;
        for (uint32_t i = 0; i < len; i++) {
                while (*reg(UARTFR) & FR_TXFF)
                        ;
                *reg(UARTDR) = b[i];
        }
        return len;
}

static void from_uart(void)
{
        uint8_t buf[64];
        uint32_t n = 0;
        while (!(*reg(UARTFR) & FR_RXFE) && n < sizeof(buf))
                buf[n++] = (uint8_t)*reg(UARTDR);
        if (n)
                ward_console_port_write(&port[0], buf, n); /* notifies the VMM */
}

void init(void)
{
        static const microkit_channel ch[2] = {CH_VMM, CH_VMM_B};
        uintptr_t region[2] = {serial_port_vaddr, serial_port_b_vaddr};
        for (unsigned i = 0; i < SERIAL_CLIENTS; i++) {
                struct ward_port_notify n = {notify_vmm, (void *)(uintptr_t)ch[i]};
                ward_console_port_format((void *)region[i], SERIAL_PORT_BYTES, SERIAL_RING_BYTES);
                ward_console_port_init(&port[i], (void *)region[i], SERIAL_PORT_BYTES,
                                       SERIAL_RING_BYTES, WARD_PORT_SERVER, &n);
        }
        *reg(UARTIMSC) = IMSC_RXIM | IMSC_RTIM;
}

void notified(microkit_channel ch)
{
        switch (ch) {
        case CH_VMM:
                ward_console_port_poll(&port[0], to_uart, NULL);
                break;
        case CH_VMM_B:
                if (SERIAL_CLIENTS > 1)
                        ward_console_port_poll(&port[SERIAL_CLIENTS - 1], to_uart, NULL);
                break;
        case CH_UART_IRQ:
                from_uart();
                *reg(UARTICR) = IMSC_RXIM | IMSC_RTIM;
                microkit_irq_ack(ch);
                break;
        default:
                break;
        }
}
