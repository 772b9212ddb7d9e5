/* SPDX-License-Identifier: BSD-2-Clause */
/* The 16550A UART: transmit, receive FIFO, interrupt identification, divisor latch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/machine/uart16550.h"

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

struct ctx {
        struct ward_uart u;
        uint8_t out[64];
        unsigned nout;
        unsigned irq_calls;
        bool level;
};

static void out_fn(void *opaque, const void *buf, uint32_t len)
{
        struct ctx *x = opaque;
        assert_true(x->nout + len <= sizeof(x->out));
        memcpy(x->out + x->nout, buf, len);
        x->nout += len;
}

static void irq_fn(void *opaque, bool level)
{
        struct ctx *x = opaque;
        x->irq_calls++;
        x->level = level;
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        ward_uart_init(&x->u, out_fn, x, irq_fn, x);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        free(*state);
        return 0;
}

static uint8_t rd(struct ctx *x, uint64_t off)
{
        uint8_t b = 0xee;
        ward_uart_mmio_ops.read(&x->u, off, &b, 1);
        return b;
}

static void wr(struct ctx *x, uint64_t off, uint8_t v)
{
        ward_uart_mmio_ops.write(&x->u, off, &v, 1);
}

static void thr_write_reaches_out(void **state)
{
        struct ctx *x = *state;
        wr(x, THR, 'o');
        wr(x, THR, 'k');
        wr(x, THR, '\n');
        assert_int_equal(x->nout, 3);
        assert_memory_equal(x->out, "ok\n", 3);
        /* Transmission is instantaneous: the holding register is always empty. */
        assert_int_equal(rd(x, LSR), LSR_THRE | LSR_TEMT);
}

static void lsr_reports_received_data(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(rd(x, LSR), LSR_THRE | LSR_TEMT);
        assert_int_equal(ward_uart_input(&x->u, "q", 1), 1);
        assert_int_equal(rd(x, LSR), LSR_THRE | LSR_TEMT | LSR_DR);
        assert_int_equal(rd(x, RBR), 'q');
        assert_int_equal(rd(x, LSR), LSR_THRE | LSR_TEMT);
}

static void rx_fifo_in_order(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(ward_uart_input(&x->u, "abc", 3), 3);
        assert_int_equal(ward_uart_input(&x->u, "de", 2), 2);
        assert_int_equal(ward_uart_rx_room(&x->u), WARD_UART_RX_SIZE - 5);
        const char *want = "abcde";
        for (int i = 0; i < 5; i++)
                assert_int_equal(rd(x, RBR), want[i]);
        assert_int_equal(rd(x, RBR), 0); /* empty */
        assert_int_equal(ward_uart_rx_room(&x->u), WARD_UART_RX_SIZE);
}

static void input_beyond_fifo_is_refused(void **state)
{
        struct ctx *x = *state;
        static uint8_t big[WARD_UART_RX_SIZE + 10];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t)(i * 3);
        assert_int_equal(ward_uart_input(&x->u, big, 10), 10);
        assert_int_equal(ward_uart_input(&x->u, big + 10, WARD_UART_RX_SIZE),
                         WARD_UART_RX_SIZE - 10);
        assert_int_equal(ward_uart_rx_room(&x->u), 0);
        assert_int_equal(ward_uart_input(&x->u, "x", 1), 0);
        assert_int_equal(rd(x, RBR), big[0]);
        assert_int_equal(ward_uart_rx_room(&x->u), 1);
        assert_int_equal(ward_uart_input(&x->u, big + WARD_UART_RX_SIZE, 5), 1);
        /* The FIFO wrapped: everything comes out in order. */
        for (size_t i = 1; i <= WARD_UART_RX_SIZE; i++)
                assert_int_equal(rd(x, RBR), big[i]);
        assert_int_equal(rd(x, LSR) & LSR_DR, 0);
}

static void iir_priority_rx_before_thre(void **state)
{
        struct ctx *x = *state;
        /* No interrupts enabled: none pending, FIFOs off. */
        assert_int_equal(rd(x, IIR), 0x01);
        wr(x, FCR, 0x01);
        assert_int_equal(rd(x, IIR), 0xc1);
        /* Enabling THRI with the transmitter empty raises it at once. */
        wr(x, IER, IER_RDI | IER_THRI);
        assert_int_equal(rd(x, IER), IER_RDI | IER_THRI);
        ward_uart_input(&x->u, "r", 1);
        /* Received data wins; reading IIR then does not clear THRE. */
        assert_int_equal(rd(x, IIR), 0xc4);
        assert_int_equal(rd(x, IIR), 0xc4);
        assert_int_equal(rd(x, RBR), 'r');
        assert_int_equal(rd(x, IIR), 0xc2);
        /* Reading IIR while it reports THRE clears it. */
        assert_int_equal(rd(x, IIR), 0xc1);
        /* A write to THR makes it empty again, so THRE is pending again. */
        wr(x, THR, 'z');
        assert_int_equal(rd(x, IIR), 0xc2);
        assert_int_equal(rd(x, IIR), 0xc1);
}

