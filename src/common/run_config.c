/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The parts of run_config.h that more than `ward run` uses: the size syntax
 * (ward run, ward dtb, ward system check and the system description's size
 * strings) and the default kernel command line (the VMM and the seL4
 * generator). Below the CLI and the description, so neither depends on the
 * other for them.
 */
#include "ward/run_config.h"

#include <errno.h>
#include <stdlib.h>

const char *ward_default_cmdline(enum ward_console_kind console)
{
        return console == WARD_CONSOLE_VIRTIO ? "console=hvc0 earlycon panic=-1"
                                              : "console=ttyS0 earlycon panic=-1";
}

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
