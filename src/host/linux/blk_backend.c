/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward backend blk --disk PATH [--read-only]`: a disk backend in a process
 * of its own, started by a VMM (blk_process.c). It inherits the server end
 * of a block port: fd 3 the region (memfd), 4 the eventfd the VMM rings,
 * 5 the eventfd it rings, 6 its end of the socket pair whose EOF means the
 * VMM has gone. It serves the port from the disk file until then. It never
 * sees guest memory: only the port's data buffers.
 */
#include "ward/host/linux/blk_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FD_MEM = 3, FD_TO_SERVER, FD_TO_CLIENT, FD_CTL };

static int disk_read(void *o, uint64_t off, void *buf, uint32_t len)
{
        ssize_t n = pread(*(int *)o, buf, len, (off_t)off);
        if (n >= 0 && (uint32_t)n < len)
                memset((uint8_t *)buf + n, 0, len - (uint32_t)n); /* past a shrunk end: zeros */
        return n < 0 ? -1 : 0;
}

static int disk_write(void *o, uint64_t off, const void *buf, uint32_t len)
{
        return pwrite(*(int *)o, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static int disk_flush(void *o)
{
        return fdatasync(*(int *)o);
}

static void ring_client(void *o)
{
        (void)o;
        uint64_t one = 1;
        if (write(FD_TO_CLIENT, &one, sizeof(one)) < 0) {
                /* the VMM has gone: the loop sees it next */
        }
}

static int serve(int disk, uint64_t size, bool read_only)
{
        struct stat st;
        if (fstat(FD_MEM, &st) != 0 || st.st_size <= 0) {
                fprintf(stderr, "ward backend blk: fd 3 is not a port region\n");
                return 1;
        }
        void *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, FD_MEM, 0);
        struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        struct ward_blk_port_disk_ops ops = {disk_read, read_only ? NULL : disk_write, disk_flush};
        struct ward_port_notify n = {ring_client, NULL};
        struct ward_blk_port_server s;
        if (mem == MAP_FAILED || ward_blk_port_server_init(&s, mem, (size_t)st.st_size, &cfg, size,
                                                           &ops, &disk, &n) != WARD_OK) {
                fprintf(stderr, "ward backend blk: cannot attach to the port\n");
                return 1;
        }
        for (;;) {
                struct pollfd p[2] = {{FD_TO_SERVER, POLLIN, 0}, {FD_CTL, POLLIN, 0}};
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return 1;
                if (p[1].revents)
                        return 0; /* the VMM has gone */
                uint64_t cnt;
                if ((p[0].revents & POLLIN) && read(FD_TO_SERVER, &cnt, sizeof(cnt)) > 0 &&
                    ward_blk_port_server_poll(&s) == WARD_EBROKEN) {
                        fprintf(stderr, "ward backend blk: the VMM broke the port\n");
                        return 1;
                }
        }
}

int ward_blk_backend_main(int argc, char *const argv[])
{
        const char *path = NULL;
        bool read_only = false;
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--disk") && i + 1 < argc)
                        path = argv[++i];
                else if (!strcmp(argv[i], "--read-only"))
                        read_only = true;
                else
                        path = NULL, i = argc;
        }
        if (argc < 2 || strcmp(argv[1], "blk") || !path) {
                fprintf(stderr, "usage: ward backend blk --disk PATH [--read-only] "
                                "(started by a VMM, with a block port on fds 3-6)\n");
                return 2;
        }
        int disk = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        off_t end = disk < 0 ? -1 : lseek(disk, 0, SEEK_END);
        if (end < 0) {
                fprintf(stderr, "ward backend blk: %s: %s\n", path, strerror(errno));
                return 1;
        }
        return serve(disk, (uint64_t)end, read_only);
}
