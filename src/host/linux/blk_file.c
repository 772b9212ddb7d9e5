/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Disk image file backend. Requests are served with preadv/pwritev on the
 * iovecs the device built, which point into guest RAM: no bounce buffer.
 * Flush is fdatasync, so a completed flush means the data is on the host's
 * stable storage.
 */
#include "ward/host_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int ward_blk_file_open(struct ward_blk_file *f, const char *path, bool read_only, char *err,
                       size_t errlen)
{
        f->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (f->fd < 0) {
                snprintf(err, errlen, "--disk %s: %s", path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(f->fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
                snprintf(err, errlen, "--disk %s: not a regular file or block device", path);
                close(f->fd);
                return -1;
        }
        off_t end = lseek(f->fd, 0, SEEK_END);
        if (end < 0) {
                snprintf(err, errlen, "--disk %s: cannot find its size: %s", path, strerror(errno));
                close(f->fd);
                return -1;
        }
        f->size = (uint64_t)end;
        f->read_only = read_only;
        return 0;
}

void ward_blk_file_close(struct ward_blk_file *f)
{
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
}

/* Transfers a whole request, resuming after short transfers. */
static int transfer(int fd, struct ward_blk_req *r, bool write)
{
        struct iovec iov[WARD_BLK_SEG_MAX];
        unsigned n = r->niov;
        for (unsigned i = 0; i < n; i++)
                iov[i] = (struct iovec){r->iov[i].base, r->iov[i].len};
        struct iovec *cur = iov;
        off_t off = (off_t)r->offset;
        while (n > 0) {
                ssize_t done = write ? pwritev(fd, cur, (int)n, off) : preadv(fd, cur, (int)n, off);
                if (done < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (done == 0) {
                        if (write)
                                return -1;
                        /* Past the end of a file that shrank: the guest reads zeros. */
                        for (unsigned i = 0; i < n; i++)
                                memset(cur[i].iov_base, 0, cur[i].iov_len);
                        return 0;
                }
                off += done;
                while (n > 0 && (size_t)done >= cur->iov_len) {
                        done -= (ssize_t)cur->iov_len;
                        cur++;
                        n--;
                }
                if (n > 0) {
                        cur->iov_base = (uint8_t *)cur->iov_base + done;
                        cur->iov_len -= (size_t)done;
                }
        }
        return 0;
}

static int file_submit(void *opaque, struct ward_blk_req *r)
{
        struct ward_blk_file *f = opaque;
        int rc;
        switch (r->type) {
        case WARD_VIRTIO_BLK_T_IN:
                rc = transfer(f->fd, r, false);
                break;
        case WARD_VIRTIO_BLK_T_OUT:
                rc = f->read_only ? -1 : transfer(f->fd, r, true);
                break;
        case WARD_VIRTIO_BLK_T_FLUSH:
                rc = f->read_only ? 0 : fdatasync(f->fd);
                break;
        default:
                rc = -1;
        }
        ward_vblk_complete(r, rc);
        return 0;
}

struct ward_blk_backend ward_blk_file_backend(struct ward_blk_file *f)
{
        return (struct ward_blk_backend){.submit = file_submit, .opaque = f};
}
