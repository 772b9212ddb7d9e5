/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the system description checker (check.c): what its files share.
 * Not an API: include/ward/desc/system_desc.h is.
 */
#ifndef WARD_DESC_CHECKER_H
#define WARD_DESC_CHECKER_H

#include "ward/desc/system_desc.h"

#define PATH_LEN 512

struct checker {
        const struct ward_sys_desc *d;
        const struct ward_sys_facts *f;
        struct ward_sys_errors *errs;
        const struct ward_sys_machine *m; /* d->machine's: RAM base, device area, limits */
};

#define cerr(c, path, ...) ward_sys_error_add((c)->errs, (path), __VA_ARGS__)

/* Items past a count limit are reported once (the count) and not checked one
 * by one: the checker's work stays near-linear in the file's size. */
static inline size_t ward_sysc_upto(size_t n, size_t limit)
{
        return n < limit ? n : limit;
}

/* Pairs that clash (overlaps): at most this many are listed per kind and
 * place, then one line says how many more there were. */
#define WARD_SYSC_MAX_PAIRS 8
struct ward_sysc_pairs {
        size_t n; /* clashing pairs found */
};
/* Counts one clashing pair; true when it is to be listed. */
static inline bool ward_sysc_pair(struct ward_sysc_pairs *k)
{
        return ++k->n <= WARD_SYSC_MAX_PAIRS;
}
/* "N more WHAT, not listed" at path, when there were more than were listed. */
void ward_sysc_pairs_end(struct checker *c, const char *path, const struct ward_sysc_pairs *k,
                         const char *what);

/* check_util.c. Paths are written to buf (PATH_LEN bytes) and returned. */
/* buf = prefix + "/" + key (escaped) + the formatted rest. */
const char *ward_sysc_kpath(char *buf, const char *prefix, const char *key, const char *fmt, ...)
    WARD_SYS_PRINTF(4, 5);
const char *ward_sysc_ipath(char *buf, const char *fmt, ...) WARD_SYS_PRINTF(2, 3);
/* 4G, 512M, 4K or a plain number of bytes. */
const char *ward_sysc_human(char *buf, size_t n, uint64_t v);
/* "0x40000000-0x5fffffff" for a valid range. */
const char *ward_sysc_span(char *buf, size_t n, uint64_t gpa, uint64_t size);
/* The path of a VM's RAM region i. */
const char *ward_sysc_region_path(char *buf, const struct ward_sys_vm *vm, size_t i);

/* A name: lowercase letters, digits and _, starting with a letter. */
void ward_sysc_name(struct checker *c, const char *path, const char *name);
/* A file the VM will use (f->file_problem). */
void ward_sysc_file(struct checker *c, const char *path, const char *file,
                    enum ward_sys_file_use use);
void ward_sysc_int_range(struct checker *c, const char *path, int64_t v, int64_t lo, int64_t hi);
/* Wrap-around and the 40-bit limit; true when the range may take part in
 * overlap checks. */
bool ward_sysc_extent(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size);
/* A RAM region's own checks: alignment, size, extent. True when all pass. */
bool ward_sysc_ram_region(struct checker *c, const char *rpath, uint64_t gpa, uint64_t size);

/* check_sections.c: steps 5 and 6. */
void ward_sysc_linux_limits(struct checker *c);
void ward_sysc_linux(struct checker *c);
void ward_sysc_sel4(struct checker *c);
/* check_net.c: /networks. */
void ward_sysc_networks(struct checker *c);

/* check_memory.c: steps 7 and 8. */
void ward_sysc_address_space(struct checker *c, const struct ward_sys_vm *vm);
void ward_sysc_host_memory(struct checker *c);

#endif
