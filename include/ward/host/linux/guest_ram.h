/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest RAM and shared regions mapped for stage-2 block mappings: host
 * addresses congruent with guest-physical ones modulo 2 MiB (1 GiB for RAM
 * of 1 GiB or more), with transparent or hugetlb huge pages.
 */
#ifndef WARD_HOST_LINUX_GUEST_RAM_H
#define WARD_HOST_LINUX_GUEST_RAM_H

#include "ward/vm/vm_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * mmap(NULL, size, prot, flags, fd, 0) at a host address congruent with gpa
 * modulo align (a power of two); MAP_FAILED with errno on failure.
 */
void *ward_map_congruent(uint64_t gpa, uint64_t size, uint64_t align, int prot, int flags, int fd);

/* One RAM region's memory; NULL with err filled on failure. */
void *ward_guest_ram_map(enum ward_ram_backing backing, uint64_t gpa, uint64_t size, char *err,
                         size_t errlen);

/* A shared region's memfd or file, mapped MAP_SHARED; MAP_FAILED with errno. */
void *ward_shared_map(uint64_t gpa, uint64_t size, bool read_only, int fd);

#endif
