/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the system description parser (parse.c): what its files share.
 * Not an API: include/ward/desc/system_desc.h is.
 */
#ifndef WARD_DESC_PARSER_H
#define WARD_DESC_PARSER_H

#include "ward/desc/system_desc.h"

#include <json-c/json.h>

#define PATH_LEN 512

/*
 * parse_json.c: checks the text (size, NUL bytes, a JSON object and nothing
 * after it, RFC 8259's strictness, duplicate keys) and returns json-c's
 * tree, or NULL after adding the errors (or setting errs->oom).
 */
struct json_object *ward_sysp_json_parse(const char *text, size_t len,
                                         struct ward_sys_errors *errs);

/* parse_walk.c: the walk over the tree, with the path of the current item. */
struct parser {
        struct ward_sys_errors *errs;
        char path[PATH_LEN];
        size_t plen;
        bool oom;
};

/* Reports an error at the current path. */
#define perr(p, ...) ward_sys_error_add((p)->errs, (p)->path, __VA_ARGS__)

/* enter_*() append to the path and return the old length for leave(). */
size_t ward_sysp_enter_key(struct parser *p, const char *key);
size_t ward_sysp_enter_index(struct parser *p, size_t i);
void ward_sysp_leave(struct parser *p, size_t old);
/* calloc of n (at least 1) elements; NULL sets p->oom. */
void *ward_sysp_alloc_array(struct parser *p, size_t n, size_t size);

/* Typed reads: false after reporting what v is instead. */
bool ward_sysp_want(struct parser *p, struct json_object *v, enum json_type t, const char *what);
bool ward_sysp_get_string(struct parser *p, struct json_object *v, const char **out);
bool ward_sysp_get_bool(struct parser *p, struct json_object *v, bool *out);
bool ward_sysp_get_int(struct parser *p, struct json_object *v, int64_t *out);
/* A size or address: a number of bytes, or a string (ward_sys_parse_size_string). */
bool ward_sysp_get_size(struct parser *p, struct json_object *v, uint64_t *out);
/* Reads a string that must be one of names; returns its index or -1. */
int ward_sysp_get_enum(struct parser *p, struct json_object *v, const char *what,
                       const char *const *names, size_t n);

typedef void (*field_fn)(struct parser *p, int field, struct json_object *v, void *target);

/*
 * Calls fn for each known field of object o, in document order, and reports
 * the unknown ones. Returns the set of fields present (bit i: names[i]), or
 * 0 with an error when o is not an object.
 */
unsigned ward_sysp_walk(struct parser *p, struct json_object *o, const char *what,
                        const char *const *names, size_t n, field_fn fn, void *target);

/* Reports names[f] as missing from the object at the current path. */
void ward_sysp_require(struct parser *p, unsigned seen, int f, const char *const *names,
                       const char *why);

/* Calls fn on each element of array v (with the path at the element). */
typedef void (*elem_fn)(struct parser *p, size_t i, struct json_object *v, void *target);
bool ward_sysp_each(struct parser *p, struct json_object *v, elem_fn fn, void *target);

/* parse_net.c: /networks (the path is at it). */
void ward_sysp_networks(struct parser *p, struct json_object *v, struct ward_sys_desc *d);

/* parse_vm.c: one VM, /vms/NAME (the path is at it). */
void ward_sysp_vm(struct parser *p, struct json_object *v, struct ward_sys_vm *vm);

#endif
