/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/machine/gmem.h"

void ward_gmem_init(struct ward_gmem *gm)
{
        memset(gm, 0, sizeof(*gm));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        /* Callers guarantee a+alen and b+blen do not wrap. */
        return a < b + blen && b < a + alen;
}

int ward_gmem_add(struct ward_gmem *gm, uint64_t gpa, uint64_t size, void *hva)
{
        if (size == 0 || hva == NULL || gpa + size < gpa)
                return WARD_EINVAL;
        if (gm->nregions == WARD_GMEM_MAX_REGIONS)
                return WARD_ENOSPC;
        for (unsigned i = 0; i < gm->nregions; i++)
                if (ranges_overlap(gpa, size, gm->region[i].gpa, gm->region[i].size))
                        return WARD_EBUSY;
        gm->region[gm->nregions++] = (struct ward_gmem_region){gpa, size, hva};
        return WARD_OK;
}

void *ward_gmem_ptr(const struct ward_gmem *gm, uint64_t gpa, uint64_t len)
{
        if (len == 0)
                return NULL;
        for (unsigned i = 0; i < gm->nregions; i++) {
                const struct ward_gmem_region *r = &gm->region[i];
                /* Offset form avoids the overflow in gpa + len. */
                if (gpa < r->gpa)
                        continue;
                uint64_t off = gpa - r->gpa;
                if (off >= r->size || len > r->size - off)
                        continue;
                return r->hva + off;
        }
        return NULL;
}
