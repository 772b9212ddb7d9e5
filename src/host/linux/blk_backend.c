/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward backend blk --disk PATH [--disk-fd FD] [--read-only]`: a disk
 * backend in a process of its own, started for a VMM (blk_starter.c). It
 * inherits the server end of a block port: fd 3 the region (memfd), 4 the
 * eventfd the VMM rings, 5 the eventfd it rings, 6 its end of the socket
 * pair whose EOF means the VMM has gone; and the disk, open, as fd 7
 * (`--disk-fd 7`; PATH then only names it). It serves the port from the
 * disk until then, through the same io_uring file backend (blk_file.c) a
 * VMM uses for a disk of its own. It never sees guest memory: only the
 * port's data buffers.
 */
#include "ward/host/linux/blk_process.h"
#include "ward/host/linux/event_loop.h"
#include "ward/host/linux/host_linux.h"
#include "ward/host/linux/caps.h"
#include "ward/host/linux/seccomp_filter.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FD_MEM = 3, FD_TO_SERVER, FD_TO_CLIENT, FD_CTL };

static void ring_client(void *o)
{
        (void)o;
        uint64_t one = 1;
        if (write(FD_TO_CLIENT, &one, sizeof(one)) < 0) {
                /* the VMM has gone: the loop sees it next */
        }
}

/*
 * Serves the port from f through the same io_uring file backend a VMM uses
 * for a disk of its own: requests go to the kernel as they arrive, and
 * answers go back as the kernel completes them.
 */
static int serve(struct ward_blk_file *f, enum ward_seccomp_mode mode)
{
        struct stat st;
        if (fstat(FD_MEM, &st) != 0 || st.st_size <= 0) {
                fprintf(stderr, "ward backend blk: fd 3 is not a port region\n");
                return 1;
        }
        void *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, FD_MEM, 0);
        struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        struct ward_port_notify n = {ring_client, NULL};
        struct ward_blk_backend be = ward_blk_file_backend(f);
        static struct ward_blk_port_server s;
        if (mem == MAP_FAILED ||
            ward_blk_port_server_init_backend(&s, mem, (size_t)st.st_size, &cfg, f->size, &be,
                                              &n) != WARD_OK) {
                fprintf(stderr, "ward backend blk: cannot attach to the port\n");
                return 1;
        }
        /* Its disk open and its port attached: from here on, only serving. */
        char err[160];
        if (ward_seccomp_install(WARD_SECCOMP_BACKEND, mode, false, err, sizeof(err))) {
                fprintf(stderr, "ward backend blk: %s\n", err);
                return 1;
        }
        for (;;) {
                struct pollfd p[3] = {
                    {FD_TO_SERVER, POLLIN, 0}, {FD_CTL, POLLIN, 0}, {f->event_fd, POLLIN, 0}};
                if (ward_poll(p, f->event_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
                        return 1;
                if (p[1].revents)
                        return 0; /* the VMM has gone */
                uint64_t cnt;
                if ((p[2].revents & POLLIN) && read(f->event_fd, &cnt, sizeof(cnt)) > 0)
                        ward_blk_file_reap(f); /* answers; may let more requests in */
                if ((p[0].revents & POLLIN) && read(FD_TO_SERVER, &cnt, sizeof(cnt)) < 0)
                        continue;
                if (ward_blk_port_server_poll(&s) == WARD_EBROKEN) {
                        fprintf(stderr, "ward backend blk: the port is broken\n");
                        return 1;
                }
                ward_blk_file_flush(f); /* hand the batch to the kernel */
        }
}

int ward_blk_backend_main(int argc, char *const argv[])
{
        const char *path = NULL;
        int disk_fd = -1;
        bool read_only = false;
        int mode = WARD_SECCOMP_ON;
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--disk") && i + 1 < argc) {
                        path = argv[++i];
                } else if (!strcmp(argv[i], "--disk-fd") && i + 1 < argc) {
                        char *end;
                        long v = strtol(argv[++i], &end, 10);
                        disk_fd = *end || v < 0 || v > INT_MAX ? -2 : (int)v;
                } else if (!strcmp(argv[i], "--read-only")) {
                        read_only = true;
                } else if (!strcmp(argv[i], "--seccomp") && i + 1 < argc) {
                        for (mode = 2; mode >= 0; mode--)
                                if (!strcmp(argv[i + 1], ward_seccomp_mode_names[mode]))
                                        break;
                        i++;
                } else {
                        path = NULL, i = argc;
                }
        }
        if (argc < 2 || strcmp(argv[1], "blk") || !path || mode < 0 || disk_fd == -2) {
                fprintf(stderr, "usage: ward backend blk --disk PATH [--disk-fd FD] [--read-only] "
                                "[--seccomp on|log|off] (started for a VMM, with a "
                                "block port on fds 3-6)\n");
                return 2;
        }
        static struct ward_blk_file f;
        char err[256];
        /* A VMM hands its disk over open (a jailed one has no path to it). */
        if (disk_fd >= 0 ? ward_blk_file_adopt(&f, disk_fd, path, read_only, err, sizeof(err))
                         : ward_blk_file_open(&f, path, read_only, err, sizeof(err))) {
                fprintf(stderr, "ward backend blk: %s\n", err);
                return 1;
        }
        /* Started without any already (blk_starter.c); whoever else starts it gets the same. */
        if (ward_caps_drop_all(err, sizeof(err))) {
                fprintf(stderr, "ward backend blk: %s\n", err);
                ward_blk_file_close(&f);
                return 1;
        }
        int rc = serve(&f, (enum ward_seccomp_mode)mode);
        ward_blk_file_close(&f);
        return rc;
}
