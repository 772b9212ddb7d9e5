/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fake runner for VM-core tests (unit_vm, unit_vm_x86): the host ops a
 * runner gives ward_vm_create(), recording what the VM core asks of them.
 * Guest RAM and shared regions come from calloc; disks complete nothing;
 * entropy is 0x5a bytes; console output is kept per console.
 */
#ifndef WARD_TEST_FAKE_RUNNER_H
#define WARD_TEST_FAKE_RUNNER_H

#include "ward/vm/vm.h"

#define FAKE_CONSOLES 20

struct fake_runner {
        uint8_t out[FAKE_CONSOLES][256]; /* console output by console number */
        unsigned out_len[FAKE_CONSOLES];
        unsigned backends[5]; /* requests by device class */
        bool fail_blk;        /* the block backend refuses */
        bool edge_bound;      /* irq_edge takes every edge */
        unsigned edges;
        unsigned allocs, frees;
        void *mem[16]; /* RAM and shared regions handed out */
        unsigned nmem;
        struct {
                unsigned i;
                uint64_t gpa, size;
        } ram[16]; /* the ram op's calls */
        unsigned nram;
        unsigned loads[2]; /* images copied, for the tests' own load op */
};

/* The runner's record; tests zero it in their setup. */
extern struct fake_runner R;
extern const struct ward_vm_host_ops fake_runner_ops;

#endif
