/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared-memory SPSC ring: order, full and empty, 32-bit index
 * wrap-around, and a hostile peer that writes its index (or our index, or
 * the header's geometry, or the slots) with anything it likes. The ring
 * memory is an exact-size heap block, so ASan catches any access outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/port/port_ring.h"

#define COUNT 8u
#define SLOT 16u

struct rings {
        uint8_t *mem;
        size_t bytes;
        struct ward_ring prod, cons;
};

static struct rings *new_rings(uint32_t start)
{
        struct rings *r = calloc(1, sizeof(*r));
        r->bytes = ward_ring_bytes(COUNT, SLOT);
        r->mem = malloc(r->bytes);
        memset(r->mem, 0xa5, r->bytes); /* not zero: format must set what matters */
        assert_int_equal(ward_ring_format(r->mem, r->bytes, COUNT, SLOT, start), WARD_OK);
        assert_int_equal(
            ward_ring_attach(&r->prod, r->mem, r->bytes, COUNT, SLOT, WARD_RING_PRODUCER), WARD_OK);
        assert_int_equal(
            ward_ring_attach(&r->cons, r->mem, r->bytes, COUNT, SLOT, WARD_RING_CONSUMER), WARD_OK);
        return r;
}

static void free_rings(struct rings *r)
{
        free(r->mem);
        free(r);
}

static uint32_t *shared_index(struct rings *r, uint32_t off)
{
        return (uint32_t *)(void *)(r->mem + off);
}

static void fill(uint8_t *slot, uint32_t v)
{
        for (unsigned i = 0; i < SLOT; i++)
                slot[i] = (uint8_t)(v * 7 + i);
}

static void check(const uint8_t *slot, uint32_t v)
{
        for (unsigned i = 0; i < SLOT; i++)
                assert_int_equal(slot[i], (uint8_t)(v * 7 + i));
}

static void geometry_is_checked(void **state)
{
        (void)state;
        assert_int_equal(ward_ring_bytes(0, 16), 0);
        assert_int_equal(ward_ring_bytes(6, 16), 0); /* not a power of two */
        assert_int_equal(ward_ring_bytes(8, 0), 0);
        assert_int_equal(ward_ring_bytes(8, WARD_RING_MAX_SLOT_SIZE + 1), 0);
        assert_int_equal(ward_ring_bytes(WARD_RING_MAX_SLOTS * 2, 1), 0);
        assert_int_equal(ward_ring_bytes(8, 16), WARD_RING_HDR_BYTES + 128);
        uint32_t mem[64] = {0};
        struct ward_ring r;
        assert_int_equal(ward_ring_attach(&r, mem, sizeof(mem), 16, 16, WARD_RING_PRODUCER),
                         WARD_EINVAL); /* 256 bytes is too small for 128 + 256 */
        assert_true(ward_ring_is_broken(&r));
        assert_int_equal(ward_ring_push(&r, mem), WARD_EBROKEN);
        assert_int_equal(ward_ring_attach(&r, mem, sizeof(mem), 8, 16, WARD_RING_PRODUCER),
                         WARD_OK); /* exactly enough */
        assert_int_equal(ward_ring_format(mem, sizeof(mem), 3, 16, 0), WARD_EINVAL);
        /* Misaligned memory cannot hold the atomic indices. */
        assert_int_equal(
            ward_ring_attach(&r, (uint8_t *)mem + 1, sizeof(mem) - 1, 1, 1, WARD_RING_PRODUCER),
            WARD_EINVAL);
}

static void zero_memory_is_an_empty_ring(void **state)
{
        (void)state;
        size_t bytes = ward_ring_bytes(COUNT, SLOT);
        uint8_t *mem = calloc(1, bytes);
        struct ward_ring p, c;
        assert_int_equal(ward_ring_attach(&p, mem, bytes, COUNT, SLOT, WARD_RING_PRODUCER),
                         WARD_OK);
        assert_int_equal(ward_ring_attach(&c, mem, bytes, COUNT, SLOT, WARD_RING_CONSUMER),
                         WARD_OK);
        uint8_t s[SLOT];
        assert_int_equal(ward_ring_pop(&c, s), 0);
        fill(s, 1);
        assert_int_equal(ward_ring_push(&p, s), 1);
        memset(s, 0, sizeof(s));
        assert_int_equal(ward_ring_pop(&c, s), 1);
        check(s, 1);
        free(mem);
}

static void push_pop_in_order_full_and_empty(void **state)
{
        (void)state;
        struct rings *r = new_rings(0);
        uint8_t s[SLOT];
        assert_int_equal(ward_ring_pop(&r->cons, s), 0);
        assert_int_equal(ward_ring_used(&r->cons), 0);
        assert_int_equal(ward_ring_room(&r->prod), COUNT);
        for (uint32_t i = 0; i < COUNT; i++) {
                fill(s, i);
                assert_int_equal(ward_ring_push(&r->prod, s), 1);
        }
        fill(s, 99);
        assert_int_equal(ward_ring_push(&r->prod, s), 0); /* full */
        assert_int_equal(ward_ring_room(&r->prod), 0);
        assert_int_equal(ward_ring_used(&r->cons), COUNT);
        for (uint32_t i = 0; i < COUNT; i++) {
                assert_int_equal(ward_ring_pop(&r->cons, s), 1);
                check(s, i);
        }
        assert_int_equal(ward_ring_pop(&r->cons, s), 0); /* empty */
        assert_int_equal(ward_ring_room(&r->prod), COUNT);
        /* Roles are enforced. */
        assert_int_equal(ward_ring_pop(&r->prod, s), WARD_EINVAL);
        assert_int_equal(ward_ring_push(&r->cons, s), WARD_EINVAL);
        free_rings(r);
}

/* Batches of every size, from start indices that wrap the 32-bit counters. */
static void batches_across_index_wrap(void **state)
{
        (void)state;
        const uint32_t starts[] = {0, UINT32_MAX - 3, UINT32_MAX - COUNT, UINT32_MAX};
        for (unsigned t = 0; t < sizeof(starts) / sizeof(starts[0]); t++) {
                struct rings *r = new_rings(starts[t]);
                uint8_t in[COUNT * SLOT], out[COUNT * SLOT];
                uint32_t next_in = 0, next_out = 0;
                for (unsigned round = 0; round < 200; round++) {
                        uint32_t n = 1 + (round * 5) % COUNT;
                        for (uint32_t i = 0; i < n; i++)
                                fill(in + i * SLOT, next_in + i);
                        int pushed = ward_ring_push_n(&r->prod, in, n);
                        assert_true(pushed >= 0 && (uint32_t)pushed <= n);
                        next_in += (uint32_t)pushed;
                        uint32_t m = 1 + (round * 3) % COUNT;
                        int popped = ward_ring_pop_n(&r->cons, out, m);
                        assert_true(popped >= 0 && (uint32_t)popped <= m);
                        for (int i = 0; i < popped; i++)
                                check(out + i * SLOT, next_out + (uint32_t)i);
                        next_out += (uint32_t)popped;
                        assert_true(next_in - next_out <= COUNT);
                }
                assert_true(next_out > 500);
                /* The indices really did pass UINT32_MAX. */
                if (starts[t] != 0)
                        assert_true(r->cons.own < starts[t]);
                assert_false(ward_ring_is_broken(&r->prod));
                assert_false(ward_ring_is_broken(&r->cons));
                free_rings(r);
        }
}

static void peek_then_consume(void **state)
{
        (void)state;
        struct rings *r = new_rings(0);
        uint8_t in[3 * SLOT], out[3 * SLOT];
        for (uint32_t i = 0; i < 3; i++)
                fill(in + i * SLOT, i);
        assert_int_equal(ward_ring_push_n(&r->prod, in, 3), 3);
        assert_int_equal(ward_ring_peek_n(&r->cons, out, 3), 3);
        assert_int_equal(ward_ring_consume(&r->cons, 4), WARD_EINVAL); /* more than there is */
        assert_int_equal(ward_ring_consume(&r->cons, 1), WARD_OK);
        assert_int_equal(ward_ring_peek_n(&r->cons, out, 3), 2);
        check(out, 1);
        check(out + SLOT, 2);
        free_rings(r);
}

/* The producer index runs more than a ring ahead: broken, and it stays broken. */
static void hostile_producer_far_ahead(void **state)
{
        (void)state;
        struct rings *r = new_rings(UINT32_MAX - 2);
        uint8_t s[SLOT];
        uint32_t cons = *shared_index(r, WARD_RING_OFF_CONS);
        *shared_index(r, WARD_RING_OFF_PROD) = cons + COUNT + 1;
        assert_int_equal(ward_ring_pop(&r->cons, s), WARD_EBROKEN);
        assert_true(ward_ring_is_broken(&r->cons));
        /* Putting the index back does not repair it: the peer cannot be trusted again. */
        *shared_index(r, WARD_RING_OFF_PROD) = cons;
        assert_int_equal(ward_ring_pop(&r->cons, s), WARD_EBROKEN);
        assert_int_equal(ward_ring_used(&r->cons), WARD_EBROKEN);
        assert_int_equal(ward_ring_consume(&r->cons, 0), WARD_EBROKEN);
        free_rings(r);
}

/* A producer that takes back slots it published is as bad. */
static void hostile_producer_goes_backwards(void **state)
{
        (void)state;
        struct rings *r = new_rings(1);
        uint8_t s[4 * SLOT] = {0};
        assert_int_equal(ward_ring_push_n(&r->prod, s, 4), 4);
        assert_int_equal(ward_ring_used(&r->cons), 4);
        *shared_index(r, WARD_RING_OFF_PROD) -= 2;
        assert_int_equal(ward_ring_pop(&r->cons, s), WARD_EBROKEN);
        free_rings(r);
}

/* The consumer claims slots that were never produced, or goes backwards. */
static void hostile_consumer_ahead_or_backwards(void **state)
{
        (void)state;
        struct rings *r = new_rings(UINT32_MAX);
        uint8_t s[SLOT] = {0};
        assert_int_equal(ward_ring_push(&r->prod, s), 1);
        uint32_t prod = *shared_index(r, WARD_RING_OFF_PROD);
        *shared_index(r, WARD_RING_OFF_CONS) = prod + 1;
        assert_int_equal(ward_ring_push(&r->prod, s), WARD_EBROKEN);
        assert_int_equal(ward_ring_room(&r->prod), WARD_EBROKEN);
        free_rings(r);

        r = new_rings(5);
        assert_int_equal(ward_ring_push(&r->prod, s), 1);
        assert_int_equal(ward_ring_pop(&r->cons, s), 1);
        assert_int_equal(ward_ring_room(&r->prod), COUNT);
        *shared_index(r, WARD_RING_OFF_CONS) = 4; /* before where it was */
        assert_int_equal(ward_ring_push(&r->prod, s), WARD_EBROKEN);
        free_rings(r);
}

/* The peer scribbles on our own index: we never read it back. */
static void peer_overwrites_our_index(void **state)
{
        (void)state;
        struct rings *r = new_rings(0);
        uint8_t s[SLOT];
        fill(s, 1);
        assert_int_equal(ward_ring_push(&r->prod, s), 1);
        *shared_index(r, WARD_RING_OFF_CONS) = 0; /* consumer's own index, unchanged value */
        *shared_index(r, WARD_RING_OFF_PROD) = 1;
        assert_int_equal(ward_ring_pop(&r->cons, s), 1);
        check(s, 1);
        /* The producer rewrites the consumer index backwards; the consumer ignores it. */
        *shared_index(r, WARD_RING_OFF_CONS) = 0;
        assert_int_equal(ward_ring_pop(&r->cons, s), 0);
        assert_int_equal(r->cons.own, 1);
        free_rings(r);
}

/* Garbage geometry in the header and garbage slots: copied out, never interpreted. */
static void garbage_header_geometry_and_slots(void **state)
{
        (void)state;
        struct rings *r = new_rings(0);
        *shared_index(r, WARD_RING_OFF_COUNT) = 0xffffffffu;
        *shared_index(r, WARD_RING_OFF_SLOT_SIZE) = 0x7fffffffu;
        *shared_index(r, WARD_RING_OFF_MAGIC) = 0;
        memset(r->mem + WARD_RING_HDR_BYTES, 0xcc, COUNT * SLOT);
        *shared_index(r, WARD_RING_OFF_PROD) = COUNT; /* claims a full ring of garbage */
        uint8_t out[COUNT * SLOT + 1];
        out[COUNT * SLOT] = 0x11;
        assert_int_equal(ward_ring_pop_n(&r->cons, out, COUNT + 5), COUNT);
        for (unsigned i = 0; i < COUNT * SLOT; i++)
                assert_int_equal(out[i], 0xcc);
        assert_int_equal(out[COUNT * SLOT], 0x11); /* local geometry bounds the copy */
        free_rings(r);
}

/* Indices already inconsistent when a side attaches. */
static void attach_to_inconsistent_ring(void **state)
{
        (void)state;
        struct rings *r = new_rings(0);
        *shared_index(r, WARD_RING_OFF_PROD) = 1000;
        struct ward_ring c;
        assert_int_equal(ward_ring_attach(&c, r->mem, r->bytes, COUNT, SLOT, WARD_RING_CONSUMER),
                         WARD_EBROKEN);
        uint8_t s[SLOT];
        assert_int_equal(ward_ring_pop(&c, s), WARD_EBROKEN);
        free_rings(r);
}

/*
 * Random hostile indices against both sides. Whatever the peer writes,
 * every call returns a count within bounds or WARD_EBROKEN, and nothing is
 * read or written outside the ring (ASan).
 */
static void random_hostile_indices(void **state)
{
        (void)state;
        uint32_t seed = 12345;
        unsigned broken = 0;
        for (unsigned iter = 0; iter < 2000; iter++) {
                struct rings *r = new_rings(seed);
                uint8_t buf[COUNT * SLOT];
                memset(buf, 0, sizeof(buf));
                for (unsigned step = 0; step < 8; step++) {
                        seed = seed * 1103515245u + 12345u;
                        uint32_t v = (seed >> 3) % 4 == 0 ? seed : r->cons.own + (seed >> 20) % 12;
                        bool hit_prod = seed & 1;
                        *shared_index(r, hit_prod ? WARD_RING_OFF_PROD : WARD_RING_OFF_CONS) = v;
                        int a = ward_ring_pop_n(&r->cons, buf, COUNT);
                        int b = ward_ring_push_n(&r->prod, buf, COUNT);
                        assert_true(a == WARD_EBROKEN || (a >= 0 && a <= (int)COUNT));
                        assert_true(b == WARD_EBROKEN || (b >= 0 && b <= (int)COUNT));
                        /* Our own view never has more than a ring's worth outstanding. */
                        assert_true(r->cons.peer - r->cons.own <= COUNT);
                        assert_true(r->prod.own - r->prod.peer <= COUNT);
                }
                broken += ward_ring_is_broken(&r->cons) + ward_ring_is_broken(&r->prod);
                free_rings(r);
        }
        assert_true(broken > 100); /* the checks did fire */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(geometry_is_checked),
            cmocka_unit_test(zero_memory_is_an_empty_ring),
            cmocka_unit_test(push_pop_in_order_full_and_empty),
            cmocka_unit_test(batches_across_index_wrap),
            cmocka_unit_test(peek_then_consume),
            cmocka_unit_test(hostile_producer_far_ahead),
            cmocka_unit_test(hostile_producer_goes_backwards),
            cmocka_unit_test(hostile_consumer_ahead_or_backwards),
            cmocka_unit_test(peer_overwrites_our_index),
            cmocka_unit_test(garbage_header_geometry_and_slots),
            cmocka_unit_test(attach_to_inconsistent_ring),
            cmocka_unit_test(random_hostile_indices),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
