/* SPDX-License-Identifier: BSD-2-Clause */
/* The fake runner of the VM-core tests; see fake_runner.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_runner.h"

#define MiB (1ull << 20)

struct fake_runner R;

static void *r_ram(void *host, unsigned i, uint64_t gpa, uint64_t size, char *err, size_t errlen)
{
        (void)host;
        void *p = calloc(1, size);
        if (!p) {
                snprintf(err, errlen, "runner: no memory");
                return NULL;
        }
        assert_true(R.nram < 16 && R.nmem < 16);
        R.ram[R.nram].i = i;
        R.ram[R.nram].gpa = gpa;
        R.ram[R.nram++].size = size;
        R.mem[R.nmem++] = p;
        return p;
}
static void *r_shared(void *host, unsigned i, char *err, size_t errlen)
{
        (void)host, (void)i, (void)err, (void)errlen;
        assert_true(R.nmem < 16);
        void *p = calloc(1, 4096);
        R.mem[R.nmem++] = p;
        return p;
}
static void *r_alloc(void *host, size_t size)
{
        (void)host;
        R.allocs++;
        return calloc(1, size);
}
static void r_free(void *host, void *p)
{
        (void)host;
        if (p)
                R.frees++;
        free(p);
}
static uint32_t r_fill(void *o, void *buf, uint32_t len)
{
        (void)o;
        memset(buf, 0x5a, len);
        return len;
}
static int r_submit(void *o, const struct ward_blk_io *req)
{
        (void)o, (void)req;
        return -1;
}
static int r_backend(void *host, const struct ward_device_type *t, unsigned index,
                     union ward_backend *be, struct ward_device_params *p, char *err, size_t errlen)
{
        (void)host;
        R.backends[t->cls]++;
        if (t->cls == WARD_DEVICE_BLOCK) {
                if (R.fail_blk) {
                        snprintf(err, errlen, "--disk d%u: no such file", index);
                        return -1;
                }
                be->blk = (struct ward_blk_backend){r_submit, NULL};
                *p = (struct ward_device_params){
                    .size_bytes = (index + 1) * MiB, .read_only = index == 1, .id = "fake"};
        } else {
                be->rng = (struct ward_rng_backend){r_fill, NULL};
        }
        return 0;
}
static void r_console_out(void *host, unsigned con, const void *buf, uint32_t len)
{
        (void)host;
        assert_true(con < FAKE_CONSOLES && R.out_len[con] + len <= sizeof(R.out[con]));
        memcpy(R.out[con] + R.out_len[con], buf, len);
        R.out_len[con] += len;
}
static bool r_irq_edge(void *host, unsigned line)
{
        (void)host, (void)line;
        R.edges++;
        return R.edge_bound;
}

const struct ward_vm_host_ops fake_runner_ops = {r_ram,     r_shared,      r_alloc,   r_free,
                                                 r_backend, r_console_out, r_irq_edge};
