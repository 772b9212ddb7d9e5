/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Disk image file backend. Requests are served through io_uring on the
 * iovecs the device built, which point into guest RAM: no bounce buffer,
 * and the vCPU and event-loop threads never wait for the disk. Flush is
 * fdatasync (IORING_FSYNC_DATASYNC), so a completed flush means the data is
 * on the host's stable storage. Without io_uring, the same requests run
 * synchronously with preadv/pwritev/fdatasync.
 */
#include "ward/host/linux/host_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define RING_ENTRIES WARD_BLK_QUEUE_SIZE

int ward_blk_disk_size(int fd, const char *path, uint64_t *size, char *err, size_t errlen)
{
        struct stat st;
        if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
                snprintf(err, errlen, "--disk %s: not a regular file or block device", path);
                return -1;
        }
        /* Not st_size: a block device's is 0. */
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
                snprintf(err, errlen, "--disk %s: cannot find its size: %s", path, strerror(errno));
                return -1;
        }
        *size = (uint64_t)end;
        return 0;
}

int ward_blk_file_open(struct ward_blk_file *f, const char *path, bool read_only, char *err,
                       size_t errlen)
{
        int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "--disk %s: %s", path, strerror(errno));
                return -1;
        }
        return ward_blk_file_adopt(f, fd, path, read_only, err, errlen);
}

int ward_blk_file_adopt(struct ward_blk_file *f, int fd, const char *path, bool read_only,
                        char *err, size_t errlen)
{
        f->fd = fd;
        if (ward_blk_disk_size(fd, path, &f->size, err, errlen)) {
                close(f->fd);
                return -1;
        }
        f->read_only = read_only;
        f->event_fd = -1;
        f->uring_ok = false;
        f->pending = 0;
        f->iov = calloc(WARD_BLK_QUEUE_SIZE, sizeof(*f->iov));
        if (!f->iov) {
                snprintf(err, errlen, "--disk %s: out of memory", path);
                close(f->fd);
                return -1;
        }
        if (io_uring_queue_init(RING_ENTRIES, &f->ring, 0) == 0) {
                f->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (f->event_fd >= 0 && io_uring_register_eventfd(&f->ring, f->event_fd) == 0) {
                        f->uring_ok = true;
                } else {
                        if (f->event_fd >= 0)
                                close(f->event_fd);
                        f->event_fd = -1;
                        io_uring_queue_exit(&f->ring);
                }
        }
        return 0;
}

void ward_blk_file_close(struct ward_blk_file *f)
{
        if (f->uring_ok) {
                io_uring_queue_exit(&f->ring);
                close(f->event_fd);
        }
        f->uring_ok = false;
        f->event_fd = -1;
        free(f->iov);
        f->iov = NULL;
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
}

/* Transfers a whole request, resuming after short transfers. */
static int transfer(int fd, const struct ward_blk_io *r, bool write)
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

static void submit_sync(struct ward_blk_file *f, const struct ward_blk_io *r)
{
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
        ward_blk_io_complete(r, rc);
}

void ward_blk_file_flush(struct ward_blk_file *f)
{
        if (f->uring_ok && f->pending) {
                io_uring_submit(&f->ring);
                f->pending = 0;
        }
}

static int file_submit(void *opaque, const struct ward_blk_io *r)
{
        struct ward_blk_file *f = opaque;
        if (!f->uring_ok || (r->type == WARD_VIRTIO_BLK_T_OUT && f->read_only) ||
            (r->type == WARD_VIRTIO_BLK_T_FLUSH && f->read_only)) {
                submit_sync(f, r);
                return 0;
        }
        struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
        if (!sqe) {
                ward_blk_file_flush(f);
                sqe = io_uring_get_sqe(&f->ring);
        }
        if (!sqe) {
                submit_sync(f, r);
                return 0;
        }
        /* The I/O's slot picks its kernel iovec array: no two I/Os out share one. */
        struct iovec *iov = f->iov[r->slot % WARD_BLK_QUEUE_SIZE];
        for (unsigned i = 0; i < r->niov; i++)
                iov[i] = (struct iovec){r->iov[i].base, r->iov[i].len};
        switch (r->type) {
        case WARD_VIRTIO_BLK_T_IN:
                io_uring_prep_readv(sqe, f->fd, iov, r->niov, r->offset);
                break;
        case WARD_VIRTIO_BLK_T_OUT:
                io_uring_prep_writev(sqe, f->fd, iov, r->niov, r->offset);
                break;
        default:
                io_uring_prep_fsync(sqe, f->fd, IORING_FSYNC_DATASYNC);
                break;
        }
        io_uring_sqe_set_data(sqe, (void *)r);
        f->pending++;
        return 0;
}

void ward_blk_file_reap(struct ward_blk_file *f)
{
        if (!f->uring_ok)
                return;
        struct io_uring_cqe *cqe;
        while (io_uring_peek_cqe(&f->ring, &cqe) == 0) {
                const struct ward_blk_io *r = io_uring_cqe_get_data(cqe);
                int res = cqe->res;
                io_uring_cqe_seen(&f->ring, cqe);
                if (res >= 0 && r->type != WARD_VIRTIO_BLK_T_FLUSH && (uint32_t)res != r->len) {
                        /* Short transfer (end of file, signal): finish it the simple way. */
                        submit_sync(f, r);
                        continue;
                }
                ward_blk_io_complete(r, res < 0 ? -1 : 0);
        }
        ward_blk_file_flush(f); /* completions may have started new requests */
}

struct ward_blk_backend ward_blk_file_backend(struct ward_blk_file *f)
{
        return (struct ward_blk_backend){.submit = file_submit, .opaque = f};
}
