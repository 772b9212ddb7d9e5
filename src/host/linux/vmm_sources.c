/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux runner's event sources, one table (ward/host/linux/event_loop.h): the
 * stop and signal descriptors, console output waiting to be flushed, disk
 * completions, queue notifications (ioeventfd), the terminal and the
 * doorbell sockets. The terminal and doorbells are read only while the
 * guest has room for their bytes.
 */
#include "vmm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- event sources ---- */

/* Submits the disk requests that device work prepared; device lock held. */
void ward_vmm_flush_disks(struct vmm *m)
{
        for (unsigned i = 0; i < m->cfg->ndisks; i++)
                ward_blk_file_flush(&m->disk[i]);
}

static bool read_counter(int fd)
{
        uint64_t cnt;
        return read(fd, &cnt, sizeof(cnt)) == sizeof(cnt);
}

static void on_stop(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)ctx, (void)s, (void)revents; /* the loop ends: ward_vmm_stopping() is true */
}

static void on_signal(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct signalfd_siginfo si;
        if (read(s->fd, &si, sizeof(si)) == sizeof(si))
                ward_vmm_request_stop(ctx, 1, "stopped by signal %u", si.ssi_signo);
}

static void on_output_waits(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        if (!m->out_pending && read_counter(s->fd)) {
                m->out_pending = true; /* flush OUT_FLUSH_MS from now */
                m->out_since = ward_vmm_now_ms();
        }
}

static void on_disk(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        if (!read_counter(s->fd))
                return;
        pthread_mutex_lock(&m->lock);
        ward_blk_file_reap(&m->disk[s->index]);
        pthread_mutex_unlock(&m->lock);
}

/* A disk's backend process answered. */
static void on_blk_answer(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        ward_blk_process_poll(s->arg);
        pthread_mutex_unlock(&m->lock);
}

/*
 * A disk's backend process has gone: its requests fail (the guest sees
 * I/O errors), and a new backend on a new port takes the next ones.
 */
static void on_blk_gone(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        struct ward_blk_process *bp = s->arg;
        char err[256];
        pthread_mutex_lock(&m->lock);
        int old = bp->pid;
        int rc = ward_blk_process_restart(bp, err, sizeof(err));
        pthread_mutex_unlock(&m->lock);
        struct ward_loop_source *answer = m->bproc_src[s->index][0];
        if (rc) {
                fprintf(stderr, "\r\nward: disk %u: its backend process %d has gone: %s\r\n",
                        s->index, old, err);
                s->off = answer->off = true;
                return;
        }
        fprintf(stderr,
                "\r\nward: disk %u: its backend process %d has gone; requests in flight "
                "failed; backend process %d took over\r\n",
                s->index, old, bp->pid);
        s->fd = ward_blk_process_gone_fd(bp);
        answer->fd = ward_blk_process_event_fd(bp);
}

/* A queue notification the hypervisor signalled on an eventfd (ioeventfd). */
static void on_queue(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        struct ward_vm_dev *d = s->arg;
        if (!read_counter(s->fd))
                return;
        pthread_mutex_lock(&m->lock);
        ward_virtio_notify(d->v, s->index);
        ward_vmm_flush_disks(m);
        pthread_mutex_unlock(&m->lock);
}

static uint32_t console_room(struct vmm *m, unsigned con)
{
        pthread_mutex_lock(&m->lock);
        uint32_t room = ward_vm_console_room(&m->vm, con);
        pthread_mutex_unlock(&m->lock);
        return room;
}

/* Read the terminal and the doorbells only when the guest has room: back-pressure, not loss. */
static bool console_wanted(void *ctx, struct ward_loop_source *s)
{
        return console_room(ctx, s->index) > 0;
}

static void on_stdin(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        uint8_t in[256], out[257];
        uint32_t room = console_room(m, 0);
        ssize_t got = read(STDIN_FILENO, in, room < sizeof(in) ? room : sizeof(in));
        if (got <= 0) {
                if (got == 0 || (errno != EINTR && errno != EAGAIN))
                        s->off = true; /* EOF: the guest just gets no more input */
                return;
        }
        bool quit;
        size_t k = ward_term_filter(&m->term, in, (size_t)got, out, &quit);
        if (k) {
                pthread_mutex_lock(&m->lock);
                ward_vm_console_input(&m->vm, 0, out, (uint32_t)k);
                pthread_mutex_unlock(&m->lock);
        }
        if (quit)
                ward_vmm_request_stop(m, 0, "ended by the user (Ctrl-A x)");
}

