/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/machine/uart16550.h"

enum {
        R_RBR_THR = 0,
        R_IER = 1,
        R_IIR_FCR = 2,
        R_LCR = 3,
        R_MCR = 4,
        R_LSR = 5,
        R_MSR = 6,
        R_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

static uint8_t iir(const struct ward_uart *u)
{
        uint8_t fifo = (u->fcr & 1) ? IIR_FIFO : 0;
        if ((u->ier & IER_RDI) && u->rx.count)
                return fifo | IIR_RDI;
        if ((u->ier & IER_THRI) && u->thre_pending)
                return fifo | IIR_THRI;
        return fifo | IIR_NONE;
}

/* The line is level-triggered: it follows "some interrupt is pending". */
static void update_irq(struct ward_uart *u)
{
        bool level = (iir(u) & IIR_NONE) == 0;
        if (level != u->irq_level) {
                u->irq_level = level;
                if (u->irq)
                        u->irq(u->irq_opaque, level);
        }
}

void ward_uart_init(struct ward_uart *u, void (*out)(void *, const void *, uint32_t),
                    void *out_opaque, ward_irq_fn irq, void *irq_opaque)
{
        memset(u, 0, sizeof(*u));
        u->out = out;
        u->out_opaque = out_opaque;
        u->irq = irq;
        u->irq_opaque = irq_opaque;
        u->thre_pending = true;
        ward_fifo_init(&u->rx, u->rx_buf, sizeof(u->rx_buf));
}

uint32_t ward_uart_rx_room(const struct ward_uart *u)
{
        return ward_fifo_room(&u->rx);
}

uint32_t ward_uart_input(struct ward_uart *u, const void *buf, uint32_t len)
{
        uint32_t n = ward_fifo_put(&u->rx, buf, len);
        update_irq(u);
        return n;
}

static uint8_t read_reg(struct ward_uart *u, uint64_t off)
{
        bool dlab = u->lcr & LCR_DLAB;
        switch (off) {
        case R_RBR_THR:
                if (dlab)
                        return u->dll;
                {
                        const uint8_t *p;
                        if (ward_fifo_run(&u->rx, &p) == 0)
                                return 0;
                        uint8_t c = *p;
                        ward_fifo_drop(&u->rx, 1);
                        return c;
                }
        case R_IER:
                return dlab ? u->dlm : u->ier;
        case R_IIR_FCR: {
                uint8_t v = iir(u);
                /* Reading IIR while it reports THRE clears that interrupt (16550 data sheet). */
                if ((v & 0x0f) == IIR_THRI)
                        u->thre_pending = false;
                return v;
        }
        case R_LCR:
                return u->lcr;
        case R_MCR:
                return u->mcr;
        case R_LSR:
                return (uint8_t)(LSR_THRE | LSR_TEMT | (u->rx.count ? LSR_DR : 0));
        case R_MSR:
                return MSR_CTS | MSR_DSR | MSR_DCD;
        case R_SCR:
                return u->scr;
        default:
                return 0;
        }
}

static void write_reg(struct ward_uart *u, uint64_t off, uint8_t val)
{
        bool dlab = u->lcr & LCR_DLAB;
        switch (off) {
        case R_RBR_THR:
                if (dlab) {
                        u->dll = val;
                } else {
                        if (u->out)
                                u->out(u->out_opaque, &val, 1);
                        u->thre_pending = true; /* sent at once, so empty again */
                }
                break;
        case R_IER:
                if (dlab) {
                        u->dlm = val;
                } else {
                        /* Enabling THRI while the THR is empty raises it at once. */
                        if ((val & IER_THRI) && !(u->ier & IER_THRI))
                                u->thre_pending = true;
                        u->ier = val & 0x0f;
                }
                break;
        case R_IIR_FCR:
                u->fcr = val & 0xc9;
                if (val & 0x02) { /* clear receive FIFO */
                        ward_fifo_clear(&u->rx);
                }
                break;
        case R_LCR:
                u->lcr = val;
                break;
        case R_MCR:
                u->mcr = val & 0x1f;
                break;
        case R_SCR:
                u->scr = val;
                break;
        default:
                break;
        }
}

static void mmio_read(void *dev, uint64_t off, void *data, unsigned len)
{
        struct ward_uart *u = dev;
        /* Registers are bytes; a wider access reads the addressed byte only. */
        uint8_t v = off < 8 ? read_reg(u, off) : 0;
        ward_store_len(data, v, len);
        update_irq(u);
}

static void mmio_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct ward_uart *u = dev;
        (void)len;
        if (off < 8)
                write_reg(u, off, *(const uint8_t *)data);
        update_irq(u);
}

const struct ward_mmio_ops ward_uart_mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
};
