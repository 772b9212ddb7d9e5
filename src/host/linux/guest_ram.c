/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest RAM and shared regions in the host's address space, placed so that
 * KVM can map them at stage 2 with block mappings.
 *
 * KVM maps a guest page with a 2 MiB (or 1 GiB) block only when the host
 * memory behind it is a huge page and the host address is congruent with
 * the guest-physical address modulo the block size. A plain anonymous mmap
 * meets neither: every 4 KiB of RAM the guest touches then costs a stage-2
 * fault (16,384 exits for 64 MiB). So each mapping is placed inside a larger
 * reservation at the right offset, and huge pages are asked for: THP with
 * MADV_HUGEPAGE (the "madvise" THP mode most distributions ship honours
 * it), or hugetlb pages reserved up front.
 */
#include "ward/host/linux/guest_ram.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

#define SIZE_2M (2ull << 20)
#define SIZE_1G (1ull << 30)

/* The block size worth lining up for a mapping of this size. */
static uint64_t block_for(uint64_t size)
{
        return size >= SIZE_1G ? SIZE_1G : SIZE_2M;
}

/*
 * Maps size bytes (with mmap's prot/flags/fd) at a host address congruent
 * with gpa modulo align: reserves size + align of address space, maps over
 * the right part of it with MAP_FIXED and gives the rest back. The
 * reservation is PROT_NONE and never touched, so it costs nothing.
 */
void *ward_map_congruent(uint64_t gpa, uint64_t size, uint64_t align, int prot, int flags, int fd)
{
        size_t span = (size_t)(size + align);
        uint8_t *base =
            mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED)
                return MAP_FAILED;
        uintptr_t want = (uintptr_t)(gpa & (align - 1));
        uintptr_t off = (want - ((uintptr_t)base & (align - 1))) & (align - 1);
        uint8_t *p = mmap(base + off, (size_t)size, prot, flags | MAP_FIXED, fd, 0);
        if (p == MAP_FAILED) {
                int e = errno;
                munmap(base, span);
                errno = e;
                return MAP_FAILED;
        }
        if (off)
                munmap(base, off);
        if (span - off - size)
                munmap(p + size, span - off - size);
        return p;
}

/*
 * Guest RAM stays out of the VMM's children (a disk's backend process is
 * forked, then execs). Without this, fork() makes every page of guest RAM
 * copy-on-write in the VMM while KVM maps it for the guest: the guest then
 * lost sight of what the VMM wrote (a virtqueue's used ring), and its I/O
 * hung after a backend restart, about one time in six.
 */
static void dont_fork(void *p, uint64_t size)
{
        (void)madvise(p, (size_t)size, MADV_DONTFORK);
}

void *ward_guest_ram_map(enum ward_ram_backing backing, uint64_t gpa, uint64_t size, char *err,
                         size_t errlen)
{
        void *p;
        switch (backing) {
        case WARD_RAM_HUGETLB:
                /*
                 * No MAP_NORESERVE: the kernel reserves every huge page now,
                 * so a host without enough of them fails here with a clear
                 * error instead of a SIGBUS when the guest first touches one.
                 */
                if ((gpa | size) & (SIZE_2M - 1)) {
                        snprintf(err, errlen,
                                 "hugetlb: RAM at 0x%llx of %llu bytes is not in whole 2M "
                                 "pages (its address and size must be 2M aligned)",
                                 (unsigned long long)gpa, (unsigned long long)size);
                        return NULL;
                }
                p = ward_map_congruent(gpa, size, SIZE_2M, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB,
                                       -1);
                if (p != MAP_FAILED)
                        dont_fork(p, size);
                if (p == MAP_FAILED) {
                        snprintf(err, errlen,
                                 "hugetlb: cannot get %llu free 2M huge pages for RAM at 0x%llx "
                                 "(%s; see HugePages_Free in /proc/meminfo and set "
                                 "/proc/sys/vm/nr_hugepages)",
                                 (unsigned long long)(size / SIZE_2M), (unsigned long long)gpa,
                                 strerror(errno));
                        return NULL;
                }
                return p;
        case WARD_RAM_OFF:
                p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (p != MAP_FAILED)
                        (void)madvise(p, (size_t)size, MADV_NOHUGEPAGE);
                break;
        case WARD_RAM_THP:
        default:
                p = ward_map_congruent(gpa, size, block_for(size), PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
                /* A host without THP says EINVAL: the RAM still works. */
                if (p != MAP_FAILED)
                        (void)madvise(p, (size_t)size, MADV_HUGEPAGE);
                break;
        }
        if (p == MAP_FAILED) {
                snprintf(err, errlen, "cannot reserve %lluM of RAM at 0x%llx: %s",
                         (unsigned long long)(size >> 20), (unsigned long long)gpa,
                         strerror(errno));
                return NULL;
        }
        dont_fork(p, size);
        return p;
}

void *ward_shared_map(uint64_t gpa, uint64_t size, bool read_only, int fd)
{
        int prot = read_only ? PROT_READ : PROT_READ | PROT_WRITE;
        if (size < SIZE_2M)
                return mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, 0);
        void *p = ward_map_congruent(gpa, size, SIZE_2M, prot, MAP_SHARED, fd);
        /* Shared memory (shmem) uses huge pages only where the host allows it. */
        if (p != MAP_FAILED)
                (void)madvise(p, (size_t)size, MADV_HUGEPAGE);
        return p;
}
