/* SPDX-License-Identifier: BSD-2-Clause */
/* The terminal's escape filter (Ctrl-A x) and the kernel panic watch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/host/linux/host_linux.h"

#define CA "\x01" /* Ctrl-A */

/* A terminal in tty mode without touching the real one. */
static struct ward_term tty(void)
{
        struct ward_term t;
        memset(&t, 0, sizeof(t));
        t.is_tty = true;
        return t;
}

/* Filters s and checks the bytes for the guest and the quit flag. */
static void expect(struct ward_term *t, const char *in, size_t inlen, const char *want,
                   size_t wantlen, bool want_quit)
{
        uint8_t out[64];
        memset(out, 0xee, sizeof(out));
        assert_true(inlen + 1 <= sizeof(out));
        bool quit = !want_quit;
        size_t n = ward_term_filter(t, (const uint8_t *)in, inlen, out, &quit);
        assert_int_equal(n, wantlen);
        assert_memory_equal(out, want, wantlen);
        assert_int_equal(quit, want_quit);
}

#define EXPECT(t, in, want, q) expect(t, in, sizeof(in) - 1, want, sizeof(want) - 1, q)

static void plain_bytes_pass(void **state)
{
        (void)state;
        struct ward_term t = tty();
        EXPECT(&t, "ls -l\r", "ls -l\r", false);
        EXPECT(&t, "\x03\x04x", "\x03\x04x", false); /* Ctrl-C, Ctrl-D and x belong to the guest */
        EXPECT(&t, "", "", false);
}

static void escape_x_quits(void **state)
{
        (void)state;
        struct ward_term t = tty();
        EXPECT(&t, "ab" CA "x", "ab", true);
        t = tty();
        EXPECT(&t, CA "X", "", true);
        /* Bytes after the quit are dropped. */
        t = tty();
        EXPECT(&t, "a" CA "xbc", "a", true);
}

static void escape_escape_gives_one_ctrl_a(void **state)
{
        (void)state;
        struct ward_term t = tty();
        EXPECT(&t, "a" CA CA "b", "a" CA "b", false);
        EXPECT(&t, CA CA CA CA, CA CA, false);
        /* After a literal Ctrl-A, an x is just an x. */
        EXPECT(&t, CA CA "x", CA "x", false);
}

static void escape_then_other_key_passes_both(void **state)
{
        (void)state;
        struct ward_term t = tty();
        EXPECT(&t, CA "c", CA "c", false);
        EXPECT(&t, "1" CA "q2", "1" CA "q2", false);
        /* An escape followed by a newline. */
        EXPECT(&t, CA "\r", CA "\r", false);
}

static void escape_split_across_calls(void **state)
{
        (void)state;
        struct ward_term t = tty();
        EXPECT(&t, "ab" CA, "ab", false);
        EXPECT(&t, "x", "", true);

        t = tty();
        EXPECT(&t, CA, "", false);
        EXPECT(&t, CA "y", CA "y", false);

        /* A pending escape and an unknown key: two bytes out for one in. */
        t = tty();
        EXPECT(&t, "z" CA, "z", false);
        EXPECT(&t, "k", CA "k", false);
        EXPECT(&t, "x", "x", false); /* the escape was used up */

        /* Pending escape, then an empty read, then x: still quits. */
        t = tty();
        EXPECT(&t, CA, "", false);
        EXPECT(&t, "", "", false);
        EXPECT(&t, "x", "", true);
}

static void not_a_tty_passes_everything(void **state)
{
        (void)state;
        struct ward_term t;
        memset(&t, 0, sizeof(t));
        EXPECT(&t, "a" CA "x" CA CA "b", "a" CA "x" CA CA "b", false);
        EXPECT(&t, CA, CA, false);
        EXPECT(&t, "x", "x", false);
}

/* ---- panic watch ---- */

static void feed(struct ward_panic_watch *w, const char *s)
{
        ward_panic_watch_feed(w, s, strlen(s));
}

static void panic_found_in_one_piece(void **state)
{
        (void)state;
        struct ward_panic_watch w = {0};
        feed(&w, "[    1.234] Kernel panic - not syncing: VFS: Unable to mount root fs\n");
        assert_true(w.seen);
}

static void panic_split_across_calls(void **state)
{
        (void)state;
        struct ward_panic_watch w = {0};
        feed(&w, "[    1.234] Kernel pan");
        assert_false(w.seen);
        feed(&w, "ic - not sync");
        assert_false(w.seen);
        feed(&w, "ing: Attempted to kill init!\n");
        assert_true(w.seen);

        /* One byte at a time. */
        struct ward_panic_watch w2 = {0};
        const char *s = "Kernel panic - not syncing";
        for (size_t i = 0; s[i]; i++) {
                assert_false(w2.seen);
                ward_panic_watch_feed(&w2, s + i, 1);
        }
        assert_true(w2.seen);
}

static void panic_after_false_starts(void **state)
{
        (void)state;
        struct ward_panic_watch w = {0};
        feed(&w, "Kernel pa");
        feed(&w, "rameters: ok\nKKernel");
        assert_false(w.seen);
        feed(&w, " panic - not Kernel panic - not syncing");
        assert_true(w.seen);

        struct ward_panic_watch w2 = {0};
        feed(&w2, "Kernel panic - not syncin");
        feed(&w2, "K");
        assert_false(w2.seen);
        feed(&w2, "ernel panic - not syncing");
        assert_true(w2.seen);
}

static void near_misses_are_not_panics(void **state)
{
        (void)state;
        const char *misses[] = {
            "kernel panic - not syncing",  "Kernel panic - not syncin\n",
            "Kernel panic -  not syncing", "Kernel  panic - not syncing",
            "Kernel panic: not syncing",   "Kernel panic - not Syncing",
        };
        for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
                struct ward_panic_watch w = {0};
                feed(&w, misses[i]);
                assert_false(w.seen);
        }
        /* Once seen, it stays seen. */
        struct ward_panic_watch w = {0};
        feed(&w, "Kernel panic - not syncing");
        feed(&w, "all is well\n");
        assert_true(w.seen);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(plain_bytes_pass),
            cmocka_unit_test(escape_x_quits),
            cmocka_unit_test(escape_escape_gives_one_ctrl_a),
            cmocka_unit_test(escape_then_other_key_passes_both),
            cmocka_unit_test(escape_split_across_calls),
            cmocka_unit_test(not_a_tty_passes_everything),
            cmocka_unit_test(panic_found_in_one_piece),
            cmocka_unit_test(panic_split_across_calls),
            cmocka_unit_test(panic_after_false_starts),
            cmocka_unit_test(near_misses_are_not_panics),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
