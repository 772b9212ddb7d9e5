/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the supervisor (supervisor.h): its state and what its files share.
 * Not an API: include/ward/supervisor/supervisor.h is.
 *
 *   vm_process.c      starting a VMM process, stopping it, reaping it
 *   control_server.c  the control API's requests and replies
 *   event_loop.c      the poll loop: clients, signals, timers
 *   setup.c           ward_sup_new and ward_sup_free
 */
#ifndef WARD_SUPERVISOR_INTERNAL_H
#define WARD_SUPERVISOR_INTERNAL_H

#include "ward/vm/vm_config.h"
#include "ward/supervisor/control_api.h"
#include "ward/supervisor/supervisor.h"
#include "ward/host/linux/port_linux.h"

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

#define MAX_CLIENTS 64
#define CLIENT_TIMEOUT_MS 10000 /* to send a whole request */
#define DRAIN_MS 2000           /* reading what is left after the reply */
#define MAX_ARGS 64
/* inherited fds per VMM, and per switch */
#define MAX_IPC (1 + WARD_MAX_SHM + WARD_MAX_DOORBELLS + 3 * WARD_MAX_NETS)
#define MAX_SWITCH_IPC (1 + 3 * WARD_SYS_MAX_NET_PORTS + 1)
#define MAX_SWITCH_RESTARTS 100
/* The checker promises what ward run takes. */
_Static_assert(WARD_SYS_LINUX_MAX_SHM == WARD_MAX_SHM, "shared-region limits differ");
_Static_assert(WARD_SYS_LINUX_MAX_DOORBELLS == WARD_MAX_DOORBELLS, "doorbell limits differ");

enum vm_state { ST_STOPPED, ST_RUNNING, ST_PAUSED, ST_STOPPING, ST_FAILED, ST_RESTARTING };

struct vm_rt {
        const struct ward_sys_vm *d;
        enum vm_state state;
        pid_t pid;
        long long restarts;
        int last_kind; /* 0 none, 1 exit status, 2 signal */
        int last_val;
        bool stop_requested, start_after_stop;
        int64_t kill_at, restart_at;
        int in_fd;             /* the supervisor's end of the VMM's stdin (console input), -1 */
        char cgroup[PATH_MAX]; /* the VM's cgroup (cpu_max_us, the jail's memory cap), "" none */
        char log[PATH_MAX];
        char launch_error[256];
};

/* A network (networks.c): its ports, its switch process and its counters. */
struct net_rt {
        const struct ward_sys_network *d;
        struct ward_port_linux port[WARD_SYS_MAX_NET_PORTS];
        int stats_fd;
        const uint8_t *stats; /* the switch writes, the supervisor reads */
        pid_t pid;
        long long restarts;
        char log[PATH_MAX];
};

enum client_phase { C_READ, C_WAIT, C_WRITE, C_DRAIN };

struct client {
        int fd;
        enum client_phase phase;
        char *in;
        size_t n;
        char *out;
        size_t outn, outoff;
        int wait_vm; /* C_WAIT: the VM whose stop or restart ends the request, -1 */
        bool wait_shutdown;
        int64_t deadline;
};

struct ward_sup {
        const struct ward_sys_desc *d;
        struct ward_sup_config cfg;
        char socket_path[PATH_MAX], log_dir[PATH_MAX], desc_dir[PATH_MAX], exe[PATH_MAX];
        int lfd, sfd;
        sigset_t oldmask;
        struct vm_rt *vms;
        size_t nvms;
        struct client clients[MAX_CLIENTS];
        size_t nclients;
        bool shutting_down, done;
        int64_t shutdown_grace_ms;
        int desc_fd;           /* the description's text, sealed; -1: none (tests) */
        int *shm_fd;           /* one memfd per shared region, -1: none */
        int (*db_fd)[2];       /* one socketpair per doorbell: [0] from, [1] to */
        char cg_dir[PATH_MAX]; /* ROOT/ward/sup-PID when a VM has cpu_max_us, else "" */
        struct net_rt *nets;   /* one per network of the description */
        size_t nnets;
};

/* vm_process.c */
/* Starts v's VMM (ST_RUNNING), or sets ST_FAILED and v->launch_error. */
int ward_sup_launch(struct ward_sup *s, struct vm_rt *v);
/* In a child: src[k] becomes fd 3 + k (without FD_CLOEXEC), the rest closes. */
void ward_sup_pass_fds(const int *src, size_t nsrc);

/* networks.c: the ports and switch processes of the description's networks. */
int ward_sup_make_networks(struct ward_sup *s, char *err, size_t errlen);
void ward_sup_reap_switches(struct ward_sup *s);
void ward_sup_free_networks(struct ward_sup *s);
/* The three descriptors (memfd, to switch, from switch) of port j of network i. */
void ward_sup_net_port_fds(const struct ward_sup *s, size_t i, size_t j, int out[3]);
/* SIGTERM now, SIGKILL after grace_ms. */
void ward_sup_begin_stop(struct vm_rt *v, int64_t grace_ms);
void ward_sup_close_input(struct vm_rt *v);
/* The linux section's settings for the VM called name, or NULL. */
/* True when v's VMM runs jailed (ward/host/linux/jail.h): a real one whose
 * description does not say linux.vms.NAME.jail false. */
bool ward_sup_jailed(const struct ward_sup *s, const struct vm_rt *v);
const struct ward_sys_linux_vm *ward_sup_linux_vm(const struct ward_sup *s, const char *name);
/* Reaps every VMM that exited and applies the restart policy. */
void ward_sup_reap(struct ward_sup *s);

/* control_server.c */
/* Handles one request (len bytes) from c: a reply, or C_WAIT. */
void ward_sup_handle(struct ward_sup *s, struct client *c, const char *text, size_t len);
void ward_sup_client_error(struct client *c, const char *msg);
/* Replies with the VMs (only >= 0: that one). */
void ward_sup_client_vms(struct ward_sup *s, struct client *c, long only);

/* event_loop.c */
void ward_sup_client_close(struct ward_sup *s, size_t k);

#endif
