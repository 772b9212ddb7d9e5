/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux runner's parts (vmm.c: threads and life cycle; vmm_host.c:
 * memory, backends, console output and boot images; vmm_sources.c: the
 * event sources). Private to src/host/linux.
 */
#ifndef WARD_VMM_INTERNAL_H
#define WARD_VMM_INTERNAL_H

#include "ward/host/linux/event_loop.h"
#include "ward/host/linux/blk_process.h"
#include "ward/host/linux/host_linux.h"
#include "ward/host/linux/net_link.h"
#include "ward/host/linux/vsock_mux.h"
#include "ward/vm/vm.h"

#include <pthread.h>

#define OUT_FLUSH_MS 20 /* longest a partial console line waits */
#define MAX_SOURCES                                                                                \
        (5 + 2 * WARD_MAX_DISKS + WARD_VM_MAX_DEVICES * WARD_VIRTIO_MAX_QUEUES +                   \
         WARD_MAX_DOORBELLS + 2 * WARD_MAX_NETS + 2 * WARD_VSOCK_MAX_CONNS)
/* Interrupt lines a device may have: arm64 SPIs 16 to 47, x86_64 GSIs 5 to 23. */
#define MAX_LINES (WARD_ARM64_VIRTIO_SPI_BASE + WARD_ARM64_MAX_VIRTIO)

struct vcpu {
        struct vmm *m;
        unsigned index;
        pthread_t thread;
        bool started;
};

struct vmm {
        const struct ward_vm_config *cfg;
        struct ward_vm vm;
        bool vm_created;
        pthread_mutex_t lock;
        /* vCPU threads say they run (ready), then wait here until the
         * allow-list is in (run() in vmm.c). */
        pthread_cond_t start_cond;
        unsigned ready;
        bool start_open;

        struct ward_blk_file disk[WARD_MAX_DISKS];
        struct ward_blk_process *bproc[WARD_MAX_DISKS]; /* a backend process, or NULL */
        struct ward_blk_starter starter;                /* starts them (sock -1: no disk has one) */
        struct ward_loop_source *bproc_src[WARD_MAX_DISKS][2]; /* its answers, its going */
        char disk_id[WARD_MAX_DISKS][WARD_BLK_ID_BYTES + 1];
        int doorbell_fd[WARD_MAX_DOORBELLS];      /* -1 after the peer hung up */
        struct ward_net_link *net[WARD_MAX_NETS]; /* what is behind each NIC */
        struct ward_vsock_mux *vsock;             /* the vsock device's unix sockets, or NULL */
        int irqfd[MAX_LINES];                     /* by interrupt line; -1: none */
        int notify_fd[WARD_VM_MAX_DEVICES][WARD_VIRTIO_MAX_QUEUES];
        struct ward_loop loop;
        struct ward_loop_source sources[MAX_SOURCES];

        struct vcpu *vcpus;
        struct ward_term term;
        struct ward_panic_watch panic;
        uint8_t out[4096]; /* console output not yet written (device lock) */
        size_t out_len;
        int out_wake_fd; /* tells the main loop that output waits */
        bool out_wake_sent;
        bool out_pending;
        uint64_t out_since;
        int stop_fd;
        int sig_fd;
        int stopping;    /* atomic */
        int exit_status; /* first stop wins */
        char exit_reason[200];
};

/* Records why the VM ends (the first reason wins) and wakes every thread. */
void ward_vmm_request_stop(struct vmm *m, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool ward_vmm_stopping(struct vmm *m);
uint64_t ward_vmm_now_ms(void);

/* vmm_host.c */
extern const struct ward_vm_host_ops ward_vmm_host_ops;
void ward_vmm_console_out(void *host, unsigned con, const void *buf, uint32_t len);
/* Writes out buffered console output; device lock held. */
void ward_vmm_console_flush(struct vmm *m);
/* Places the kernel, initrd and device tree (files) and sets the boot registers. */
int ward_vmm_boot(struct vmm *m, char *err, size_t errlen);

/* vmm_sources.c */
/* Opens what is behind each NIC (tap, or passt started) and the vsock
 * socket; before guest memory exists. */
int ward_vmm_open_nets(struct vmm *m, char *err, size_t errlen);
/* Submits the disk requests that device work prepared; device lock held. */
void ward_vmm_flush_disks(struct vmm *m);
/* The event loop's sources: stop, signals, output, disks, queues, stdin, doorbells. */
int ward_vmm_add_sources(struct vmm *m, char *err, size_t errlen);

#endif
