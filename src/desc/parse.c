/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system description parser: JSON text to struct ward_sys_desc, with
 * Debian's json-c doing the parsing. json-c is lenient in places even in
 * strict mode (single-quoted strings, NaN, leading zeros, raw control
 * characters, duplicate keys that silently replace each other, integers
 * that saturate), so a second pass over the text (parse_json.c) refuses what
 * RFC 8259 refuses and reports every duplicate key. Then the tree is walked
 * once (parse_walk.c): unknown fields, wrong types, malformed values and
 * missing required fields are reported with their path, and everything that
 * parsed is filled in, so that ward_sys_check() can look at the rest. This
 * file has the document, the shared regions, the doorbells and the linux and
 * sel4 sections; parse_vm.c has the VMs.
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared regions ---- */

static const char *const access_names[] = {"rw", "ro"};

enum { M_VM, M_GPA, M_ACCESS, M_N };
static const char *const map_fields[M_N] = {"vm", "gpa", "access"};

static void map_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_map *m = target;
        switch (f) {
        case M_VM:
                ward_sysp_get_string(p, v, &m->vm);
                break;
        case M_GPA:
                m->gpa_ok = ward_sysp_get_size(p, v, &m->gpa);
                break;
        case M_ACCESS: {
                int a = ward_sysp_get_enum(p, v, "access", access_names, 2);
                if (a >= 0)
                        m->access = (enum ward_sys_access)a;
                break;
        }
        }
}

static void map_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_map *m = &((struct ward_sys_map *)target)[i];
        m->access = WARD_SYS_ACCESS_RW;
        unsigned seen = ward_sysp_walk(p, v, "an object {\"vm\", \"gpa\", \"access\"}", map_fields,
                                       M_N, map_field, m);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, M_VM, map_fields, "the VM that maps the region");
        ward_sysp_require(p, seen, M_GPA, map_fields, "where the VM sees the region");
}

enum { S_NAME, S_SIZE, S_MAPS, S_N };
static const char *const shared_fields[S_N] = {"name", "size", "maps"};

static void shared_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_shared *s = target;
        switch (f) {
        case S_NAME:
                ward_sysp_get_string(p, v, &s->name);
                break;
        case S_SIZE:
                s->size_ok = ward_sysp_get_size(p, v, &s->size);
                break;
        case S_MAPS:
                if (!json_object_is_type(v, json_type_array)) {
                        ward_sysp_want(p, v, json_type_array, "an array of mappings");
                        break;
                }
                s->maps = ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*s->maps));
                if (!s->maps)
                        break;
                s->nmaps = json_object_array_length(v);
                s->maps_bad = false;
                ward_sysp_each(p, v, map_elem, s->maps);
                break;
        }
}

static void shared_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_shared *s = &((struct ward_sys_shared *)target)[i];
        s->maps_bad = true;
        unsigned seen = ward_sysp_walk(p, v, "an object", shared_fields, S_N, shared_field, s);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, S_NAME, shared_fields, "every shared region has a name");
        ward_sysp_require(p, seen, S_SIZE, shared_fields, "the region's size");
        ward_sysp_require(p, seen, S_MAPS, shared_fields, "the VMs that map the region");
}

/* ---- doorbells ---- */

enum { B_NAME, B_FROM, B_TO, B_N };
static const char *const doorbell_fields[B_N] = {"name", "from", "to"};

static void doorbell_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_doorbell *b = target;
        ward_sysp_get_string(p, v, f == B_NAME ? &b->name : f == B_FROM ? &b->from : &b->to);
}

static void doorbell_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_doorbell *b = &((struct ward_sys_doorbell *)target)[i];
        unsigned seen = ward_sysp_walk(p, v, "an object {\"name\", \"from\", \"to\"}",
                                       doorbell_fields, B_N, doorbell_field, b);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, B_NAME, doorbell_fields, "every doorbell has a name");
        ward_sysp_require(p, seen, B_FROM, doorbell_fields, "the VM that rings it");
        ward_sysp_require(p, seen, B_TO, doorbell_fields, "the VM it wakes");
}

/* ---- linux ---- */

