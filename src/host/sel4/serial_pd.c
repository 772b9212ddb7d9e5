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

/*
 * Typed input: moved from the PL011's FIFO to the VMM's input ring, never
 * more than the ring has room for, so nothing is lost. When the ring is
 * full the receive interrupt is masked and the bytes wait in the FIFO
 * (QEMU stops reading its input while the FIFO is full); the VMM notifies
 * us when it frees space in the full ring, and reading resumes.
 */
static bool rx_held;

static void from_uart(void)
{
        uint8_t buf[64];
        for (;;) {
                uint32_t room = ward_console_port_room(&port[0]), n = 0;
                while (n < room && n < sizeof(buf) && !(*reg(UARTFR) & FR_RXFE))
                        buf[n++] = (uint8_t)*reg(UARTDR);
                if (n)
                        ward_console_port_write(&port[0], buf, n); /* notifies the VMM */
                if (*reg(UARTFR) & FR_RXFE)
                        break;
                if (n == room) {
                        rx_held = true;
                        *reg(UARTIMSC) = 0;
                        return;
                }
        }
        if (rx_held) {
                rx_held = false;
                *reg(UARTIMSC) = IMSC_RXIM | IMSC_RTIM;
        }
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
                if (rx_held) /* the VMM took input from a full ring */
                        from_uart();
                break;
        case CH_VMM_B:
                if (SERIAL_CLIENTS > 1)
                        ward_console_port_poll(&port[SERIAL_CLIENTS - 1], to_uart, NULL);
                break;
        case CH_UART_IRQ:
                /*
                 * Clear first, then drain: a byte that arrives after the
                 * drain raises the interrupt again. The other order lost
                 * it (QEMU raises RX only when the FIFO goes from empty
                 * to not empty), and a paste stalled with bytes in the FIFO.
                 */
                *reg(UARTICR) = IMSC_RXIM | IMSC_RTIM;
                from_uart();
                microkit_irq_ack(ch);
                break;
        default:
                break;
        }
}
