/* SPDX-License-Identifier: BSD-2-Clause */
/* The parser's part for one VM: /vms/NAME with its memory, disks and policy. */
#include "parser.h"
#include "ward/common/policy.h"

#include <string.h>

/* ---- RAM regions ---- */

enum { R_GPA, R_SIZE, R_N };
static const char *const region_fields[R_N] = {"gpa", "size"};

static void region_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_region *r = target;
        uint64_t x;
        if (!ward_sysp_get_size(p, v, &x)) {
                r->ok = false;
                return;
        }
        if (f == R_GPA)
                r->gpa = x;
        else
                r->size = x;
}

static void region_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_region *r = &((struct ward_sys_region *)target)[i];
        r->ok = true;
        unsigned seen = ward_sysp_walk(p, v, "an object {\"gpa\", \"size\"}", region_fields, R_N,
                                       region_field, r);
        if (!json_object_is_type(v, json_type_object)) {
                r->ok = false;
                return;
        }
        /* The first region may leave its address to the machine (ward_sys_place). */
        r->gpa_default = i == 0 && !(seen & (1u << R_GPA));
        if (i > 0)
                ward_sysp_require(p, seen, R_GPA, region_fields,
                                  "every RAM region but the first needs its guest-physical "
                                  "address");
        ward_sysp_require(p, seen, R_SIZE, region_fields, "a RAM region's size");
        if (!(seen & (1u << R_SIZE)) || (i > 0 && !(seen & (1u << R_GPA))))
                r->ok = false;
}

/* ---- disks ---- */

enum { D_PATH, D_READ_ONLY, D_BACKEND, D_N };
static const char *const disk_fields[D_N] = {"path", "read_only", "backend"};
static const char *const backend_names[] = {"file", "process"};

static void disk_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_disk *d = target;
        if (f == D_PATH) {
                ward_sysp_get_string(p, v, &d->path);
        } else if (f == D_READ_ONLY) {
                ward_sysp_get_bool(p, v, &d->read_only);
        } else {
                int b = ward_sysp_get_enum(p, v, "backend", backend_names, 2);
                if (b >= 0)
                        d->process = b == 1;
        }
}

static void disk_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        struct ward_sys_disk *d = &((struct ward_sys_disk *)target)[i];
        unsigned seen = ward_sysp_walk(p, v, "an object {\"path\", \"read_only\", \"backend\"}",
                                       disk_fields, D_N, disk_field, d);
        if (json_object_is_type(v, json_type_object))
                ward_sysp_require(p, seen, D_PATH, disk_fields, "the disk image's path");
}

/* ---- policy ---- */

static const char *const on_failure_names[] = {"stop", "restart"};

enum { P_AUTOSTART, P_ALLOW, P_ON_FAILURE, P_BACKOFF, P_MAX_RESTARTS, P_N };
static const char *const policy_fields[P_N] = {"autostart", "allow", "on_failure",
                                               "restart_backoff_ms", "max_restarts"};

static void allow_elem(struct parser *p, size_t i, struct json_object *v, void *target)
{
        (void)i;
        struct ward_sys_policy *pol = target;
        int op = ward_sysp_get_enum(p, v, "operation", ward_policy_op_names, WARD_SYS_NOPS);
        if (op < 0)
                return;
        if (pol->allow & (1u << op))
                perr(p, "\"%s\" is listed twice", ward_policy_op_names[op]);
        pol->allow |= 1u << op;
}

static void policy_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_policy *pol = target;
        switch (f) {
        case P_AUTOSTART:
                ward_sysp_get_bool(p, v, &pol->autostart);
                break;
        case P_ALLOW:
                ward_sysp_each(p, v, allow_elem, pol);
                break;
        case P_ON_FAILURE: {
                int x = ward_sysp_get_enum(p, v, "value", on_failure_names, 2);
                if (x >= 0)
                        pol->on_failure = (enum ward_sys_on_failure)x;
                break;
        }
        case P_BACKOFF:
                pol->restart_backoff_set = ward_sysp_get_int(p, v, &pol->restart_backoff_ms);
                break;
        case P_MAX_RESTARTS:
                pol->max_restarts_set = ward_sysp_get_int(p, v, &pol->max_restarts);
                break;
        }
}

/* ---- vsock ---- */

enum { S_CID, S_PATH, S_N };
static const char *const vsock_fields[S_N] = {"cid", "path"};

static void vsock_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_vsock *s = target;
        if (f == S_CID)
                s->cid_set = ward_sysp_get_int(p, v, &s->cid);
        else
                ward_sysp_get_string(p, v, &s->path);
}

