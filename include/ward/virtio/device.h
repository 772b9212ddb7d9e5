/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The device registry (layer 3). A virtio device file ends with one
 * `const struct ward_device_type`, and src/virtio/registry.c lists it with
 * one line; from then on the VM core (ward/vm/vm.h) can build it for `ward
 * run`, the system description, `ward dtb` and the seL4 PD, and no runner
 * has code for it. A device reaches the world only through its backend:
 * the runner supplies one per device class (union ward_backend).
 */
#ifndef WARD_DEVICE_H
#define WARD_DEVICE_H

#include "ward/virtio/virtio_blk.h"
#include "ward/virtio/virtio_console.h"
#include "ward/virtio/virtio_net.h"
#include "ward/virtio/virtio_rng.h"
#include "ward/virtio/virtio_vsock.h"

enum ward_device_class {
        WARD_DEVICE_CONSOLE, /* struct ward_console_backend */
        WARD_DEVICE_BLOCK,   /* struct ward_blk_backend */
        WARD_DEVICE_ENTROPY, /* struct ward_rng_backend */
        WARD_DEVICE_NET,     /* struct ward_net_backend */
        WARD_DEVICE_VSOCK,   /* struct ward_vsock_backend */
};

union ward_backend {
        struct ward_console_backend console;
        struct ward_blk_backend blk;
        struct ward_rng_backend rng;
        struct ward_net_backend net;
        struct ward_vsock_backend vsock;
};

/* What a runner tells a device besides its backend. */
struct ward_device_params {
        uint64_t size_bytes; /* block: the disk's size */
        bool read_only;      /* block */
        const char *id;      /* block: the serial the guest reads (at most 20 bytes) */
        uint8_t mac[6];      /* net: the NIC's address */
        uint64_t cid;        /* vsock: the guest's context id */
};

struct ward_device_type {
        const char *name; /* as `ward dtb --virtio` and the layout name it: "console", "blk" */
        enum ward_device_class cls;
        size_t state_size; /* zeroed storage the VM hands to setup */
        /* Builds the device in state; returns its virtio part. */
        struct ward_virtio *(*setup)(void *state, const union ward_backend *be,
                                     const struct ward_device_params *p);
};

extern const struct ward_device_type ward_virtio_console_type;
extern const struct ward_device_type ward_virtio_blk_type;
extern const struct ward_device_type ward_virtio_rng_type;
extern const struct ward_device_type ward_virtio_net_type;
extern const struct ward_device_type ward_virtio_vsock_type;

/* Every registered device type, NULL-terminated. */
extern const struct ward_device_type *const ward_device_types[];

/* The type called name, or NULL. */
const struct ward_device_type *ward_device_type_find(const char *name);

#endif
