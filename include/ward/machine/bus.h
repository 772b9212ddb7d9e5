/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MMIO bus: dispatches a trapped guest access to the device that owns
 * the address. Devices see offsets relative to their window, never absolute
 * addresses, and never an access that crosses their window's end.
 */
#ifndef WARD_BUS_H
#define WARD_BUS_H

#include "ward/util/util.h"

struct ward_mmio_ops {
        /* len is 1, 2, 4 or 8; off + len <= window size. */
        void (*read)(void *dev, uint64_t off, void *data, unsigned len);
        void (*write)(void *dev, uint64_t off, const void *data, unsigned len);
};

struct ward_bus_window {
        uint64_t base;
        uint64_t size;
        const struct ward_mmio_ops *ops;
        void *dev;
};

struct ward_bus {
        struct ward_bus_window *win; /* storage handed in by the caller */
        unsigned nwin;
        unsigned capacity;
};

void ward_bus_init(struct ward_bus *bus, struct ward_bus_window *storage, unsigned capacity);
int ward_bus_register(struct ward_bus *bus, uint64_t base, uint64_t size,
                      const struct ward_mmio_ops *ops, void *dev);

enum ward_bus_result {
        WARD_BUS_HANDLED = 0,
        WARD_BUS_UNMAPPED = 1,   /* no device: reads as zero, writes ignored */
        WARD_BUS_BAD_ACCESS = 2, /* bad size or straddles a window end */
};

/*
 * Performs a guest access. For reads, data is always fully written (zeros
 * when nothing answers) so a hostile guest never sees stale host bytes.
 */
enum ward_bus_result ward_bus_access(const struct ward_bus *bus, uint64_t addr, bool is_write,
                                     void *data, unsigned len);

#endif
