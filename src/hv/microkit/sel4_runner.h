/* SPDX-License-Identifier: BSD-2-Clause */
/* The seL4 runner's services besides vmm_pd.c: console output and entropy. */
#ifndef WARD_SEL4_RUNNER_H
#define WARD_SEL4_RUNNER_H

#include <microkit.h>

#include "ward/port/port_console.h"
#include "ward/virtio/virtio_rng.h"

/* Bytes the serial PD's ring could not take. */
extern uint64_t ward_sel4_serial_dropped;
/* Writes guest console output to the serial PD's port; notifies it when due. */
void ward_sel4_serial_write(struct ward_console_port *serial, const void *buf, uint32_t len);
/* The port's notify op: marks a notification as due. */
void ward_sel4_serial_pending(void *o);
/* Sends a due notification (after a trap that is not a per-byte poll). */
void ward_sel4_serial_flush(void);

/* The entropy backend, seeded with len bytes (the build's 32 random bytes). */
struct ward_rng_backend ward_sel4_entropy(const void *seed, size_t len);

#endif