static void on_doorbell(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        uint8_t in[256];
        pthread_mutex_lock(&m->lock);
        uint32_t r = ward_vm_console_room(&m->vm, s->index);
        ssize_t got = -1;
        int e = EAGAIN;
        if (r > 0) {
                got = recv(s->fd, in, r < sizeof(in) ? r : sizeof(in), 0);
                e = errno;
        }
        if (got > 0)
                ward_vm_console_input(&m->vm, s->index, in, (uint32_t)got);
        pthread_mutex_unlock(&m->lock);
        if (got == 0 || (got < 0 && e != EINTR && e != EAGAIN)) {
                s->off = true; /* the peer's end is gone for good */
                m->doorbell_fd[s->index - 1] = -1;
                close(s->fd);
        }
}

/* ---- NICs ---- */

int ward_vmm_open_nets(struct vmm *m, char *err, size_t errlen)
{
        for (unsigned i = 0; i < m->cfg->nnets; i++) {
                m->net[i] = calloc(1, sizeof(*m->net[i]));
                if (!m->net[i]) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                if (ward_net_link_open(m->net[i], &m->cfg->nets[i], i, err, errlen))
                        return -1;
        }
        if (m->cfg->vsock.cid) {
                m->vsock = calloc(1, sizeof(*m->vsock));
                if (!m->vsock) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                m->vsock->listen_fd = -1;
                if (ward_vsock_mux_open(m->vsock, &m->cfg->vsock, err, errlen))
                        return -1;
        }
        return 0;
}

/* ---- vsock ---- */

static void on_vsock_accept(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        ward_vsock_mux_accept(s->arg);
        pthread_mutex_unlock(&m->lock);
}

/* A connection's source follows its slot: the descriptor changes as connections come and go. */
static bool vsock_wanted(void *ctx, struct ward_loop_source *s, bool out)
{
        struct vmm *m = ctx;
        struct ward_vsock_mux *x = s->arg;
        pthread_mutex_lock(&m->lock);
        int fd = x->c[s->index].fd;
        bool want = fd >= 0 && (out ? ward_vsock_mux_wants_output(x, (int)s->index)
                                    : ward_vsock_mux_wants_input(x, (int)s->index));
        pthread_mutex_unlock(&m->lock);
        if (want)
                s->fd = fd;
        return want;
}

static bool vsock_wants_input(void *ctx, struct ward_loop_source *s)
{
        return vsock_wanted(ctx, s, false);
}

static bool vsock_wants_output(void *ctx, struct ward_loop_source *s)
{
        return vsock_wanted(ctx, s, true);
}

static void on_vsock_conn(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        ward_vsock_mux_ready(s->arg, (int)s->index);
        pthread_mutex_unlock(&m->lock);
}

static void add_vsock(struct vmm *m)
{
        struct ward_vsock_mux *x = m->vsock;
        for (unsigned i = 0; x && i < m->vm.ndev; i++)
                if (m->vm.dev[i].type == &ward_virtio_vsock_type)
                        x->dev = m->vm.dev[i].state;
        if (!x || !x->dev)
                return;
        ward_loop_add(&m->loop, x->listen_fd, on_vsock_accept, NULL, x, 0);
        /* Placeholders on the listening socket; wanted() puts each slot's own in. */
        for (unsigned h = 0; h < WARD_VSOCK_MAX_CONNS; h++) {
                /* Idle when free or waiting on the guest: the device's calls, in this
                 * thread, make them wanted again. */
                struct ward_loop_source *in =
                    ward_loop_add(&m->loop, x->listen_fd, on_vsock_conn, vsock_wants_input, x, h);
                struct ward_loop_source *o =
                    ward_loop_add(&m->loop, x->listen_fd, on_vsock_conn, vsock_wants_output, x, h);
                if (in)
                        in->idle_ok = true;
                if (o) {
                        o->events = POLLOUT;
                        o->idle_ok = true;
                }
        }
}

static bool net_wants_input(void *ctx, struct ward_loop_source *s)
{
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        bool r = ward_net_link_wants_input(s->arg);
        pthread_mutex_unlock(&m->lock);
        return r;
}

