/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The serial protection domain: drives QEMU virt's PL011 UART and serves
 * the console ports of one or two VMMs (SERIAL_CLIENTS). The VMM never
 * touches the UART: guest console bytes arrive on the port's ring, typed
 * bytes go back on the other ring, and notifications say when to look. This
 * PD formats the shared regions at init (it runs at a higher priority than
 * the VMMs, so first).
 *
 * With two VMs, each has its own console on the one UART:
 * - output: every line starts with its VM's name ("vm_b| ..."); when the
 *   other VM's output arrives in the middle of a line, the line is ended
 *   first, so no line mixes two VMs;
 * - input: typed bytes go to one VM at a time, the first at start. Ctrl-E
 *   then a digit (1 for the first VM, 2 for the second) switches; Ctrl-E
 *   twice sends one Ctrl-E. The switch is announced on the UART.
 *
 * A system from a description also has the admin PD's console
 * (SERIAL_ADMIN, src/host/sel4/admin_pd.c): one more client, named "ward",
 * that Ctrl-E 0 selects.
 */
#include <microkit.h>

#include "guest_layout.h"

#include "ward/port/port_console.h"

#ifndef SERIAL_CLIENTS
#define SERIAL_CLIENTS 1
#endif
#ifndef SERIAL_ADMIN
#define SERIAL_ADMIN 0
#endif
#define NPORTS (SERIAL_CLIENTS + SERIAL_ADMIN) /* the admin's is the last */
#ifndef SERIAL_NAMES                           /* the VMs' names, for the line prefixes */
#define SERIAL_NAMES                                                                               \
        {                                                                                          \
                "vm_a", "vm_b"                                                                     \
        }
#endif
/* Ctrl-E 1, 2, ... select these clients (1-based): the description's order
 * of the VMs, where the clients follow the PDs' order. */
#ifndef SERIAL_KEYS
#define SERIAL_KEYS                                                                                \
        {                                                                                          \
                1, 2                                                                               \
        }
#endif
#define CH_VMM 1 /* first VMM */
#define CH_UART_IRQ 2
#define CH_VMM_B 3  /* second VMM, if any */
#define CH_ADMIN 4  /* the admin PD, if any */
#define ESCAPE 0x05 /* Ctrl-E */

/* PL011 registers (ARM DDI 0183). */
#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIMSC 0x038
#define UARTICR 0x044
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define IMSC_RXIM (1u << 4)
#define IMSC_RTIM (1u << 6)

uintptr_t uart_base;               /* setvar: the PL011's registers */
uintptr_t serial_port_vaddr;       /* setvar: the region shared with the first VMM */
uintptr_t serial_port_b_vaddr;     /* setvar: ... with the second VMM */
uintptr_t serial_port_admin_vaddr; /* setvar: ... with the admin PD */

static struct ward_console_port port[NPORTS];
static const char *const vm_names[] = SERIAL_NAMES;

static const char *name_of(unsigned c)
{
        return c < SERIAL_CLIENTS ? vm_names[c] : "ward";
}
static const unsigned keys[] = SERIAL_KEYS;
_Static_assert(sizeof(keys) / sizeof(keys[0]) >= SERIAL_CLIENTS, "a key per client");

static volatile uint32_t *reg(uint32_t off)
{
        return (volatile uint32_t *)(uart_base + off);
}

