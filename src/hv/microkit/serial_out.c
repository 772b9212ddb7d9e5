/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 runner's console output: guest bytes into the console port of
 * the serial PD, with the notification deferred (see below).
 */
#include "sel4_runner.h"

#define CH_SERIAL 1 /* as in the .system file */

uint64_t ward_sel4_serial_dropped;

/*
 * Console output arrives one byte per trapped UART write. Notifying the
 * serial PD for each byte would cost two context switches per byte, so the
 * notification is deferred: it goes out at a newline, when 512 bytes wait,
 * and after any trap that is not the UART's data or line-status register
 * (the guest polls those per byte; anything else, such as the timer tick or
 * the driver's IER write at the end of a console write, means a pause).
 */
static bool serial_pending;
static uint32_t serial_bytes;

void ward_sel4_serial_pending(void *o)
{
        (void)o;
        serial_pending = true;
}

void ward_sel4_serial_flush(void)
{
        if (serial_pending) {
                serial_pending = false;
                serial_bytes = 0;
                microkit_notify(CH_SERIAL);
        }
}

void ward_sel4_serial_write(struct ward_console_port *serial, const void *buf, uint32_t len)
{
        const uint8_t *b = buf;
        bool newline = false;
        for (uint32_t i = 0; i < len && !newline; i++)
                newline = b[i] == '\n';
        /*
         * A virtio-console batch can be larger than the ring's free space.
         * The serial PD has the higher priority, so notifying it runs it at
         * once and it empties the ring; a few rounds are enough for any
         * batch the ring can hold, and what still does not fit is counted.
         */
        for (unsigned round = 0; len > 0; round++) {
                uint32_t n = ward_console_port_write(serial, b, len);
                b += n;
                len -= n;
                serial_bytes += n;
                if (len == 0 || round == 8)
                        break;
                serial_pending = true;
                ward_sel4_serial_flush();
        }
        ward_sel4_serial_dropped += len;
        if (newline || serial_bytes >= 512)
                ward_sel4_serial_flush();
}
