/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMM's side of a disk backend process (see ward/host/linux/blk_process.h). */
#include "ward/host/linux/blk_process.h"
#include "ward/host/linux/host_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A new port and a backend process serving it; the client attaches to it. */
static int start(struct ward_blk_process *bp, char *err, size_t errlen)
{
        struct ward_blk_port_layout lay;
        if (ward_blk_port_layout(&bp->cfg, &lay) != WARD_OK ||
            ward_port_linux_create(&bp->port, "ward-blk-backend", lay.total, err, errlen))
                return -1;
        if (ward_blk_port_format(bp->port.mem, bp->port.size, &bp->cfg) != WARD_OK) {
                snprintf(err, errlen, "--disk %s: cannot format its port", bp->path);
                ward_port_linux_close(&bp->port);
                return -1;
        }
        const int fds[5] = {bp->port.mem_fd, bp->port.to_server, bp->port.to_client,
                            bp->port.ctl[WARD_PORT_SERVER], bp->disk_fd};
        bp->pid = ward_blk_starter_start(bp->starter, fds, bp->read_only, bp->path, bp->seccomp,
                                         err, errlen);
        if (bp->pid < 0) {
                ward_port_linux_close(&bp->port);
                return -1;
        }
        ward_port_linux_take_side(&bp->port, WARD_PORT_CLIENT);
        struct ward_port_notify n = ward_port_linux_notifier(&bp->port, WARD_PORT_CLIENT);
        ward_blk_port_client_init(&bp->client, bp->port.mem, bp->port.size, &bp->cfg, &n);
        return 0;
}

int ward_blk_process_open(struct ward_blk_process *bp, struct ward_blk_starter *starter,
                          const char *path, bool read_only, char *err, size_t errlen)
{
        bp->pid = -1;
        bp->port = (struct ward_port_linux){.mem_fd = -1, .ctl = {-1, -1}};
        bp->starter = starter;
        bp->disk_fd = -1;
        if (snprintf(bp->path, sizeof(bp->path), "%s", path) >= (int)sizeof(bp->path)) {
                snprintf(err, errlen, "--disk %s: path too long", path);
                return -1;
        }
        bp->disk_fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (bp->disk_fd < 0) {
                snprintf(err, errlen, "--disk %s: %s", path, strerror(errno));
                return -1;
        }
        if (ward_blk_disk_size(bp->disk_fd, path, &bp->size, err, errlen))
                return -1;
        bp->read_only = read_only;
        bp->cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        return start(bp, err, errlen);
}

struct ward_blk_backend ward_blk_process_backend(struct ward_blk_process *bp)
{
        return ward_blk_port_client_backend(&bp->client);
}

int ward_blk_process_event_fd(const struct ward_blk_process *bp)
{
        return ward_port_linux_event_fd(&bp->port, WARD_PORT_CLIENT);
}

int ward_blk_process_gone_fd(const struct ward_blk_process *bp)
{
        return bp->port.ctl[WARD_PORT_CLIENT];
}

void ward_blk_process_poll(struct ward_blk_process *bp)
{
        uint64_t cnt;
        if (read(ward_blk_process_event_fd(bp), &cnt, sizeof(cnt)) < 0) {
                /* nothing new: poll anyway, it is cheap */
        }
        ward_blk_port_client_poll(&bp->client);
}

int ward_blk_process_restart(struct ward_blk_process *bp, char *err, size_t errlen)
{
        ward_blk_port_client_fail_all(&bp->client);
        /* The backend has gone (its socket end closed); its starter reaps it. */
        ward_port_linux_close(&bp->port);
        bp->pid = -1;
        if (bp->restarts >= WARD_BLK_PROCESS_MAX_RESTARTS) {
                snprintf(err, errlen,
                         "--disk %s: the backend failed %u times; the disk stays failed", bp->path,
                         bp->restarts);
                return -1;
        }
        bp->restarts++;
        if (start(bp, err, errlen)) {
                ward_blk_port_client_fail_all(&bp->client); /* failed for good */
                return -1;
        }
        return 0;
}

void ward_blk_process_close(struct ward_blk_process *bp)
{
        ward_port_linux_close(&bp->port); /* the backend reads EOF and exits */
        bp->pid = -1;
        if (bp->disk_fd >= 0)
                close(bp->disk_fd);
        bp->disk_fd = -1;
}
