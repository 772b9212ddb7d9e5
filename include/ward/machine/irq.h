/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An interrupt line as devices see it (machine layer): a callback the
 * machine wires to the hypervisor (irq_line, or an irqfd) or to a test.
 */
#ifndef WARD_IRQ_H
#define WARD_IRQ_H

#include <stdbool.h>

/*
 * Called with level true when the device's interrupt condition becomes (or
 * stays) true after a new event, false when it is cleared. An
 * edge-triggered wiring may act on true only.
 */
typedef void (*ward_irq_fn)(void *opaque, bool level);

#endif
