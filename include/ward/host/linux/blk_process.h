/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A disk whose backend runs in a process of its own: the Linux analogue of
 * a driver VM (seL4's block PD). The VMM creates a block port (a memfd and
 * eventfds, port_linux.h), has its starter (blk_starter.h) start `ward
 * backend blk` on the server side and keeps the client side as the
 * virtio-blk device's backend. The backend
 * never sees guest memory, only the port's data buffers.
 *
 * When the backend dies, every request in flight or waiting fails (the
 * guest sees VIRTIO_BLK_S_IOERR) and the VMM starts a new backend on a new
 * port; later requests go to it. The VMM itself is never affected.
 */
#ifndef WARD_HOST_LINUX_BLK_PROCESS_H
#define WARD_HOST_LINUX_BLK_PROCESS_H

#include "ward/host/linux/blk_starter.h"
#include "ward/host/linux/port_linux.h"
#include "ward/port/port_blk.h"
#include "ward/vm/vm_config.h"

#include <limits.h>
#include <sys/types.h>

#define WARD_BLK_PROCESS_MAX_RESTARTS 10

struct ward_blk_process {
        struct ward_port_linux port;
        struct ward_blk_port_client client;
        struct ward_blk_port_config cfg;
        pid_t pid; /* the backend, as its starter answered; -1: none */
        /* Who starts the backend (blk_starter.h), and the disk image, open
         * from the start: a jailed VMM (jail.h) has no path to it. */
        struct ward_blk_starter *starter;
        int disk_fd;
        char path[PATH_MAX]; /* the disk image, for messages */
        bool read_only;
        uint64_t size;
        unsigned restarts;
        /* The backend's own allow-list (`ward backend blk --seccomp`): set
         * before ward_blk_process_open; zero (calloc) is on. */
        enum ward_seccomp_mode seccomp;
};

/* Opens path and has starter start its backend; err gets one line on failure. */
int ward_blk_process_open(struct ward_blk_process *bp, struct ward_blk_starter *starter,
                          const char *path, bool read_only, char *err, size_t errlen);
struct ward_blk_backend ward_blk_process_backend(struct ward_blk_process *bp);
/* Readable when the backend has answered: then call ward_blk_process_poll(). */
int ward_blk_process_event_fd(const struct ward_blk_process *bp);
/* Readable (EOF) when the backend has gone: then call ward_blk_process_restart(). */
int ward_blk_process_gone_fd(const struct ward_blk_process *bp);
/* Completes what the backend answered; device lock held. */
void ward_blk_process_poll(struct ward_blk_process *bp);
/*
 * The backend has gone: fails its requests, reaps it and starts a new one
 * (at most WARD_BLK_PROCESS_MAX_RESTARTS times). Device lock held. Returns
 * 0 when a new backend runs; -1 with err when the disk stays failed.
 */
int ward_blk_process_restart(struct ward_blk_process *bp, char *err, size_t errlen);
/* Ends the backend (it sees its port close) and reaps it. */
void ward_blk_process_close(struct ward_blk_process *bp);

/* `ward backend blk --disk PATH [--read-only]`: the backend's own main (fds 3-7). */
int ward_blk_backend_main(int argc, char *const argv[]);

#endif