enum { LV_HOST_CPUS, LV_CPU_MAX, LV_CPU_PERIOD, LV_SECCOMP, LV_JAIL, LV_UID, LV_GID, LV_N };
static const char *const linux_vm_fields[LV_N] = {
    "host_cpus", "cpu_max_us", "cpu_period_us", "seccomp", "jail", "uid", "gid"};

static void host_cpu_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_host_cpu *c = &((struct ward_sys_host_cpu *)target)[i];
        c->ok = ward_sysp_get_int(p, v, &c->cpu);
}

/* An array of integers (host CPUs, uids, gids) into *out and *n. */
static void int_array(struct parser *p, struct json_object *v, const char *what,
                      struct ward_sys_host_cpu **out, size_t *n)
{
        if (!json_object_is_type(v, json_type_array)) {
                ward_sysp_want(p, v, json_type_array, what);
                return;
        }
        *out = ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(**out));
        if (!*out)
                return;
        *n = json_object_array_length(v);
        ward_sysp_each(p, v, host_cpu_elem, *out);
}

/* An allow-list mode ("on", "log", "off"); on when it is not one. */
static int get_seccomp(struct parser *p, struct json_object *v)
{
        int m = ward_sysp_get_enum(p, v, "seccomp", ward_seccomp_mode_names, 3);
        return m < 0 ? WARD_SECCOMP_ON : m;
}

static void linux_vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_linux_vm *lv = target;
        switch (f) {
        case LV_HOST_CPUS:
                lv->host_cpus_set = json_object_is_type(v, json_type_array);
                int_array(p, v, "an array of host CPU numbers", &lv->host_cpus, &lv->nhost_cpus);
                break;
        case LV_CPU_MAX:
                lv->cpu_max_set = ward_sysp_get_int(p, v, &lv->cpu_max_us);
                break;
        case LV_CPU_PERIOD:
                lv->cpu_period_set = ward_sysp_get_int(p, v, &lv->cpu_period_us);
                if (!lv->cpu_period_set)
                        lv->cpu_period_us = WARD_SYS_DEFAULT_PERIOD_US;
                break;
        case LV_SECCOMP:
                lv->seccomp = get_seccomp(p, v);
                break;
        case LV_JAIL:
                if (!ward_sysp_get_bool(p, v, &lv->jail))
                        lv->jail = true;
                break;
        case LV_UID:
                lv->uid_set = ward_sysp_get_int(p, v, &lv->uid);
                break;
        case LV_GID:
                lv->gid_set = ward_sysp_get_int(p, v, &lv->gid);
                break;
        }
}

enum { L_CONTROL_SOCKET, L_CONSOLE_LOG_DIR, L_VMS, L_CONTROL_UIDS, L_CONTROL_GIDS, L_SECCOMP, L_N };
static const char *const linux_fields[L_N] = {"control_socket", "console_log_dir", "vms",
                                              "control_uids",   "control_gids",    "seccomp"};

static void linux_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_linux *l = target;
        switch (f) {
        case L_CONTROL_SOCKET:
                ward_sysp_get_string(p, v, &l->control_socket);
                break;
        case L_CONSOLE_LOG_DIR:
                ward_sysp_get_string(p, v, &l->console_log_dir);
                break;
        case L_CONTROL_UIDS:
                int_array(p, v, "an array of user ids", &l->control_uids, &l->ncontrol_uids);
                break;
        case L_CONTROL_GIDS:
                int_array(p, v, "an array of group ids", &l->control_gids, &l->ncontrol_gids);
                break;
        case L_SECCOMP:
                l->seccomp = get_seccomp(p, v);
                break;
        case L_VMS: {
                if (!ward_sysp_want(p, v, json_type_object, "an object keyed by VM name"))
                        break;
                size_t n = (size_t)json_object_object_length(v);
                l->vms = ward_sysp_alloc_array(p, n, sizeof(*l->vms));
                if (!l->vms)
                        break;
                struct json_object_iterator it = json_object_iter_begin(v);
                struct json_object_iterator end = json_object_iter_end(v);
                for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        struct ward_sys_linux_vm *lv = &l->vms[l->nvms++];
                        lv->vm = json_object_iter_peek_name(&it);
                        lv->cpu_period_us = WARD_SYS_DEFAULT_PERIOD_US;
                        lv->jail = true;
                        size_t m = ward_sysp_enter_key(p, lv->vm);
                        ward_sysp_walk(p, json_object_iter_peek_value(&it), "an object",
                                       linux_vm_fields, LV_N, linux_vm_field, lv);
                        ward_sysp_leave(p, m);
                }
                break;
        }
        }
}

