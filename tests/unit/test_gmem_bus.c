/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest-physical map (the one checked translation) and the MMIO bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/machine/bus.h"
#include "ward/machine/gmem.h"

static uint8_t ram_a[0x1000], ram_b[0x1000];

/* ---- guest memory ---- */

static void gmem_add_refuses_zero_size_null_and_wrap(void **state)
{
        (void)state;
        struct ward_gmem gm;
        ward_gmem_init(&gm);
        assert_int_equal(ward_gmem_add(&gm, 0x1000, 0, ram_a), WARD_EINVAL);
        assert_int_equal(ward_gmem_add(&gm, 0x1000, 0x1000, NULL), WARD_EINVAL);
        /* [2^64 - 4K, 2^64 + 4K) wraps around. */
        assert_int_equal(ward_gmem_add(&gm, 0xfffffffffffff000ull, 0x2000, ram_a), WARD_EINVAL);
        assert_int_equal(ward_gmem_add(&gm, 1, UINT64_MAX, ram_a), WARD_EINVAL);
        assert_int_equal(gm.nregions, 0);
}

static void gmem_add_refuses_overlap(void **state)
{
        (void)state;
        struct ward_gmem gm;
        ward_gmem_init(&gm);
        assert_int_equal(ward_gmem_add(&gm, 0x10000, 0x1000, ram_a), WARD_OK);
        /* Same range, tail overlap, head overlap, containing, contained. */
        assert_int_equal(ward_gmem_add(&gm, 0x10000, 0x1000, ram_b), WARD_EBUSY);
        assert_int_equal(ward_gmem_add(&gm, 0x10fff, 0x1000, ram_b), WARD_EBUSY);
        assert_int_equal(ward_gmem_add(&gm, 0x0f001, 0x1000, ram_b), WARD_EBUSY);
        assert_int_equal(ward_gmem_add(&gm, 0x0f000, 0x3000, ram_b), WARD_EBUSY);
        assert_int_equal(ward_gmem_add(&gm, 0x10800, 0x10, ram_b), WARD_EBUSY);
        assert_int_equal(gm.nregions, 1);
        /* Touching on either side is not overlapping. */
        assert_int_equal(ward_gmem_add(&gm, 0x11000, 0x1000, ram_b), WARD_OK);
        assert_int_equal(ward_gmem_add(&gm, 0x0f000, 0x1000, ram_b), WARD_OK);
        assert_int_equal(gm.nregions, 3);
}

static void gmem_add_refuses_too_many(void **state)
{
        (void)state;
        struct ward_gmem gm;
        ward_gmem_init(&gm);
        for (unsigned i = 0; i < WARD_GMEM_MAX_REGIONS; i++)
                assert_int_equal(ward_gmem_add(&gm, 0x100000ull * (i + 1), 0x1000, ram_a), WARD_OK);
        assert_int_equal(ward_gmem_add(&gm, 0x10000000, 0x1000, ram_a), WARD_ENOSPC);
        assert_int_equal(gm.nregions, WARD_GMEM_MAX_REGIONS);
}

static void gmem_ptr_edges(void **state)
{
        (void)state;
        struct ward_gmem gm;
        ward_gmem_init(&gm);
        assert_int_equal(ward_gmem_add(&gm, 0x40000000, sizeof(ram_a), ram_a), WARD_OK);
        const uint64_t base = 0x40000000, end = base + sizeof(ram_a);

        assert_ptr_equal(ward_gmem_ptr(&gm, base, 1), ram_a);
        assert_ptr_equal(ward_gmem_ptr(&gm, base, sizeof(ram_a)), ram_a);
        assert_ptr_equal(ward_gmem_ptr(&gm, base + 0x10, 0x20), ram_a + 0x10);
        /* len 0 is refused, even at a valid address. */
        assert_null(ward_gmem_ptr(&gm, base, 0));
        /* Ending exactly at the region end is fine; one byte more is not. */
        assert_ptr_equal(ward_gmem_ptr(&gm, end - 4, 4), ram_a + sizeof(ram_a) - 4);
        assert_null(ward_gmem_ptr(&gm, end - 4, 5));
        assert_null(ward_gmem_ptr(&gm, base, sizeof(ram_a) + 1));
        /* One past the end, and below the start. */
        assert_null(ward_gmem_ptr(&gm, end, 1));
        assert_null(ward_gmem_ptr(&gm, base - 1, 1));
        assert_null(ward_gmem_ptr(&gm, base - 1, 2));
        assert_null(ward_gmem_ptr(&gm, 0, 1));
        /* Lengths whose end would wrap around 2^64. */
        assert_null(ward_gmem_ptr(&gm, base, UINT64_MAX));
        assert_null(ward_gmem_ptr(&gm, base + 1, UINT64_MAX));
        assert_null(ward_gmem_ptr(&gm, base + 0x10, UINT64_MAX - base));
        assert_null(ward_gmem_ptr(&gm, UINT64_MAX, 2));
        assert_null(ward_gmem_ptr(&gm, UINT64_MAX, 1));
}

