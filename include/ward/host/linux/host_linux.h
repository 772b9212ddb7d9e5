/* SPDX-License-Identifier: BSD-2-Clause */
/* Linux host services: backends for the device ports, and the terminal. */
#ifndef WARD_HOST_LINUX_H
#define WARD_HOST_LINUX_H

#include "ward/common/panic_watch.h"
#include "ward/virtio/virtio_blk.h"
#include "ward/virtio/virtio_rng.h"

#include <liburing.h>
#include <sys/uio.h>

/*
 * A disk image file behind a virtio-blk backend port. Requests go to an
 * io_uring (falling back to synchronous preadv/pwritev when the kernel
 * refuses one); completions are signalled on an eventfd.
 */
struct ward_blk_file {
        int fd;
        uint64_t size;
        bool read_only;
        bool uring_ok;
        struct io_uring ring;
        int event_fd;     /* readable when completions wait; -1 without io_uring */
        unsigned pending; /* SQEs prepared but not yet submitted */
        /* Kernel-format iovecs for each I/O slot (struct ward_blk_io.slot). */
        struct iovec (*iov)[WARD_BLK_SEG_MAX];
};

/* Checks that fd (the disk path) is a regular file or a block device and
 * writes its size to size; err gets one line on failure. */
int ward_blk_disk_size(int fd, const char *path, uint64_t *size, char *err, size_t errlen);
/* Opens path; err gets one line on failure. */
int ward_blk_file_open(struct ward_blk_file *f, const char *path, bool read_only, char *err,
                       size_t errlen);
/* The same for a disk already open as fd (named path in messages); the
 * file takes fd over, and closes it on failure too. */
int ward_blk_file_adopt(struct ward_blk_file *f, int fd, const char *path, bool read_only,
                        char *err, size_t errlen);
void ward_blk_file_close(struct ward_blk_file *f);
/* The backend port for f: reads and writes go straight to guest memory. */
struct ward_blk_backend ward_blk_file_backend(struct ward_blk_file *f);
/* Hands prepared requests to the kernel (after a batch of submits). */
void ward_blk_file_flush(struct ward_blk_file *f);
/* Completes every finished request; call with the device lock held. */
void ward_blk_file_reap(struct ward_blk_file *f);

/* getrandom(2) behind the entropy port. */
struct ward_rng_backend ward_rng_getrandom_backend(void);

/*
 * The user's terminal: raw mode while the VM runs (restored on every exit
 * path), Ctrl-A x to quit, Ctrl-A Ctrl-A for a literal Ctrl-A.
 */
struct ward_term {
        bool is_tty;
        bool saw_escape;
        bool raw;
};
void ward_term_enter(struct ward_term *t);
void ward_term_leave(struct ward_term *t);
/*
 * Filters input bytes for the escape sequence into out, which must hold
 * len + 1 bytes (an escape pending from the previous call may add one).
 * Returns the bytes for the guest; sets *quit when the user asked to quit.
 */
size_t ward_term_filter(struct ward_term *t, const uint8_t *in, size_t len, uint8_t *out,
                        bool *quit);

#endif
