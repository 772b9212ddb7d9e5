/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest-physical map of ward's arm64 machine. Chosen to resemble QEMU's
 * "virt" board so that guest kernels configured for it feel at home.
 */
#ifndef WARD_ARM64_MAP_H
#define WARD_ARM64_MAP_H

#define WARD_ARM64_GIC_DIST_BASE 0x08000000ull
#define WARD_ARM64_GIC_DIST_SIZE 0x10000ull
#define WARD_ARM64_GIC_CPU_BASE 0x08010000ull /* GICv2 only */
#define WARD_ARM64_GIC_CPU_SIZE 0x2000ull
#define WARD_ARM64_GIC_REDIST_BASE 0x080a0000ull /* GICv3: 128 KiB per vCPU */
#define WARD_ARM64_GIC_REDIST_PER_CPU 0x20000ull
#define WARD_ARM64_MAX_CPUS 64 /* redistributors must end below the UART */
#define WARD_ARM64_GIC_NR_IRQS 128

#define WARD_ARM64_UART_BASE 0x09000000ull
#define WARD_ARM64_UART_SPI 1

#define WARD_ARM64_VIRTIO_BASE 0x0a000000ull
#define WARD_ARM64_VIRTIO_STRIDE 0x200ull
#define WARD_ARM64_VIRTIO_SPI_BASE 16
#define WARD_ARM64_MAX_VIRTIO 32

#define WARD_ARM64_RAM_BASE 0x40000000ull

#endif
