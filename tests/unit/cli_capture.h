/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helpers for `ward system ...` sub-commands: run one with its output
 * captured in memory, and write and read small files. Header-only, for the
 * unit tests that drive the command line.
 */
#ifndef WARD_TEST_CLI_CAPTURE_H
#define WARD_TEST_CLI_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "ward/cli/cli_system.h"
#include "ward/desc/system_desc.h"

struct cli_out {
        int rc;
        char *out, *err;
};

/* Runs `ward system ARGS...` (at most 14 arguments). */
static inline struct cli_out cli(int argc, const char *const *args)
{
        char *argv[16];
        argv[0] = (char *)"system";
        for (int i = 0; i < argc; i++)
                argv[i + 1] = (char *)args[i];
        argv[argc + 1] = NULL;
        struct cli_out r = {0};
        size_t ol, el;
        FILE *o = open_memstream(&r.out, &ol), *e = open_memstream(&r.err, &el);
        r.rc = ward_cli_system(argc + 1, argv, o, e);
        fclose(o);
        fclose(e);
        return r;
}

static inline void cli_free(struct cli_out *r)
{
        free(r->out);
        free(r->err);
}

static inline void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The whole file, NUL-terminated (free it); NULL when it cannot be opened. */
static inline char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 1 << 16, n = 0, got;
        char *buf = malloc(cap + 1);
        assert_non_null(buf);
        while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
                n += got;
                if (n == cap) {
                        cap *= 2;
                        buf = realloc(buf, cap + 1);
                        assert_non_null(buf);
                }
        }
        fclose(f);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}

#endif
