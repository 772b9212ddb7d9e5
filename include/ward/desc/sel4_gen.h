/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 Microkit generator (`ward system sel4`): a checked system
 * description to a Microkit 2.0.1 system description (the .system XML) and
 * a make fragment (vms.mk) for the seL4 build. The layout follows
 * platforms/sel4/two-vms.system: one serial PD, per VM a ward PD (the VMM,
 * with the VM as its child) and, with a disk, a block PD.
 * docs/system-description.md ("On seL4") describes the mapping.
 *
 * Pure: no I/O. What seL4 cannot honour is an error (with the item's path,
 * like the checker's); what it ignores is a warning.
 */
#ifndef WARD_SEL4_GEN_H
#define WARD_SEL4_GEN_H

#include "ward/desc/system_desc.h"

#define WARD_SEL4_DEFAULT_BOARD "qemu_virt_aarch64"

/* Limits of the seL4 side today, each explained where it is checked. */
#define WARD_SEL4_MAX_VMS 2         /* consoles the serial PD serves */
#define WARD_SEL4_MAX_CPUS 8        /* a GICv2 has at most 8 CPU interfaces */
#define WARD_SEL4_MAX_DISKS 1       /* the block PD serves one RAM disk */
#define WARD_SEL4_FIRST_DOORBELL 10 /* ids 1 (serial), 2 (block), 3 (timer) are taken */
#define WARD_SEL4_MAX_CHANNEL 61    /* Microkit 2.0.1's highest channel id (PD_MAX_ID) */

struct ward_sel4_opts {
        const char *board;    /* NULL: WARD_SEL4_DEFAULT_BOARD */
        const char *desc_dir; /* absolute; relative paths in the description are taken from
                                 here (NULL: "/") */
        const char *root;     /* absolute; absolute paths in the description name files
                                 under it (NULL: "/") */
};

/* The two files, as NUL-terminated text (malloc'd). */
struct ward_sel4_out {
        char *system; /* system.system */
        char *make;   /* vms.mk */
};

/* True when the generator knows the board. */
bool ward_sel4_board_known(const char *board);

/*
 * Generates both files for d, which must have passed ward_sys_check().
 * Errors go to errs and warnings to warns (both "PATH: reason"). Returns
 * the number of errors added; only with 0 is out filled in (free it with
 * ward_sel4_out_free).
 */
size_t ward_sel4_gen(const struct ward_sys_desc *d, const struct ward_sel4_opts *o,
                     struct ward_sel4_out *out, struct ward_sys_errors *errs,
                     struct ward_sys_errors *warns);
void ward_sel4_out_free(struct ward_sel4_out *out);

#endif
