/* SPDX-License-Identifier: BSD-2-Clause */
/* The RAM disk's initial content, linked into the block PD. */
        .section .rodata
        .balign 4096
        .global _disk_image, _disk_image_end
_disk_image:
        .incbin DISK
_disk_image_end:
