/* SPDX-License-Identifier: BSD-2-Clause */
/* The device registry: one line per device type (see ward/virtio/device.h). */
#include "ward/virtio/device.h"

/* One line per type, as the header promises. */
/* clang-format off */
const struct ward_device_type *const ward_device_types[] = {
    &ward_virtio_console_type,
    &ward_virtio_blk_type,
    &ward_virtio_rng_type,
    &ward_virtio_net_type,
    &ward_virtio_vsock_type,
    NULL,
};
/* clang-format on */

static bool same(const char *a, const char *b)
{
        size_t n = strlen(a);
        return n == strlen(b) && memcmp(a, b, n) == 0;
}

const struct ward_device_type *ward_device_type_find(const char *name)
{
        for (unsigned i = 0; name && ward_device_types[i]; i++)
                if (same(ward_device_types[i]->name, name))
                        return ward_device_types[i];
        return NULL;
}