static void masked_sources_do_not_show(void **state)
{
        struct ctx *x = *state;
        ward_uart_input(&x->u, "r", 1);
        assert_int_equal(rd(x, IIR), 0x01); /* data waiting, but RDI is masked */
        wr(x, IER, IER_THRI);
        assert_int_equal(rd(x, IIR), 0x02);
        wr(x, IER, IER_THRI | IER_RDI);
        assert_int_equal(rd(x, IIR), 0x04);
        /* Only the low four IER bits exist. */
        wr(x, IER, 0xff);
        assert_int_equal(rd(x, IER), 0x0f);
}

static void irq_line_follows_pending_state(void **state)
{
        struct ctx *x = *state;
        wr(x, IER, IER_RDI);
        assert_int_equal(x->irq_calls, 0);
        ward_uart_input(&x->u, "ab", 2);
        assert_int_equal(x->irq_calls, 1);
        assert_true(x->level);
        /* More data keeps the line up without another call. */
        ward_uart_input(&x->u, "c", 1);
        assert_int_equal(x->irq_calls, 1);
        rd(x, RBR);
        rd(x, RBR);
        assert_true(x->level);
        assert_int_equal(x->irq_calls, 1);
        rd(x, RBR);
        assert_false(x->level);
        assert_int_equal(x->irq_calls, 2);
        /* THRE: raised when enabled, lowered by the IIR read that reports it. */
        wr(x, IER, IER_RDI | IER_THRI);
        assert_true(x->level);
        assert_int_equal(x->irq_calls, 3);
        assert_int_equal(rd(x, IIR), 0x02);
        assert_false(x->level);
        assert_int_equal(x->irq_calls, 4);
        /* Masking a pending source lowers the line too. */
        ward_uart_input(&x->u, "d", 1);
        assert_true(x->level);
        wr(x, IER, 0);
        assert_false(x->level);
        assert_int_equal(x->irq_calls, 6);
}

static void dlab_switches_to_divisor_latches(void **state)
{
        struct ctx *x = *state;
        wr(x, IER, IER_RDI);
        wr(x, LCR, 0x83); /* DLAB, 8N1 */
        wr(x, DLL, 0x01);
        wr(x, DLM, 0x02);
        assert_int_equal(x->nout, 0); /* not transmitted */
        assert_int_equal(rd(x, DLL), 0x01);
        assert_int_equal(rd(x, DLM), 0x02);
        assert_int_equal(rd(x, LCR), 0x83);
        ward_uart_input(&x->u, "k", 1);
        assert_int_equal(rd(x, DLL), 0x01); /* the FIFO is not consumed */
        wr(x, LCR, 0x03);
        assert_int_equal(rd(x, IER), IER_RDI);
        assert_int_equal(rd(x, RBR), 'k');
        wr(x, THR, 'y');
        assert_int_equal(x->nout, 1);
        assert_int_equal(x->out[0], 'y');
        wr(x, LCR, 0x80);
        assert_int_equal(rd(x, DLL), 0x01);
        assert_int_equal(rd(x, DLM), 0x02);
}

static void fcr_clears_rx_fifo(void **state)
{
        struct ctx *x = *state;
        wr(x, IER, IER_RDI);
        ward_uart_input(&x->u, "abc", 3);
        assert_true(x->level);
        wr(x, FCR, 0x07); /* enable, clear RX, clear TX */
        assert_int_equal(rd(x, LSR) & LSR_DR, 0);
        assert_int_equal(rd(x, RBR), 0);
        assert_int_equal(ward_uart_rx_room(&x->u), WARD_UART_RX_SIZE);
        assert_false(x->level);
        assert_int_equal(rd(x, IIR), 0xc1);
        /* FCR without the clear bit keeps the data. */
        ward_uart_input(&x->u, "d", 1);
        wr(x, FCR, 0x01);
        assert_int_equal(rd(x, RBR), 'd');
}

static void other_registers(void **state)
{
        struct ctx *x = *state;
        wr(x, SCR, 0x5a);
        assert_int_equal(rd(x, SCR), 0x5a);
        wr(x, MCR, 0xff);
        assert_int_equal(rd(x, MCR), 0x1f);
        assert_int_equal(rd(x, MSR), 0xb0); /* CTS, DSR, DCD */
        /* Beyond the eight registers: reads zero, writes ignored. */
        wr(x, 8, 'n');
        wr(x, 0xfff, 'n');
        assert_int_equal(x->nout, 0);
        assert_int_equal(rd(x, 8), 0);
        assert_int_equal(rd(x, 0x100), 0);
        /* A wider read returns the register in the low byte, zeros above. */
        ward_uart_input(&x->u, "w", 1);
        uint8_t b[4] = {0xee, 0xee, 0xee, 0xee};
        ward_uart_mmio_ops.read(&x->u, LSR, b, 4);
        assert_int_equal(ward_le32(b), LSR_THRE | LSR_TEMT | LSR_DR);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(thr_write_reaches_out),
            T(lsr_reports_received_data),
            T(rx_fifo_in_order),
            T(input_beyond_fifo_is_refused),
            T(iir_priority_rx_before_thre),
            T(masked_sources_do_not_show),
            T(irq_line_follows_pending_state),
            T(dlab_switches_to_divisor_latches),
            T(fcr_clears_rx_fifo),
            T(other_registers),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
