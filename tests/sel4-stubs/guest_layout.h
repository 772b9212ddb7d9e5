/* SPDX-License-Identifier: BSD-2-Clause */
/* A stand-in for the layout header platforms/sel4 generates with `ward dtb`. */
#define GUEST_NCPUS 2
#define GUEST_RAM_BASE 0x40000000ull
#define GUEST_RAM_SIZE 0x10000000ull
#define GUEST_KERNEL 0x40000000ull
#define GUEST_INITRD 0x4fc00000ull
#define GUEST_DTB 0x4fe00000ull
#ifndef STUB_SERIAL_CONSOLE /* check-sel4-types builds both console choices */
#define GUEST_VIRTIO_CONSOLE_BASE 0xa000000ull
#define GUEST_VIRTIO_CONSOLE_SPI 16
#define GUEST_VIRTIO_COUNT 3
#define GUEST_VIRTIO_WINDOWS                                                                       \
        {                                                                                          \
                0xa000000ull, 0xa000200ull, 0xa000400ull                                           \
        }
#define GUEST_VIRTIO_TYPES                                                                         \
        {                                                                                          \
                "console", "blk", "rng"                                                            \
        }
#define GUEST_VIRTIO_BLK_BASE 0xa000200ull
#define GUEST_VIRTIO_BLK_SPI 17
#define GUEST_VIRTIO_RNG_BASE 0xa000400ull
#define GUEST_VIRTIO_RNG_SPI 18
#else
#define GUEST_VIRTIO_COUNT 2
#define GUEST_VIRTIO_WINDOWS                                                                       \
        {                                                                                          \
                0xa000000ull, 0xa000200ull                                                         \
        }
#define GUEST_VIRTIO_TYPES                                                                         \
        {                                                                                          \
                "blk", "rng"                                                                       \
        }
#define GUEST_VIRTIO_BLK_BASE 0xa000000ull
#define GUEST_VIRTIO_BLK_SPI 16
#define GUEST_VIRTIO_RNG_BASE 0xa000200ull
#define GUEST_VIRTIO_RNG_SPI 17
#endif
#define SERIAL_PORT_BYTES 0x4000
#define SERIAL_RING_BYTES 4096
#define BLK_PORT_BYTES 0x400000
#define BLK_PORT_SLOTS 32
#define BLK_PORT_NBUFS 32
#define BLK_PORT_BUF_BYTES 65536
#define BLK_DISK_BYTES 0x1000000ull
#define DOORBELL_PORT_BYTES 0x1000
#define DOORBELL_RING_BYTES 1024
#ifndef STUB_SERIAL_CONSOLE
#define GUEST_MAIN_CONSOLE_VIRTIO 1
#define GUEST_DISK 1
#define GUEST_DOORBELLS 0
#define GUEST_DOORBELL_CHANNELS                                                                    \
        {                                                                                          \
        }
#define GUEST_DOORBELL_OUT                                                                         \
        {                                                                                          \
        }
#else
#define GUEST_DISK 1
#define GUEST_DOORBELLS 2
#define GUEST_DOORBELL_CHANNELS                                                                    \
        {                                                                                          \
                10, 11                                                                             \
        }
#define GUEST_DOORBELL_OUT                                                                         \
        {                                                                                          \
                1, 0                                                                               \
        }
#endif
#define NET_PORT_BYTES 0x100000
#define NET_RING_BYTES 262144
#ifndef STUB_SERIAL_CONSOLE
#define GUEST_NETS 0
#define GUEST_NET_CHANNELS                                                                         \
        {                                                                                          \
        }
#define GUEST_NET_MACS                                                                             \
        {                                                                                          \
        }
#else
#define GUEST_NETS 2
#define GUEST_NET_CHANNELS                                                                         \
        {                                                                                          \
                4, 5                                                                               \
        }
#define GUEST_NET_MACS                                                                             \
        {                                                                                          \
                {2, 0, 0, 0, 0, 0xa},                                                              \
                {                                                                                  \
                        2, 0, 0, 0, 1, 0xa                                                         \
                }                                                                                  \
        }
#endif
/* The switch PD's table (vms.mk's N_SWITCH in a real build). */
#define SWITCH_NPORTS 2
#define SWITCH_PORTS                                                                               \
        {                                                                                          \
                {{2, 0, 0, 0, 0, 0xa}, 0, 0x2u, 0ull, 0ull},                                       \
                {                                                                                  \
                        {2, 0, 0, 0, 0, 0xb}, 5, ~0u, 1000ull, 0ull                                \
                }                                                                                  \
        }
/* The admin PD's VMs (vms.mk's ADMIN_VMS in a real build). */
#define ADMIN_NVMS 2
#define ADMIN_NAMES                                                                                \
        {                                                                                          \
                "vm_a", "vm_b"                                                                     \
        }
#define ADMIN_ALLOW                                                                                \
        {                                                                                          \
                0x1fu, 0x4u                                                                        \
        }