static void notify_vmm(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

/* Busy-waits on a full FIFO: it drains fast. */
static void uart_putc(uint8_t c)
{
        while (*reg(UARTFR) & FR_TXFF)
                ;
        *reg(UARTDR) = c;
}

static void uart_puts(const char *s)
{
        while (*s)
                uart_putc((uint8_t)*s++);
}

/* ---- output ---- */

static unsigned out_client; /* whose line the UART is in */
static bool out_line_start = true;

/* Sends client c's bytes to the UART, each line with its VM's name first. */
static uint32_t to_uart(void *o, const void *buf, uint32_t len)
{
        unsigned c = (unsigned)(uintptr_t)o;
        const uint8_t *b = buf;
        for (uint32_t i = 0; i < len; i++) {
                if (NPORTS > 1) {
                        if (c != out_client) {
                                if (!out_line_start)
                                        uart_puts("\r\n");
                                out_client = c;
                                out_line_start = true;
                        }
                        if (out_line_start) {
                                uart_puts(name_of(c));
                                uart_puts("| ");
                        }
                }
                uart_putc(b[i]);
                out_line_start = b[i] == '\n';
        }
        return len;
}

/* ---- input ---- */

/*
 * Typed input: moved from the PL011's FIFO to the input ring of the VM that
 * has the keyboard, never more than that ring has room for, so nothing is
 * lost. When the ring is full the receive interrupt is masked and the
 * bytes wait in the FIFO (QEMU stops reading its input while the FIFO is
 * full); the VMM notifies us when it frees space in the full ring, and
 * reading resumes.
 */
static unsigned in_client;
static bool rx_held, escaped;
static uint8_t pending[64]; /* typed bytes for in_client, sent in one write */
static uint32_t npending;

static void send_typed(void)
{
        if (npending) /* fits: from_uart() checked the room; the write notifies the VMM */
                ward_console_port_write(&port[in_client], pending, npending);
        npending = 0;
}

static void switch_input(unsigned c)
{
        send_typed();
        in_client = c;
        if (!out_line_start)
                uart_puts("\r\n");
        uart_puts("[ward: input to ");
        uart_puts(name_of(c));
        uart_puts("]\r\n");
        out_line_start = true;
}

/* One typed byte: part of the escape sequence, or a byte for the VM. */
static void typed(uint8_t c)
{
        if (NPORTS > 1) {
                if (escaped) {
                        escaped = false;
                        if (c >= '1' && c < '1' + SERIAL_CLIENTS &&
                            keys[c - '1'] - 1u < SERIAL_CLIENTS) {
                                switch_input(keys[c - '1'] - 1u);
                                return;
                        }
                        if (c == '0' && SERIAL_ADMIN) {
                                switch_input(SERIAL_CLIENTS);
                                return;
                        }
                        if (c != ESCAPE)
                                return; /* not a command: both bytes are dropped */
                } else if (c == ESCAPE) {
                        escaped = true;
                        return;
                }
        }
        pending[npending++] = c;
        if (npending == sizeof(pending))
                send_typed();
}

static void from_uart(void)
{
        while (!(*reg(UARTFR) & FR_RXFE)) {
                if (ward_console_port_room(&port[in_client]) <= npending) {
                        send_typed();
                        rx_held = true;
                        *reg(UARTIMSC) = 0;
                        return;
                }
                typed((uint8_t)*reg(UARTDR));
        }
        send_typed();
        if (rx_held) {
                rx_held = false;
                *reg(UARTIMSC) = IMSC_RXIM | IMSC_RTIM;
        }
}

void init(void)
{
        microkit_channel ch[NPORTS] = {CH_VMM};
        uintptr_t region[NPORTS] = {serial_port_vaddr};
        if (SERIAL_CLIENTS > 1) {
                ch[SERIAL_CLIENTS - 1] = CH_VMM_B;
                region[SERIAL_CLIENTS - 1] = serial_port_b_vaddr;
        }
        if (SERIAL_ADMIN) {
                ch[NPORTS - 1] = CH_ADMIN;
                region[NPORTS - 1] = serial_port_admin_vaddr;
        }
        for (unsigned i = 0; i < NPORTS; i++) {
                struct ward_port_notify n = {notify_vmm, (void *)(uintptr_t)ch[i]};
                ward_console_port_format((void *)region[i], SERIAL_PORT_BYTES, SERIAL_RING_BYTES);
                ward_console_port_init(&port[i], (void *)region[i], SERIAL_PORT_BYTES,
                                       SERIAL_RING_BYTES, WARD_PORT_SERVER, &n);
        }
        /* The keyboard is the first VM's (Ctrl-E 1's) at start. */
        if (keys[0] - 1u < SERIAL_CLIENTS)
                in_client = keys[0] - 1u;
        *reg(UARTIMSC) = IMSC_RXIM | IMSC_RTIM;
}

static void serve(unsigned c)
{
        ward_console_port_poll(&port[c], to_uart, (void *)(uintptr_t)c);
        if (rx_held && c == in_client) /* the VMM took input from a full ring */
                from_uart();
}

void notified(microkit_channel ch)
{
        switch (ch) {
        case CH_VMM:
                serve(0);
                break;
        case CH_VMM_B:
                if (SERIAL_CLIENTS > 1)
                        serve(SERIAL_CLIENTS - 1);
                break;
        case CH_ADMIN:
                if (SERIAL_ADMIN)
                        serve(NPORTS - 1);
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
