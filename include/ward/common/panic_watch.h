/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recognises a Linux kernel panic in a guest's console stream, byte by
 * byte across writes, so that a guest reboot after a panic (panic=-1) is a
 * failure, and one the guest asked for is not. Freestanding: the Linux VMM
 * and the seL4 ward PD feed it the same way.
 */
#ifndef WARD_COMMON_PANIC_WATCH_H
#define WARD_COMMON_PANIC_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct ward_panic_watch {
        unsigned matched;
        bool seen;
};

void ward_panic_watch_feed(struct ward_panic_watch *w, const void *buf, size_t len);

#endif