/* ---- sel4 ---- */

enum { DR_OFFSET, DR_SIZE, DR_N };
static const char *const disk_range_fields[DR_N] = {"offset", "size"};

static void disk_range_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_sel4_vm *sv = target;
        if (f == DR_OFFSET)
                sv->disk_offset_set = ward_sysp_get_size(p, v, &sv->disk_offset);
        else
                sv->disk_size_set = ward_sysp_get_size(p, v, &sv->disk_size);
}

enum { SV_RAM_PHYS, SV_BUDGET, SV_PERIOD, SV_DISK_RANGE, SV_N };
static const char *const sel4_vm_fields[SV_N] = {"ram_phys", "budget_us", "period_us",
                                                 "disk_range"};

static void sel4_vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_sel4_vm *sv = target;
        switch (f) {
        case SV_RAM_PHYS:
                sv->ram_phys_set = ward_sysp_get_size(p, v, &sv->ram_phys);
                break;
        case SV_BUDGET:
                sv->budget_set = ward_sysp_get_int(p, v, &sv->budget_us);
                break;
        case SV_PERIOD:
                sv->period_set = ward_sysp_get_int(p, v, &sv->period_us);
                break;
        case SV_DISK_RANGE: {
                sv->disk_range_seen = true;
                unsigned seen = ward_sysp_walk(p, v, "an object with offset and size",
                                               disk_range_fields, DR_N, disk_range_field, sv);
                if (json_object_is_type(v, json_type_object))
                        ward_sysp_require(p, seen, DR_SIZE, disk_range_fields,
                                          "a disk range needs its size");
                break;
        }
        }
}

enum { SL_VMS, SL_N };
static const char *const sel4_fields[SL_N] = {"vms"};

static void sel4_field(struct parser *p, int f, struct json_object *v, void *target)
{
        (void)f;
        struct ward_sys_sel4 *s = target;
        if (!ward_sysp_want(p, v, json_type_object, "an object keyed by VM name"))
                return;
        s->vms = ward_sysp_alloc_array(p, (size_t)json_object_object_length(v), sizeof(*s->vms));
        if (!s->vms)
                return;
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                struct ward_sys_sel4_vm *sv = &s->vms[s->nvms++];
                sv->vm = json_object_iter_peek_name(&it);
                size_t m = ward_sysp_enter_key(p, sv->vm);
                ward_sysp_walk(p, json_object_iter_peek_value(&it), "an object", sel4_vm_fields,
                               SV_N, sel4_vm_field, sv);
                ward_sysp_leave(p, m);
        }
}

/* ---- the document ---- */

enum {
        T_VERSION,
        T_DESCRIPTION,
        T_ARCH,
        T_VMS,
        T_SHARED,
        T_DOORBELLS,
        T_NETWORKS,
        T_LINUX,
        T_SEL4,
        T_N
};
static const char *const top_fields[T_N] = {"ward_system", "description",    "arch",
                                            "vms",         "shared_regions", "doorbells",
                                            "networks",    "linux",          "sel4"};

/* The values of "arch", in enum ward_sys_arch's order from WARD_SYS_ARCH_ARM64. */
static const char *const arch_names[] = {"arm64", "x86_64"};

