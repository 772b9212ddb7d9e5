/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The supervisor of `ward system up`: one ward VMM process per VM, the
 * restart policy, and the control API's server (docs/control-api.md).
 * Single-threaded: ward_sup_poll() runs one turn of its poll loop, so a
 * test can drive it with a fake VM launcher.
 */
#ifndef WARD_SUPERVISOR_H
#define WARD_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/desc/system_desc.h"

struct ward_sup;

struct ward_sup_config {
        const char *socket_path; /* absolute */
        const char *log_dir;     /* absolute; DIR/NAME.log per VM */
        const char *desc_dir;    /* absolute: relative paths in the description */
        /*
         * The description's text, exactly as checked: each VMM reads its
         * config from it (a sealed memfd it inherits as fd 3), so a
         * restarted VM runs the config the supervisor checked. NULL: tests
         * with fake_argv.
         */
        const char *desc_text;
        size_t desc_len;
        const char *exe; /* the ward binary; NULL: /proc/self/exe */
        /* Tests: the argv to exec for a VM instead of `ward run --system-fd ...`. */
        char *const *(*fake_argv)(void *ctx, const char *vm);
        void *ctx;
        /* Tests: the cgroup v2 root for cpu_max_us; NULL: the one mounted. */
        const char *cgroup_root;
};

/* Checks that every VM fits what one VMM takes (ward_sys_vm_config). */
int ward_sup_check_runnable(const struct ward_sys_desc *d, const char *desc_dir, char *err,
                            size_t errlen);

/*
 * Binds the control socket, creates the log directory and starts the
 * autostart VMs. d must outlive the supervisor. NULL with err on failure.
 */
struct ward_sup *ward_sup_new(const struct ward_sys_desc *d, const struct ward_sup_config *cfg,
                              char *err, size_t errlen);

/* One turn of the loop: waits at most timeout_ms. Returns true when the
 * supervisor has shut down (every VM stopped, shutdown reply sent). */
bool ward_sup_poll(struct ward_sup *s, int timeout_ms);

/* Asks for a shutdown (as the shutdown op, without a client). */
void ward_sup_request_shutdown(struct ward_sup *s);

/* Kills any VM still running (SIGKILL, reaped), closes and unlinks the socket. */
void ward_sup_free(struct ward_sup *s);

#endif
