/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/host/linux/host_linux.h"

#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A 0x01

static struct termios saved;

void ward_term_enter(struct ward_term *t)
{
        memset(t, 0, sizeof(*t));
        t->is_tty = isatty(STDIN_FILENO);
        if (!t->is_tty || tcgetattr(STDIN_FILENO, &saved) != 0)
                return;
        struct termios raw = saved;
        /* Every key, Ctrl-C included, belongs to the guest. */
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
                t->raw = true;
}

void ward_term_leave(struct ward_term *t)
{
        if (t->raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        t->raw = false;
}

size_t ward_term_filter(struct ward_term *t, const uint8_t *in, size_t len, uint8_t *buf,
                        bool *quit)
{
        size_t out = 0;
        *quit = false;
        if (!t->is_tty) {
                memcpy(buf, in, len); /* piped input is passed through untouched */
                return len;
        }
        for (size_t i = 0; i < len; i++) {
                uint8_t c = in[i];
                if (t->saw_escape) {
                        t->saw_escape = false;
                        if (c == 'x' || c == 'X') {
                                *quit = true;
                                return out;
                        }
                        if (c == CTRL_A) {
                                buf[out++] = CTRL_A;
                                continue;
                        }
                        /* Unknown escape: pass both keys through. */
                        buf[out++] = CTRL_A;
                        buf[out++] = c;
                        continue;
                }
                if (c == CTRL_A) {
                        t->saw_escape = true;
                        continue;
                }
                buf[out++] = c;
        }
        return out;
}
