/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest-physical address map: RAM regions backed by host memory.
 * ward_gmem_ptr() is THE checked translation: every guest-supplied address
 * the VMM touches goes through it (DESIGN.md, "Guest memory is hostile").
 */
#ifndef WARD_GMEM_H
#define WARD_GMEM_H

#include "ward/util/util.h"

#define WARD_GMEM_MAX_REGIONS 8

struct ward_gmem_region {
        uint64_t gpa;
        uint64_t size;
        uint8_t *hva;
};

struct ward_gmem {
        struct ward_gmem_region region[WARD_GMEM_MAX_REGIONS];
        unsigned nregions;
};

void ward_gmem_init(struct ward_gmem *gm);
/* Adds a region; fails on zero size, address wrap-around or overlap. */
int ward_gmem_add(struct ward_gmem *gm, uint64_t gpa, uint64_t size, void *hva);
/*
 * Host pointer for [gpa, gpa+len) if the whole range lies inside one RAM
 * region, else NULL. len 0 is refused: a zero-length access is always a
 * caller bug or a hostile descriptor, and refusing it keeps callers simple.
 */
void *ward_gmem_ptr(const struct ward_gmem *gm, uint64_t gpa, uint64_t len);

#endif
