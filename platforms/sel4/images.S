/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest's kernel, initrd and device tree, linked into the ward PD. */
        .section .rodata
        .balign 4096
        .global _guest_kernel, _guest_kernel_end
_guest_kernel:
        .incbin KERNEL
_guest_kernel_end:
        .balign 4096
        .global _guest_initrd, _guest_initrd_end
_guest_initrd:
        .incbin INITRD
_guest_initrd_end:
        .balign 8
        .global _guest_dtb, _guest_dtb_end
_guest_dtb:
        .incbin DTB
_guest_dtb_end:
        .balign 8
        .global _guest_seed, _guest_seed_end
_guest_seed:
        .incbin SEED
_guest_seed_end:
