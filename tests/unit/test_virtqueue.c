/* SPDX-License-Identifier: BSD-2-Clause */
/* The split virtqueue against well-formed and hostile rings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake_guest.h"

#define N 8
#define F_NEXT WARD_VRING_DESC_F_NEXT
#define F_WRITE WARD_VRING_DESC_F_WRITE
#define F_INDIRECT WARD_VRING_DESC_F_INDIRECT

struct ctx {
        struct fake_guest g;
        struct ward_vq vq;
        struct ward_chain c;
};

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        fg_init(&x->g);
        assert_int_equal(fg_vq_setup(&x->g, &x->vq, 0, N, false), WARD_OK);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *x = *state;
        fg_free(&x->g);
        free(x);
        return 0;
}

static void empty_ring_yields_nothing(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 0);
}

static void readable_then_writable_chain(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 16, 0xaa), b = fg_alloc(&x->g, 100, 0);
        fg_desc(&x->g, 0, 3, a, 16, F_NEXT, 5);
        fg_desc(&x->g, 0, 5, b, 100, F_WRITE, 0);
        fg_avail(&x->g, 0, 3);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 1);
        assert_int_equal(x->c.head, 3);
        assert_int_equal(x->c.nout, 1);
        assert_int_equal(x->c.nin, 1);
        assert_int_equal(x->c.out_len, 16);
        assert_int_equal(x->c.in_len, 100);
        assert_ptr_equal(x->c.iov[0].base, fg_ptr(&x->g, a));
        assert_ptr_equal(x->c.iov[1].base, fg_ptr(&x->g, b));
        ward_vq_push(&x->vq, x->c.head, 42);
        uint32_t id, len;
        assert_int_equal(fg_used_idx(&x->g, 0), 1);
        fg_used_elem(&x->g, 0, 0, &id, &len);
        assert_int_equal(id, 3);
        assert_int_equal(len, 42);
}

static void descriptor_loop_fails_only_that_request(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 8, 0);
        fg_desc(&x->g, 0, 0, a, 8, F_NEXT, 1);
        fg_desc(&x->g, 0, 1, a, 8, F_NEXT, 0); /* 0 -> 1 -> 0 -> ... */
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EINVAL);
        assert_int_equal(x->c.head, 0);
        ward_vq_push(&x->vq, x->c.head, 0);
        /* The next, well-formed request is served. */
        fg_desc(&x->g, 0, 2, a, 8, 0, 0);
        fg_avail(&x->g, 0, 2);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 1);
        assert_int_equal(x->c.head, 2);
}

static void address_outside_ram_is_refused(void **state)
{
        struct ctx *x = *state;
        fg_desc(&x->g, 0, 0, FG_RAM_BASE + FG_RAM_SIZE - 4, 8, 0, 0); /* straddles the end */
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_ERANGE);
        fg_desc(&x->g, 0, 1, 0xfffffffffffffff0ull, 0x20, 0, 0); /* wraps around */
        fg_avail(&x->g, 0, 1);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_ERANGE);
}

static void writable_before_readable_is_refused(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 8, 0);
        fg_desc(&x->g, 0, 0, a, 8, F_WRITE | F_NEXT, 1);
        fg_desc(&x->g, 0, 1, a, 8, 0, 0);
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EINVAL);
}

static void next_out_of_range_is_refused(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 8, 0);
        fg_desc(&x->g, 0, 0, a, 8, F_NEXT, N); /* next == queue size */
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_ERANGE);
}

static void indirect_table(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 16, 1), b = fg_alloc(&x->g, 32, 2);
        uint64_t t = fg_alloc(&x->g, 32, 0);
        uint8_t *tp = fg_ptr(&x->g, t);
        ward_put_le64(tp, a);
        ward_put_le32(tp + 8, 16);
        tp[12] = F_NEXT;
        tp[14] = 1;
        ward_put_le64(tp + 16, b);
        ward_put_le32(tp + 24, 32);
        tp[28] = F_WRITE;
        fg_desc(&x->g, 0, 4, t, 32, F_INDIRECT, 0);
        fg_avail(&x->g, 0, 4);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 1);
        assert_int_equal(x->c.head, 4);
        assert_int_equal(x->c.out_len, 16);
        assert_int_equal(x->c.in_len, 32);
}