static void gmem_ptr_gap_and_adjacent_regions(void **state)
{
        (void)state;
        struct ward_gmem gm;
        ward_gmem_init(&gm);
        /* Two regions with a hole between, then one adjacent to the second. */
        assert_int_equal(ward_gmem_add(&gm, 0x10000, 0x1000, ram_a), WARD_OK);
        assert_int_equal(ward_gmem_add(&gm, 0x20000, 0x1000, ram_b), WARD_OK);
        static uint8_t ram_c[0x1000];
        assert_int_equal(ward_gmem_add(&gm, 0x21000, 0x1000, ram_c), WARD_OK);

        assert_null(ward_gmem_ptr(&gm, 0x11000, 1));    /* in the gap */
        assert_null(ward_gmem_ptr(&gm, 0x18000, 16));   /* in the gap */
        assert_null(ward_gmem_ptr(&gm, 0x10ff0, 0x20)); /* region into the gap */
        assert_null(ward_gmem_ptr(&gm, 0x1fff0, 0x20)); /* gap into region */
        assert_ptr_equal(ward_gmem_ptr(&gm, 0x20010, 8), ram_b + 0x10);
        /* Adjacent regions are separate host buffers: a range across them is refused. */
        assert_ptr_equal(ward_gmem_ptr(&gm, 0x20ff0, 0x10), ram_b + 0xff0);
        assert_ptr_equal(ward_gmem_ptr(&gm, 0x21000, 0x10), ram_c);
        assert_null(ward_gmem_ptr(&gm, 0x20ff0, 0x20));
        assert_null(ward_gmem_ptr(&gm, 0x20fff, 2));
        assert_null(ward_gmem_ptr(&gm, 0x20000, 0x2000));
}

/* ---- the bus ---- */

struct rec_dev {
        unsigned reads, writes;
        uint64_t off;
        unsigned len;
        uint8_t last_write[8];
        uint8_t reply[8];
};

static void rec_read(void *dev, uint64_t off, void *data, unsigned len)
{
        struct rec_dev *d = dev;
        d->reads++;
        d->off = off;
        d->len = len;
        memcpy(data, d->reply, len);
}

static void rec_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct rec_dev *d = dev;
        d->writes++;
        d->off = off;
        d->len = len;
        memcpy(d->last_write, data, len);
}

static const struct ward_mmio_ops rec_ops = {.read = rec_read, .write = rec_write};
static const struct ward_mmio_ops no_ops = {.read = NULL, .write = NULL};

