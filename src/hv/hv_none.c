/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Builds for a host architecture that has no machine yet (x86_64 until its
 * issue lands) link this: `ward run` then fails with a clear message instead
 * of pretending.
 */
#include "ward/hv/hv.h"

const struct ward_hv_ops *ward_hv_default(void)
{
        return NULL;
}
