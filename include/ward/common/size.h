/* SPDX-License-Identifier: BSD-2-Clause */
/* The size syntax shared by `ward run`, `ward dtb` and the system description. */
#ifndef WARD_COMMON_SIZE_H
#define WARD_COMMON_SIZE_H

#include <stdint.h>

/* Parses sizes such as 512M, 2G, 1048576K, 300 (MiB when no suffix). */
int ward_parse_size(const char *s, uint64_t *out);

#endif