static void bus_register_refuses_bad_windows(void **state)
{
        (void)state;
        struct ward_bus_window storage[3];
        struct ward_bus bus;
        struct rec_dev d = {0};
        ward_bus_init(&bus, storage, 3);
        assert_int_equal(ward_bus_register(&bus, 0x1000, 0, &rec_ops, &d), WARD_EINVAL);
        assert_int_equal(ward_bus_register(&bus, 0x1000, 0x100, NULL, &d), WARD_EINVAL);
        assert_int_equal(ward_bus_register(&bus, 0xffffffffffffff00ull, 0x200, &rec_ops, &d),
                         WARD_EINVAL);
        assert_int_equal(ward_bus_register(&bus, 0x1000, 0x100, &rec_ops, &d), WARD_OK);
        assert_int_equal(ward_bus_register(&bus, 0x1000, 0x100, &rec_ops, &d), WARD_EBUSY);
        assert_int_equal(ward_bus_register(&bus, 0x10f0, 0x20, &rec_ops, &d), WARD_EBUSY);
        assert_int_equal(ward_bus_register(&bus, 0x0ff0, 0x11, &rec_ops, &d), WARD_EBUSY);
        assert_int_equal(ward_bus_register(&bus, 0x0000, 0x10000, &rec_ops, &d), WARD_EBUSY);
        assert_int_equal(bus.nwin, 1);
        /* Adjacent windows are fine. */
        assert_int_equal(ward_bus_register(&bus, 0x1100, 0x100, &rec_ops, &d), WARD_OK);
        assert_int_equal(ward_bus_register(&bus, 0x0f00, 0x100, &rec_ops, &d), WARD_OK);
        /* Storage is full now. */
        assert_int_equal(ward_bus_register(&bus, 0x9000, 0x100, &rec_ops, &d), WARD_ENOSPC);
        assert_int_equal(bus.nwin, 3);
}

struct bus_ctx {
        struct ward_bus_window storage[4];
        struct ward_bus bus;
        struct rec_dev a, b;
};

#define WIN_A 0x09000000ull
#define WIN_B 0x0a000000ull

static int bus_setup(void **state)
{
        struct bus_ctx *x = calloc(1, sizeof(*x));
        ward_bus_init(&x->bus, x->storage, 4);
        assert_int_equal(ward_bus_register(&x->bus, WIN_A, 0x1000, &rec_ops, &x->a), WARD_OK);
        assert_int_equal(ward_bus_register(&x->bus, WIN_B, 0x200, &rec_ops, &x->b), WARD_OK);
        for (int i = 0; i < 8; i++) {
                x->a.reply[i] = (uint8_t)(0xa0 + i);
                x->b.reply[i] = (uint8_t)(0xb0 + i);
        }
        *state = x;
        return 0;
}

static int bus_teardown(void **state)
{
        free(*state);
        return 0;
}

static void bus_dispatches_with_window_offsets(void **state)
{
        struct bus_ctx *x = *state;
        uint8_t buf[8];
        memset(buf, 0xee, sizeof(buf));
        assert_int_equal(ward_bus_access(&x->bus, WIN_A + 0x10, false, buf, 4), WARD_BUS_HANDLED);
        assert_int_equal(x->a.reads, 1);
        assert_int_equal(x->a.off, 0x10);
        assert_int_equal(x->a.len, 4);
        assert_int_equal(ward_le32(buf), 0xa3a2a1a0u);
        assert_int_equal(buf[4], 0xee); /* only len bytes are touched */

        assert_int_equal(ward_bus_access(&x->bus, WIN_B + 0x1f8, false, buf, 8), WARD_BUS_HANDLED);
        assert_int_equal(x->b.reads, 1);
        assert_int_equal(x->b.off, 0x1f8);
        assert_int_equal(x->b.len, 8);
        assert_int_equal(ward_le64(buf), 0xb7b6b5b4b3b2b1b0ull);

        uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        assert_int_equal(ward_bus_access(&x->bus, WIN_B, true, w, 2), WARD_BUS_HANDLED);
        assert_int_equal(x->b.writes, 1);
        assert_int_equal(x->b.off, 0);
        assert_int_equal(x->b.len, 2);
        assert_memory_equal(x->b.last_write, w, 2);
        assert_int_equal(ward_bus_access(&x->bus, WIN_A + 0xfff, true, w, 1), WARD_BUS_HANDLED);
        assert_int_equal(x->a.writes, 1);
        assert_int_equal(x->a.off, 0xfff);
        assert_int_equal(x->a.len, 1);
        assert_int_equal(x->b.writes, 1); /* the other device saw nothing */
}

