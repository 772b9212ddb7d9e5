/* SPDX-License-Identifier: BSD-2-Clause */
/* A kernel panic in the console stream; see include/ward/common/panic_watch.h. */
#include "ward/common/panic_watch.h"

void ward_panic_watch_feed(struct ward_panic_watch *w, const void *buf, size_t len)
{
        static const char marker[] = "Kernel panic - not syncing";
        const char *p = buf;
        for (size_t i = 0; i < len && !w->seen; i++) {
                if (p[i] == marker[w->matched]) {
                        if (++w->matched == sizeof(marker) - 1)
                                w->seen = true;
                } else {
                        w->matched = p[i] == marker[0] ? 1 : 0;
                }
        }
}