static void top_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_desc *d = target;
        switch (f) {
        case T_VERSION:
                if (!ward_sysp_get_int(p, v, &d->version))
                        d->version = WARD_SYS_VERSION; /* reported already */
                break;
        case T_DESCRIPTION:
                ward_sysp_get_string(p, v, &d->description);
                break;
        case T_ARCH: {
                int a = ward_sysp_get_enum(p, v, "arch", arch_names, 2);
                if (a >= 0)
                        d->arch = (enum ward_sys_arch)(WARD_SYS_ARCH_ARM64 + a);
                break;
        }
        case T_VMS: {
                if (!ward_sysp_want(p, v, json_type_object, "an object keyed by VM name"))
                        break;
                size_t n = (size_t)json_object_object_length(v);
                d->vms = ward_sysp_alloc_array(p, n, sizeof(*d->vms));
                if (!d->vms)
                        break;
                struct json_object_iterator it = json_object_iter_begin(v);
                struct json_object_iterator end = json_object_iter_end(v);
                for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        struct ward_sys_vm *vm = &d->vms[d->nvms++];
                        vm->name = json_object_iter_peek_name(&it);
                        size_t m = ward_sysp_enter_key(p, vm->name);
                        ward_sysp_vm(p, json_object_iter_peek_value(&it), vm);
                        ward_sysp_leave(p, m);
                }
                break;
        }
        case T_SHARED:
                if (!ward_sysp_want(p, v, json_type_array, "an array of shared regions"))
                        break;
                d->shared =
                    ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*d->shared));
                if (!d->shared)
                        break;
                d->nshared = json_object_array_length(v);
                ward_sysp_each(p, v, shared_elem, d->shared);
                break;
        case T_DOORBELLS:
                if (!ward_sysp_want(p, v, json_type_array, "an array of doorbells"))
                        break;
                d->doorbells =
                    ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*d->doorbells));
                if (!d->doorbells)
                        break;
                d->ndoorbells = json_object_array_length(v);
                ward_sysp_each(p, v, doorbell_elem, d->doorbells);
                break;
        case T_NETWORKS:
                ward_sysp_networks(p, v, d);
                break;
        case T_LINUX:
                ward_sysp_walk(p, v, "an object", linux_fields, L_N, linux_field, &d->linux_opts);
                break;
        case T_SEL4:
                ward_sysp_walk(p, v, "an object", sel4_fields, SL_N, sel4_field, &d->sel4_opts);
                break;
        }
}

void ward_sys_place(struct ward_sys_desc *d, enum ward_sys_arch host)
{
        d->machine = d->arch != WARD_SYS_ARCH_UNSET ? d->arch
                     : host != WARD_SYS_ARCH_UNSET  ? host
                                                    : WARD_SYS_ARCH_ARM64;
        uint64_t base = ward_sys_machine(d->machine)->ram_base;
        for (size_t i = 0; i < d->nvms; i++)
                if (d->vms[i].nmemory > 0 && d->vms[i].memory[0].gpa_default)
                        d->vms[i].memory[0].gpa = base;
}

void ward_sys_free(struct ward_sys_desc *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->nvms; i++) {
                free(d->vms[i].memory);
                free(d->vms[i].disks);
        }
        free(d->vms);
        for (size_t i = 0; i < d->nshared; i++)
                free(d->shared[i].maps);
        free(d->shared);
        free(d->doorbells);
        for (size_t i = 0; i < d->nnetworks; i++) {
                for (size_t j = 0; j < d->networks[i].nports; j++)
                        free(d->networks[i].ports[j].reach);
                free(d->networks[i].ports);
        }
        free(d->networks);
        for (size_t i = 0; i < d->linux_opts.nvms; i++)
                free(d->linux_opts.vms[i].host_cpus);
        free(d->linux_opts.vms);
        free(d->linux_opts.control_uids);
        free(d->linux_opts.control_gids);
        free(d->sel4_opts.vms);
        json_object_put(d->owner);
        free(d);
}

struct ward_sys_desc *ward_sys_parse(const char *text, size_t len, struct ward_sys_errors *errs)
{
        struct json_object *root = ward_sysp_json_parse(text, len, errs);
        if (!root)
                return NULL;

        struct ward_sys_desc *d = calloc(1, sizeof(*d));
        if (!d) {
                json_object_put(root);
                errs->oom = true;
                return NULL;
        }
        d->owner = root;
        d->version = WARD_SYS_VERSION;
        d->linux_opts.control_socket = WARD_SYS_DEFAULT_SOCKET;
        d->linux_opts.console_log_dir = WARD_SYS_DEFAULT_LOG_DIR;
        struct parser p = {.errs = errs};
        unsigned seen = ward_sysp_walk(&p, root, "an object", top_fields, T_N, top_field, d);
        ward_sysp_require(&p, seen, T_VERSION, top_fields,
                          "the format version: \"ward_system\": 1");
        ward_sysp_require(&p, seen, T_VMS, top_fields, "a system needs at least one VM");
        if (p.oom) {
                errs->oom = true;
                ward_sys_free(d);
                return NULL;
        }
        ward_sys_place(d, WARD_SYS_ARCH_UNSET);
        return d;
}