static void bus_unmapped_reads_zero(void **state)
{
        struct bus_ctx *x = *state;
        uint8_t buf[8];
        static const uint8_t zero[8];
        const uint64_t holes[] = {0, WIN_A - 1, WIN_A + 0x1000, WIN_B + 0x200, UINT64_MAX - 7};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(holes); i++) {
                memset(buf, 0xee, sizeof(buf));
                assert_int_equal(ward_bus_access(&x->bus, holes[i], false, buf, 8),
                                 WARD_BUS_UNMAPPED);
                assert_memory_equal(buf, zero, 8);
                assert_int_equal(ward_bus_access(&x->bus, holes[i], true, buf, 8),
                                 WARD_BUS_UNMAPPED);
        }
        assert_int_equal(x->a.reads + x->a.writes + x->b.reads + x->b.writes, 0);
}

static void bus_refuses_bad_sizes_and_straddles(void **state)
{
        struct bus_ctx *x = *state;
        uint8_t buf[16];
        static const uint8_t zero[8];
        const unsigned bad_len[] = {0, 3, 5, 16};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(bad_len); i++) {
                memset(buf, 0xee, sizeof(buf));
                assert_int_equal(ward_bus_access(&x->bus, WIN_A, false, buf, bad_len[i]),
                                 WARD_BUS_BAD_ACCESS);
                /* No stale bytes in what the guest may be handed back. */
                unsigned z = bad_len[i] < 8 ? bad_len[i] : 8;
                assert_memory_equal(buf, zero, z);
                assert_int_equal(ward_bus_access(&x->bus, WIN_A, true, buf, bad_len[i]),
                                 WARD_BUS_BAD_ACCESS);
        }
        /* Straddling the end of a window, for reads and writes. */
        memset(buf, 0xee, sizeof(buf));
        assert_int_equal(ward_bus_access(&x->bus, WIN_A + 0xffc, false, buf, 8),
                         WARD_BUS_BAD_ACCESS);
        assert_memory_equal(buf, zero, 8);
        assert_int_equal(ward_bus_access(&x->bus, WIN_A + 0xfff, false, buf, 2),
                         WARD_BUS_BAD_ACCESS);
        assert_int_equal(ward_bus_access(&x->bus, WIN_B + 0x1fe, true, buf, 4),
                         WARD_BUS_BAD_ACCESS);
        assert_int_equal(ward_bus_access(&x->bus, WIN_B + 0x1f9, true, buf, 8),
                         WARD_BUS_BAD_ACCESS);
        assert_int_equal(x->a.reads + x->a.writes + x->b.reads + x->b.writes, 0);
}

static void bus_window_without_ops_reads_zero(void **state)
{
        (void)state;
        struct ward_bus_window storage[1];
        struct ward_bus bus;
        ward_bus_init(&bus, storage, 1);
        assert_int_equal(ward_bus_register(&bus, 0x5000, 0x100, &no_ops, NULL), WARD_OK);
        uint8_t buf[4] = {0xee, 0xee, 0xee, 0xee};
        assert_int_equal(ward_bus_access(&bus, 0x5010, false, buf, 4), WARD_BUS_HANDLED);
        assert_int_equal(ward_le32(buf), 0);
        assert_int_equal(ward_bus_access(&bus, 0x5010, true, buf, 4), WARD_BUS_HANDLED);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(gmem_add_refuses_zero_size_null_and_wrap),
            cmocka_unit_test(gmem_add_refuses_overlap),
            cmocka_unit_test(gmem_add_refuses_too_many),
            cmocka_unit_test(gmem_ptr_edges),
            cmocka_unit_test(gmem_ptr_gap_and_adjacent_regions),
            cmocka_unit_test(bus_register_refuses_bad_windows),
            cmocka_unit_test_setup_teardown(bus_dispatches_with_window_offsets, bus_setup,
                                            bus_teardown),
            cmocka_unit_test_setup_teardown(bus_unmapped_reads_zero, bus_setup, bus_teardown),
            cmocka_unit_test_setup_teardown(bus_refuses_bad_sizes_and_straddles, bus_setup,
                                            bus_teardown),
            cmocka_unit_test(bus_window_without_ops_reads_zero),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