static void nested_indirect_is_refused(void **state)
{
        struct ctx *x = *state;
        uint64_t t = fg_alloc(&x->g, 16, 0);
        uint8_t *tp = fg_ptr(&x->g, t);
        ward_put_le64(tp, t);
        ward_put_le32(tp + 8, 16);
        tp[12] = F_INDIRECT;
        fg_desc(&x->g, 0, 0, t, 16, F_INDIRECT, 0);
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EINVAL);
}

static void indirect_bad_length_is_refused(void **state)
{
        struct ctx *x = *state;
        uint64_t t = fg_alloc(&x->g, 24, 0);
        fg_desc(&x->g, 0, 0, t, 24, F_INDIRECT, 0); /* not a multiple of 16 */
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EINVAL);
}

static void avail_index_running_ahead_breaks_queue(void **state)
{
        struct ctx *x = *state;
        fg_set_avail_idx(&x->g, 0, N + 1);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EBROKEN);
        assert_true(x->vq.broken);
}

static void head_out_of_range_breaks_queue(void **state)
{
        struct ctx *x = *state;
        fg_avail(&x->g, 0, N + 3);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EBROKEN);
}

static void ring_outside_ram_cannot_be_enabled(void **state)
{
        struct ctx *x = *state;
        struct ward_vq vq;
        ward_vq_reset(&vq);
        vq.num = N;
        vq.desc_gpa = FG_RAM_BASE + FG_RAM_SIZE - 16; /* table runs past RAM */
        vq.avail_gpa = FG_AVAIL(1);
        vq.used_gpa = FG_USED(1);
        assert_int_equal(ward_vq_enable(&vq, &x->g.gm, 256, false), WARD_ERANGE);
        assert_false(vq.ready);
        vq.desc_gpa = FG_DESC(1) + 8; /* misaligned */
        assert_int_equal(ward_vq_enable(&vq, &x->g.gm, 256, false), WARD_EINVAL);
        vq.desc_gpa = FG_DESC(1);
        vq.num = 6; /* not a power of two */
        assert_int_equal(ward_vq_enable(&vq, &x->g.gm, 256, false), WARD_EINVAL);
}

static void event_idx_suppresses_interrupts(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(fg_vq_setup(&x->g, &x->vq, 0, N, true), WARD_OK);
        uint64_t a = fg_alloc(&x->g, 8, 0);
        for (uint16_t i = 0; i < 3; i++)
                fg_desc(&x->g, 0, i, a, 8, F_WRITE, 0);
        /* Driver wants an interrupt only after the used index passes 2. */
        fg_set_used_event(&x->g, 0, 2);
        for (uint16_t i = 0; i < 3; i++)
                fg_avail(&x->g, 0, i);
        bool signalled[3];
        for (int i = 0; i < 3; i++) {
                assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 1);
                ward_vq_push(&x->vq, x->c.head, 8);
                signalled[i] = ward_vq_should_signal(&x->vq);
        }
        assert_true(signalled[0]); /* first signal is always sent */
        assert_false(signalled[1]);
        assert_true(signalled[2]); /* used index went 2 -> 3, crossing used_event 2 */
        /* Empty ring: the device asks to be notified at the next buffer. */
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), 0);
        assert_int_equal(fg_avail_event(&x->g, 0), 3);
}

static void chain_longer_than_queue_is_refused(void **state)
{
        struct ctx *x = *state;
        uint64_t a = fg_alloc(&x->g, 8, 0);
        /* A chain that visits every descriptor and then links to itself again. */
        for (uint16_t i = 0; i < N; i++)
                fg_desc(&x->g, 0, i, a, 8, F_NEXT, (uint16_t)((i + 1) % N));
        fg_avail(&x->g, 0, 0);
        assert_int_equal(ward_vq_pop(&x->vq, &x->g.gm, &x->c), WARD_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(empty_ring_yields_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(readable_then_writable_chain, setup, teardown),
            cmocka_unit_test_setup_teardown(descriptor_loop_fails_only_that_request, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(address_outside_ram_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(writable_before_readable_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(next_out_of_range_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(indirect_table, setup, teardown),
            cmocka_unit_test_setup_teardown(nested_indirect_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(indirect_bad_length_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(avail_index_running_ahead_breaks_queue, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(head_out_of_range_breaks_queue, setup, teardown),
            cmocka_unit_test_setup_teardown(ring_outside_ram_cannot_be_enabled, setup, teardown),
            cmocka_unit_test_setup_teardown(event_idx_suppresses_interrupts, setup, teardown),
            cmocka_unit_test_setup_teardown(chain_longer_than_queue_is_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
