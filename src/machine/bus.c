/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/machine/bus.h"

void ward_bus_init(struct ward_bus *bus, struct ward_bus_window *storage, unsigned capacity)
{
        bus->win = storage;
        bus->nwin = 0;
        bus->capacity = capacity;
}

int ward_bus_register(struct ward_bus *bus, uint64_t base, uint64_t size,
                      const struct ward_mmio_ops *ops, void *dev)
{
        if (size == 0 || base + size < base || ops == NULL)
                return WARD_EINVAL;
        if (bus->nwin == bus->capacity)
                return WARD_ENOSPC;
        for (unsigned i = 0; i < bus->nwin; i++) {
                const struct ward_bus_window *w = &bus->win[i];
                if (base < w->base + w->size && w->base < base + size)
                        return WARD_EBUSY;
        }
        bus->win[bus->nwin++] = (struct ward_bus_window){base, size, ops, dev};
        return WARD_OK;
}

enum ward_bus_result ward_bus_access(const struct ward_bus *bus, uint64_t addr, bool is_write,
                                     void *data, unsigned len)
{
        if (!is_write)
                memset(data, 0, len <= 8 ? len : 8);
        if (len != 1 && len != 2 && len != 4 && len != 8)
                return WARD_BUS_BAD_ACCESS;
        for (unsigned i = 0; i < bus->nwin; i++) {
                const struct ward_bus_window *w = &bus->win[i];
                if (addr < w->base || addr - w->base >= w->size)
                        continue;
                uint64_t off = addr - w->base;
                if (len > w->size - off)
                        return WARD_BUS_BAD_ACCESS;
                if (is_write) {
                        if (w->ops->write)
                                w->ops->write(w->dev, off, data, len);
                } else if (w->ops->read) {
                        w->ops->read(w->dev, off, data, len);
                }
                return WARD_BUS_HANDLED;
        }
        return WARD_BUS_UNMAPPED;
}
