/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Guest RAM placement (src/host/linux/guest_ram.c): host addresses
 * congruent with guest-physical ones modulo the block size, nothing of the
 * reservation left mapped around them, the memory usable, and hugetlb's
 * refusals.
 */
#include "ward/host/linux/guest_ram.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* True when the page at p is mapped (mincore fails with ENOMEM otherwise). */
static bool mapped(const void *p)
{
        unsigned char v;
        long page = sysconf(_SC_PAGESIZE);
        void *a = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
        return mincore(a, (size_t)page, &v) == 0 || errno != ENOMEM;
}

/* Writes every page and reads it back. */
static void touch_all(uint8_t *p, uint64_t size)
{
        for (uint64_t o = 0; o < size; o += 4096)
                p[o] = (uint8_t)(o >> 12);
        for (uint64_t o = 0; o < size; o += 4096)
                assert_int_equal(p[o], (uint8_t)(o >> 12));
}

static void thp_ram_is_congruent_and_exact(void **state)
{
        (void)state;
        static const struct {
                uint64_t gpa, size, align;
        } cases[] = {
            {0x40000000, 64 * MiB, 2 * MiB},
            {0x40000000 + 6 * MiB, 3 * MiB + 4096, 2 * MiB},
            {0x80001000, 8 * MiB, 2 * MiB}, /* a --ram region need only be 4K aligned */
            {0x40000000 + 512 * MiB, 1 * GiB, 1 * GiB},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char err[256] = "";
                uint8_t *p =
                    ward_guest_ram_map(WARD_RAM_THP, cases[i].gpa, cases[i].size, err, sizeof(err));
                assert_non_null(p);
                assert_string_equal(err, "");
                assert_int_equal((uintptr_t)p & (cases[i].align - 1),
                                 cases[i].gpa & (cases[i].align - 1));
                /* The reservation around it was given back. */
                assert_false(mapped(p - 4096));
                assert_false(mapped(p + cases[i].size));
                assert_true(mapped(p));
                touch_all(p, cases[i].size < 64 * MiB ? cases[i].size : 64 * MiB);
                assert_int_equal(munmap(p, cases[i].size), 0);
        }
}

/* Guest RAM is not in a forked child (a disk backend): no copy-on-write of it in the VMM. */
static void ram_stays_out_of_children(void **state)
{
        (void)state;
        static const enum ward_ram_backing backings[] = {WARD_RAM_THP, WARD_RAM_OFF};
        for (size_t i = 0; i < 2; i++) {
                char err[256] = "";
                uint8_t *p = ward_guest_ram_map(backings[i], 0x40000000, 4 * MiB, err, sizeof(err));
                assert_non_null(p);
                p[0] = 1;
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0)
                        _exit(mapped(p) ? 1 : 0);
                int status = -1;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                assert_true(mapped(p));
                assert_int_equal(munmap(p, 4 * MiB), 0);
        }
}

static void off_ram_is_plain_memory(void **state)
{
        (void)state;
        char err[256] = "";
        uint8_t *p = ward_guest_ram_map(WARD_RAM_OFF, 0x40000000, 16 * MiB, err, sizeof(err));
        assert_non_null(p);
        touch_all(p, 16 * MiB);
        assert_int_equal(munmap(p, 16 * MiB), 0);
}

/* HugePages_Free from /proc/meminfo, in 2M pages (0 when unknown). */
static unsigned long free_huge_pages(void)
{
        FILE *f = fopen("/proc/meminfo", "r");
        char line[256];
        unsigned long n = 0, kb = 0, free_pages = 0;
        if (!f)
                return 0;
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
                        free_pages = n;
                sscanf(line, "Hugepagesize: %lu kB", &kb);
        }
        fclose(f);
        return kb == 2048 ? free_pages : 0;
}

static void hugetlb_refuses_partial_pages(void **state)
{
        (void)state;
        char err[256] = "";
        assert_null(ward_guest_ram_map(WARD_RAM_HUGETLB, 0x40000000, 17 * MiB, err, sizeof(err)));
        assert_string_equal(err, "hugetlb: RAM at 0x40000000 of 17825792 bytes is not in whole 2M "
                                 "pages (its address and size must be 2M aligned)");
        assert_null(ward_guest_ram_map(WARD_RAM_HUGETLB, 0x40001000, 16 * MiB, err, sizeof(err)));
        assert_non_null(strstr(err, "is not in whole 2M pages"));
}

/*
 * More than the host has free: a clear error at start, never a SIGBUS
 * later. Where the host has some, a mapping within them works.
 */
static void hugetlb_needs_free_pages(void **state)
{
        (void)state;
        char err[512] = "";
        unsigned long free_pages = free_huge_pages();
        uint64_t too_many = (free_pages + 1) * 2 * MiB;
        assert_null(ward_guest_ram_map(WARD_RAM_HUGETLB, 0x40000000, too_many, err, sizeof(err)));
        char want[128];
        snprintf(want, sizeof(want),
                 "hugetlb: cannot get %lu free 2M huge pages for RAM at "
                 "0x40000000 (",
                 free_pages + 1);
        assert_memory_equal(err, want, strlen(want));
        assert_non_null(strstr(err, "/proc/sys/vm/nr_hugepages"));
        if (free_pages == 0)
                return; /* this host has none to try a good mapping with */
        uint8_t *p = ward_guest_ram_map(WARD_RAM_HUGETLB, 0x40000000, 2 * MiB, err, sizeof(err));
        assert_non_null(p);
        touch_all(p, 2 * MiB);
        assert_int_equal(munmap(p, 2 * MiB), 0);
}

static void shared_region_is_congruent(void **state)
{
        (void)state;
        int fd = memfd_create("ward-test-shm", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 4 * MiB), 0);
        uint8_t *p = ward_shared_map(0x200000000 + 2 * MiB, 4 * MiB, false, fd);
        assert_true(p != MAP_FAILED);
        assert_int_equal((uintptr_t)p & (2 * MiB - 1), 0);
        touch_all(p, 4 * MiB);
        /* Another mapping of the memfd sees the same bytes. */
        uint8_t *q = ward_shared_map(0x200000000 + 4096, 4 * MiB, true, fd);
        assert_true(q != MAP_FAILED);
        assert_int_equal((uintptr_t)q & (2 * MiB - 1), 4096);
        assert_memory_equal(p, q, 4 * MiB);
        munmap(p, 4 * MiB);
        munmap(q, 4 * MiB);
        /* A small region is mapped as it is. */
        q = ward_shared_map(0x200000000, 64 * 1024, true, fd);
        assert_true(q != MAP_FAILED);
        munmap(q, 64 * 1024);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(thp_ram_is_congruent_and_exact),
            cmocka_unit_test(off_ram_is_plain_memory),
            cmocka_unit_test(ram_stays_out_of_children),
            cmocka_unit_test(hugetlb_refuses_partial_pages),
            cmocka_unit_test(hugetlb_needs_free_pages),
            cmocka_unit_test(shared_region_is_congruent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
