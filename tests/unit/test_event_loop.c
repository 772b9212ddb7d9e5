/* SPDX-License-Identifier: BSD-2-Clause */
/* The event loop: ready sources run, held-back sources are looked at again
 * soon, idle ones are not, and POLLOUT sources wait for room. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ward/host/linux/event_loop.h"

static unsigned ran;

static void ready(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)ctx, (void)s, (void)revents;
        ran++;
}

static bool never(void *ctx, struct ward_loop_source *s)
{
        (void)ctx, (void)s;
        return false;
}

static long ms_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void held_back_retries_soon_idle_does_not(void **state)
{
        (void)state;
        int p[2];
        assert_int_equal(pipe(p), 0);
        struct ward_loop_source src[2];
        struct ward_loop l;
        ward_loop_init(&l, src, 2);
        struct ward_loop_source *s = ward_loop_add(&l, p[0], ready, never, NULL, 0);
        assert_non_null(s);
        /* Held back: the loop looks again within WARD_LOOP_RETRY_MS, not the 5 s asked. */
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(ward_loop_run_once(&l, NULL, 5000), 0);
        assert_true(ms_since(&t0) < 2000);
        /* Idle: it waits the whole timeout. */
        s->idle_ok = true;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(ward_loop_run_once(&l, NULL, 300), 0);
        assert_true(ms_since(&t0) >= 250);
        assert_int_equal(ran, 0);
        /* Wanted and readable: it runs. */
        s->wanted = NULL;
        assert_int_equal(write(p[1], "x", 1), 1);
        assert_int_equal(ward_loop_run_once(&l, NULL, 1000), 0);
        assert_int_equal(ran, 1);
        /* A POLLOUT source on the writable end runs at once. */
        struct ward_loop_source *o = ward_loop_add(&l, p[1], ready, NULL, NULL, 1);
        o->events = POLLOUT;
        s->off = true;
        assert_int_equal(ward_loop_run_once(&l, NULL, 1000), 0);
        assert_int_equal(ran, 2);
        /* The table is full. */
        assert_null(ward_loop_add(&l, p[1], ready, NULL, NULL, 2));
        close(p[0]);
        close(p[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(held_back_retries_soon_idle_does_not),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