static bool net_wants_output(void *ctx, struct ward_loop_source *s)
{
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        bool r = ward_net_link_wants_output(s->arg);
        pthread_mutex_unlock(&m->lock);
        return r;
}

static void on_net_input(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        ward_net_link_input(s->arg);
        pthread_mutex_unlock(&m->lock);
}

static void on_net_output(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        pthread_mutex_lock(&m->lock);
        ward_net_link_output(s->arg);
        pthread_mutex_unlock(&m->lock);
}

/* Each NIC's link learns its device, then is read while the guest can take
 * frames and written while part of one waits. */
static void add_nets(struct vmm *m)
{
        for (unsigned i = 0; i < m->vm.ndev; i++) {
                struct ward_vm_dev *d = &m->vm.dev[i];
                if (d->type != &ward_virtio_net_type || d->index >= m->cfg->nnets)
                        continue;
                struct ward_net_link *l = m->net[d->index];
                l->dev = d->state;
                l->port.dev = d->state; /* a port link's own view of it */
                ward_loop_add(&m->loop, l->fd, on_net_input, net_wants_input, l, d->index);
                struct ward_loop_source *out =
                    ward_loop_add(&m->loop, l->fd, on_net_output, net_wants_output, l, d->index);
                if (out) {
                        out->events = POLLOUT;
                        out->idle_ok = true; /* output waits only after a send in this thread */
                }
        }
}

/* Binds eventfds so that notifications and interrupts bypass the vCPU threads. */
static void bind_notifiers(struct vmm *m)
{
        const struct ward_hv_ops *hv = m->vm.hv;
        for (unsigned i = 0; i < m->vm.ndev; i++) {
                struct ward_vm_dev *d = &m->vm.dev[i];
                int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (fd >= 0 && d->line < MAX_LINES && hv->irq_bind_notifier &&
                    hv->irq_bind_notifier(m->vm.hvm, d->line, fd) == 0)
                        m->irqfd[d->line] = fd;
                else if (fd >= 0)
                        close(fd);
                for (unsigned q = 0; q < d->v->nqueues; q++) {
                        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                        /* QueueNotify is at offset 0x50 of the window; data is the queue index. */
                        if (fd >= 0 && hv->mmio_bind_notifier &&
                            hv->mmio_bind_notifier(m->vm.hvm, d->base + 0x50, q, fd) == 0) {
                                m->notify_fd[i][q] = fd;
                                ward_loop_add(&m->loop, fd, on_queue, NULL, d, q);
                        } else if (fd >= 0) {
                                close(fd);
                        }
                }
        }
}

int ward_vmm_add_sources(struct vmm *m, char *err, size_t errlen)
{
        struct ward_loop *l = &m->loop;
        ward_loop_add(l, m->stop_fd, on_stop, NULL, NULL, 0);
        ward_loop_add(l, m->sig_fd, on_signal, NULL, NULL, 0);
        ward_loop_add(l, m->out_wake_fd, on_output_waits, NULL, NULL, 0);
        for (unsigned i = 0; i < m->cfg->ndisks; i++) {
                if (m->disk[i].event_fd >= 0)
                        ward_loop_add(l, m->disk[i].event_fd, on_disk, NULL, NULL, i);
                struct ward_blk_process *bp = m->bproc[i];
                if (bp) {
                        m->bproc_src[i][0] = ward_loop_add(l, ward_blk_process_event_fd(bp),
                                                           on_blk_answer, NULL, bp, i);
                        m->bproc_src[i][1] = ward_loop_add(l, ward_blk_process_gone_fd(bp),
                                                           on_blk_gone, NULL, bp, i);
                }
        }
        bind_notifiers(m);
        add_nets(m);
        add_vsock(m);
        ward_loop_add(l, STDIN_FILENO, on_stdin, console_wanted, NULL, 0);
        for (unsigned i = 0; i < m->cfg->ndoorbells; i++) {
                int fd = m->cfg->doorbell_fd[i];
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
                    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                        snprintf(err, errlen, "--doorbell %d: %s", fd, strerror(errno));
                        return -1;
                }
                m->doorbell_fd[i] = fd;
                ward_loop_add(l, fd, on_doorbell, console_wanted, NULL, 1 + i);
        }
        return 0;
}
