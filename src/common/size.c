/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The size syntax that more than `ward run` uses (ward run, ward dtb, ward
 * system check and the system description's size strings). Below the CLI
 * and the description, so neither depends on the other for it. (The
 * default kernel command line is the VM core's: src/vm/vm.c.)
 */
#include "ward/common/size.h"

#include <errno.h>
#include <stdlib.h>

int ward_parse_size(const char *s, uint64_t *out)
{
        if (!s || !*s || *s == '-' || *s == '+')
                return -1;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -1;
        unsigned shift = 20; /* no suffix: MiB, as QEMU's -m */
        if (*end) {
                switch (*end) {
                case 'k':
                case 'K':
                        shift = 10;
                        break;
                case 'm':
                case 'M':
                        shift = 20;
                        break;
                case 'g':
                case 'G':
                        shift = 30;
                        break;
                default:
                        return -1;
                }
                end++;
                if (*end == 'i' && end[1] == 'B')
                        end += 2;
                else if (*end == 'B')
                        end++;
                if (*end)
                        return -1;
        }
        if (v > (UINT64_MAX >> shift))
                return -1;
        *out = (uint64_t)v << shift;
        return 0;
}