static void vsock(struct parser *p, struct json_object *v, struct ward_sys_vsock *s)
{
        s->set = true;
        unsigned seen = ward_sysp_walk(p, v, "an object {\"cid\", \"path\"}", vsock_fields, S_N,
                                       vsock_field, s);
        if (!json_object_is_type(v, json_type_object))
                return;
        ward_sysp_require(p, seen, S_CID, vsock_fields, "the guest's context id, 3 or more");
        ward_sysp_require(p, seen, S_PATH, vsock_fields, "the host's unix socket for the device");
}

/* ---- VMs ---- */

static const char *const console_names[] = {"serial", "virtio"};

enum {
        V_KERNEL,
        V_INITRD,
        V_CMDLINE,
        V_MEMORY,
        V_CPUS,
        V_DISKS,
        V_CONSOLE,
        V_RNG,
        V_HUGEPAGES,
        V_POLICY,
        V_VSOCK,
        V_N
};
static const char *const vm_fields[V_N] = {"kernel",    "initrd", "cmdline", "memory",
                                           "cpus",      "disks",  "console", "rng",
                                           "hugepages", "policy", "vsock"};

static void vm_field(struct parser *p, int f, struct json_object *v, void *target)
{
        struct ward_sys_vm *vm = target;
        switch (f) {
        case V_KERNEL:
                ward_sysp_get_string(p, v, &vm->kernel);
                break;
        case V_INITRD:
                ward_sysp_get_string(p, v, &vm->initrd);
                break;
        case V_CMDLINE:
                ward_sysp_get_string(p, v, &vm->cmdline);
                break;
        case V_MEMORY:
                vm->memory_default = false;
                vm->nmemory = 0;
                if (!json_object_is_type(v, json_type_array)) {
                        ward_sysp_want(p, v, json_type_array, "an array of RAM regions");
                        vm->memory_bad = true;
                        break;
                }
                free(vm->memory);
                vm->memory =
                    ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*vm->memory));
                if (!vm->memory)
                        break;
                vm->nmemory = json_object_array_length(v);
                ward_sysp_each(p, v, region_elem, vm->memory);
                break;
        case V_CPUS:
                ward_sysp_get_int(p, v, &vm->cpus);
                break;
        case V_DISKS:
                if (!json_object_is_type(v, json_type_array)) {
                        ward_sysp_want(p, v, json_type_array, "an array of disks");
                        break;
                }
                vm->disks =
                    ward_sysp_alloc_array(p, json_object_array_length(v), sizeof(*vm->disks));
                if (!vm->disks)
                        break;
                vm->ndisks = json_object_array_length(v);
                ward_sysp_each(p, v, disk_elem, vm->disks);
                break;
        case V_CONSOLE: {
                int c = ward_sysp_get_enum(p, v, "console", console_names, 2);
                if (c >= 0)
                        vm->console = c ? WARD_CONSOLE_VIRTIO : WARD_CONSOLE_SERIAL;
                break;
        }
        case V_RNG:
                ward_sysp_get_bool(p, v, &vm->rng);
                break;
        case V_HUGEPAGES: {
                int h = ward_sysp_get_enum(p, v, "hugepages", ward_ram_backing_names, 3);
                if (h >= 0)
                        vm->hugepages = (enum ward_ram_backing)h;
                break;
        }
        case V_POLICY:
                ward_sysp_walk(p, v, "an object", policy_fields, P_N, policy_field, &vm->policy);
                break;
        case V_VSOCK:
                vsock(p, v, &vm->vsock);
                break;
        }
}

void ward_sysp_vm(struct parser *p, struct json_object *v, struct ward_sys_vm *vm)
{
        vm->cpus = 1;
        vm->console = WARD_CONSOLE_SERIAL;
        vm->rng = true;
        vm->policy = (struct ward_sys_policy){
            .autostart = true,
            .on_failure = WARD_SYS_ON_FAILURE_STOP,
            .restart_backoff_ms = WARD_SYS_DEFAULT_BACKOFF_MS,
            .max_restarts = WARD_SYS_DEFAULT_MAX_RESTARTS,
        };
        vm->memory = ward_sysp_alloc_array(p, 1, sizeof(*vm->memory));
        if (vm->memory) {
                /* At the machine's RAM base (ward_sys_place). */
                vm->memory[0] = (struct ward_sys_region){WARD_SYS_DEFAULT_RAM_GPA,
                                                         WARD_SYS_DEFAULT_RAM_SIZE, true, true};
                vm->nmemory = 1;
                vm->memory_default = true;
        }
        unsigned seen = ward_sysp_walk(p, v, "an object", vm_fields, V_N, vm_field, vm);
        if (!json_object_is_type(v, json_type_object)) {
                vm->memory_bad = true; /* nothing to check about it */
                vm->nmemory = 0;
                return;
        }
        ward_sysp_require(p, seen, V_KERNEL, vm_fields, "every VM needs a kernel Image");
}
