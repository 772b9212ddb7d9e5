/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux runner: one VM in this process. The VM itself is built by the
 * VM core (ward/vm.h) from the config; this file brings what only Linux
 * has: guest memory (anonymous mappings and memfds), the disk and entropy
 * backends, the terminal and doorbell sockets, eventfds that keep queue
 * notifications and interrupts off the vCPU threads, one thread per vCPU,
 * and the event loop (a table of sources, ward/event_loop.h).
 *
 * Threads: one per vCPU running the guest and handing exits to
 * ward_vm_exit(), plus the main thread, which serves the event sources.
 * Device state is guarded by one lock per VM: device work is short (no
 * blocking I/O besides the disk backend) and a single lock keeps the
 * freestanding core free of threading concerns.
 */
#include "ward/vmm.h"

#include "ward/arm64_fdt.h"
#include "ward/event_loop.h"
#include "ward/host_linux.h"
#include "ward/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUT_FLUSH_MS 20 /* longest a partial console line waits */
#define MAX_SOURCES                                                                                \
        (4 + WARD_MAX_DISKS + WARD_VM_MAX_DEVICES * WARD_VIRTIO_MAX_QUEUES + WARD_MAX_DOORBELLS)
#define MAX_LINES (WARD_ARM64_VIRTIO_SPI_BASE + WARD_VM_MAX_DEVICES)

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

        struct ward_blk_file disk[WARD_MAX_DISKS];
        char disk_id[WARD_MAX_DISKS][WARD_BLK_ID_BYTES + 1];
        int doorbell_fd[WARD_MAX_DOORBELLS]; /* -1 after the peer hung up */
        int irqfd[MAX_LINES];                /* by interrupt line; -1: none */
        int notify_fd[WARD_VM_MAX_DEVICES][WARD_VIRTIO_MAX_QUEUES];
        struct ward_loop loop;
        struct ward_loop_source sources[MAX_SOURCES];

        struct vcpu *vcpus;
        struct ward_term term;
        struct ward_panic_watch panic;
        bool stdin_open;
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
static void request_stop(struct vmm *m, int status, const char *fmt, ...)
{
        int expected = 0;
        if (!__atomic_compare_exchange_n(&m->stopping, &expected, 1, false, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST))
                return;
        m->exit_status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->exit_reason, sizeof(m->exit_reason), fmt, ap);
        va_end(ap);
        uint64_t one = 1;
        if (write(m->stop_fd, &one, sizeof(one)) < 0) {
                /* the eventfd cannot be full; nothing else to do */
        }
        for (unsigned i = 0; m->vm.vcpu && i < m->cfg->cpus; i++)
                if (m->vm.vcpu[i])
                        m->vm.hv->vcpu_kick(m->vm.vcpu[i]);
}

static bool stopping(struct vmm *m)
{
        return __atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- console output ---- */

static void write_all(int fd, const uint8_t *p, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return; /* stdout gone: the guest keeps running */
                p += n;
                len -= (size_t)n;
        }
}

/* Writes out buffered console output; device lock held. */
static void console_flush(struct vmm *m)
{
        write_all(STDOUT_FILENO, m->out, m->out_len);
        m->out_len = 0;
}

/*
 * The main console's output, from the UART or virtio-console. A UART sends
 * one byte per trapped write, so bytes are gathered and written a line at
 * a time (and at least every OUT_FLUSH_MS by the main loop, for prompts
 * and echo): one system call per line instead of one per byte.
 *
 * A doorbell's output goes to its socket as it is. The peer reads its
 * socket whenever its guest has room; if the socket is full the bytes are
 * dropped (a doorbell is a signal, not a data channel).
 */
static void console_out(void *host, unsigned con, const void *buf, uint32_t len)
{
        struct vmm *m = host;
        if (con > 0) {
                int fd = m->doorbell_fd[con - 1];
                if (fd >= 0 && send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                        /* full or peer gone: nothing to do */
                }
                return;
        }
        const uint8_t *p = buf;
        ward_panic_watch_feed(&m->panic, buf, len);
        for (uint32_t i = 0; i < len; i++) {
                m->out[m->out_len++] = p[i];
                if (p[i] == '\n' || m->out_len == sizeof(m->out))
                        console_flush(m);
        }
        if (m->out_len) {
                uint64_t one = 1;
                /* Wake the main loop so that it flushes the rest soon. */
                if (!m->out_wake_sent && write(m->out_wake_fd, &one, sizeof(one)) == sizeof(one))
                        m->out_wake_sent = true;
        }
}

/* ---- what the VM core asks of its runner ---- */

static void *host_ram(void *host, unsigned i, uint64_t gpa, uint64_t size, char *err, size_t errlen)
{
        (void)host;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED)
                return p;
        if (i == 0)
                snprintf(err, errlen, "--mem: cannot reserve %lluM: %s",
                         (unsigned long long)(size >> 20), strerror(errno));
        else
                snprintf(err, errlen, "--ram 0x%llx: cannot reserve %lluM: %s",
                         (unsigned long long)gpa, (unsigned long long)(size >> 20),
                         strerror(errno));
        return NULL;
}

static void *host_shared(void *host, unsigned i, char *err, size_t errlen)
{
        struct vmm *m = host;
        const struct ward_shm_config *sc = &m->cfg->shm[i];
        int prot = sc->read_only ? PROT_READ : PROT_READ | PROT_WRITE;
        void *p = mmap(NULL, sc->size, prot, MAP_SHARED, sc->fd, 0);
        if (p == MAP_FAILED) {
                snprintf(err, errlen, "--shm %d: cannot map %llu bytes: %s", sc->fd,
                         (unsigned long long)sc->size, strerror(errno));
                return NULL;
        }
        close(sc->fd); /* the mapping keeps the memory */
        return p;
}

static void *host_alloc(void *host, size_t size)
{
        (void)host;
        return calloc(1, size);
}

static void host_free(void *host, void *p)
{
        (void)host;
        free(p);
}

static int host_backend(void *host, const struct ward_device_type *t, unsigned index, void *state,
                        union ward_backend *be, struct ward_device_params *p, char *err,
                        size_t errlen)
{
        struct vmm *m = host;
        switch (t->cls) {
        case WARD_DEVICE_BLOCK: {
                const struct ward_disk_config *dc = &m->cfg->disks[index];
                if (ward_blk_file_open(&m->disk[index], dc->path, dc->read_only, err, errlen))
                        return -1;
                char *id = m->disk_id[index];
                snprintf(id, sizeof(m->disk_id[index]), "ward-disk%u", index);
                be->blk = ward_blk_file_backend(&m->disk[index], state);
                *p = (struct ward_device_params){m->disk[index].size, dc->read_only, id};
                return 0;
        }
        case WARD_DEVICE_ENTROPY:
                be->rng = ward_rng_getrandom_backend();
                return 0;
        default:
                snprintf(err, errlen, "internal: no Linux backend for device %s", t->name);
                return -1;
        }
}

static bool host_irq_edge(void *host, unsigned line)
{
        struct vmm *m = host;
        uint64_t one = 1;
        return line < MAX_LINES && m->irqfd[line] >= 0 &&
               write(m->irqfd[line], &one, sizeof(one)) == sizeof(one);
}

static const struct ward_vm_host_ops host_ops = {
    .ram = host_ram,
    .shared = host_shared,
    .alloc = host_alloc,
    .free = host_free,
    .backend = host_backend,
    .console_out = console_out,
    .irq_edge = host_irq_edge,
};

/* ---- boot images ---- */

static int load_file(void *host, unsigned which, void *dst, uint64_t len, char *err, size_t errlen)
{
        struct vmm *m = host;
        const char *what = which ? "--initrd" : "--kernel";
        const char *path = which ? m->cfg->initrd : m->cfg->kernel;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
                return -1;
        }
        uint64_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, (uint8_t *)dst + done, len - done, (off_t)done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        snprintf(err, errlen, "%s %s: read failed", what, path);
                        close(fd);
                        return -1;
                }
                done += (uint64_t)n;
        }
        close(fd);
        return 0;
}

static int write_fdt(void *host, const void *dt, void *dst, size_t room, char *err, size_t errlen)
{
        (void)host;
        int rc = ward_arm64_fdt_build(dst, room, dt);
        if (rc)
                snprintf(err, errlen, "device tree: libfdt error %d (command line too long?)", rc);
        return rc ? -1 : 0;
}

static int file_size(const char *what, const char *path, uint64_t *out, char *err, size_t errlen)
{
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s %s: not a readable regular file", what, path);
                return -1;
        }
        *out = (uint64_t)st.st_size;
        return 0;
}

static int boot(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = m->cfg;
        uint8_t hdr[64];
        uint8_t seed[32];
        struct ward_vm_images img = {
            .kernel_header = hdr, .load = load_file, .write_dt = write_fdt};
        if (file_size("--kernel", cfg->kernel, &img.kernel_len, err, errlen))
                return -1;
        int fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
                snprintf(err, errlen, "--kernel %s: cannot read its header", cfg->kernel);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        if (cfg->initrd && file_size("--initrd", cfg->initrd, &img.initrd_len, err, errlen))
                return -1;
        if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
                memset(seed, 0, sizeof(seed));
        if (getrandom(&img.kaslr_seed, sizeof(img.kaslr_seed), GRND_NONBLOCK) !=
            (ssize_t)sizeof(img.kaslr_seed))
                img.kaslr_seed = 0;
        img.rng_seed = seed;
        return ward_vm_boot(&m->vm, &img, err, errlen);
}

/* ---- event sources ---- */

/* Submits the disk requests that device work prepared; device lock held. */
static void flush_disks(struct vmm *m)
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
        (void)ctx, (void)s, (void)revents; /* the loop ends: stopping() is true */
}

static void on_signal(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct signalfd_siginfo si;
        if (read(s->fd, &si, sizeof(si)) == sizeof(si))
                request_stop(ctx, 1, "stopped by signal %u", si.ssi_signo);
}

static void on_output_waits(void *ctx, struct ward_loop_source *s, short revents)
{
        (void)revents;
        struct vmm *m = ctx;
        if (!m->out_pending && read_counter(s->fd)) {
                m->out_pending = true; /* flush OUT_FLUSH_MS from now */
                m->out_since = now_ms();
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
        flush_disks(m);
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
                request_stop(m, 0, "ended by the user (Ctrl-A x)");
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

static int add_sources(struct vmm *m, char *err, size_t errlen)
{
        struct ward_loop *l = &m->loop;
        ward_loop_add(l, m->stop_fd, on_stop, NULL, NULL, 0);
        ward_loop_add(l, m->sig_fd, on_signal, NULL, NULL, 0);
        ward_loop_add(l, m->out_wake_fd, on_output_waits, NULL, NULL, 0);
        for (unsigned i = 0; i < m->cfg->ndisks; i++)
                if (m->disk[i].event_fd >= 0)
                        ward_loop_add(l, m->disk[i].event_fd, on_disk, NULL, NULL, i);
        bind_notifiers(m);
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

/* ---- running ---- */

static void *vcpu_thread(void *arg)
{
        struct vcpu *c = arg;
        struct vmm *m = c->m;
        struct ward_hv_vcpu *h = m->vm.vcpu[c->index];
        struct ward_hv_exit ex;
        memset(&ex, 0, sizeof(ex));
        while (!stopping(m)) {
                if (m->vm.hv->vcpu_run(h, &ex)) {
                        request_stop(m, 1, "vCPU %u: cannot run", c->index);
                        break;
                }
                if (ex.kind == WARD_HV_EXIT_KICKED)
                        continue;
                pthread_mutex_lock(&m->lock);
                enum ward_vm_event e = ward_vm_exit(&m->vm, c->index, &ex);
                flush_disks(m); /* a notify without ioeventfd lands here */
                pthread_mutex_unlock(&m->lock);
                switch (e) {
                case WARD_VM_RUNNING:
                        break;
                case WARD_VM_POWEROFF:
                        request_stop(m, 0, "guest powered off");
                        break;
                case WARD_VM_REBOOT:
                        if (m->panic.seen)
                                request_stop(m, 1, "guest kernel panicked (and asked to reboot)");
                        else
                                request_stop(m, 0, "guest rebooted; ward stops the VM");
                        break;
                case WARD_VM_FAILED:
                        request_stop(m, 1, "vCPU %u: %s at pc 0x%llx", c->index, ex.reason,
                                     (unsigned long long)ex.pc);
                        break;
                }
        }
        return NULL;
}

/* Serves the event sources until the VM stops. */
static void main_loop(struct vmm *m)
{
        while (!stopping(m)) {
                int timeout = m->vm.coalesced ? 50 : -1;
                if (m->out_pending) {
                        uint64_t waited = now_ms() - m->out_since;
                        timeout = waited >= OUT_FLUSH_MS ? 0 : (int)(OUT_FLUSH_MS - waited);
                }
                if (ward_loop_run_once(&m->loop, m, timeout)) {
                        request_stop(m, 1, "poll: %s", strerror(errno));
                        break;
                }
                /* Queued UART writes with no trap after them (rare) reach stdout too. */
                pthread_mutex_lock(&m->lock);
                ward_vm_drain(&m->vm);
                if (m->out_pending && now_ms() - m->out_since >= OUT_FLUSH_MS) {
                        console_flush(m);
                        m->out_wake_sent = false;
                        m->out_pending = false;
                }
                pthread_mutex_unlock(&m->lock);
        }
}

static int build(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_hv_ops *hv = ward_hv_default();
        if (!hv) {
                snprintf(err, errlen,
                         "this ward build has no hypervisor backend for this host "
                         "architecture (arm64 KVM only for now)");
                return -1;
        }
        m->vm_created = true; /* from here on ward_vm_destroy() cleans up */
        if (ward_vm_create(&m->vm, m->cfg, hv, &host_ops, m, err, errlen) ||
            add_sources(m, err, errlen) || boot(m, err, errlen))
                return -1;
        m->vcpus = calloc(m->cfg->cpus, sizeof(*m->vcpus));
        if (!m->vcpus) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

static void teardown(struct vmm *m)
{
        const struct ward_vm_config *cfg = m->cfg;
        if (m->vcpus) {
                for (unsigned i = 0; i < cfg->cpus; i++)
                        if (m->vcpus[i].started)
                                pthread_join(m->vcpus[i].thread, NULL);
                free(m->vcpus);
        }
        for (unsigned i = 0; i < MAX_LINES; i++)
                if (m->irqfd[i] >= 0)
                        close(m->irqfd[i]);
        for (unsigned i = 0; i < WARD_VM_MAX_DEVICES; i++)
                for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                        if (m->notify_fd[i][q] >= 0)
                                close(m->notify_fd[i][q]);
        for (unsigned i = 0; i < cfg->ndisks; i++)
                ward_blk_file_close(&m->disk[i]);
        for (unsigned i = 0; i < cfg->ndoorbells; i++)
                if (m->doorbell_fd[i] >= 0)
                        close(m->doorbell_fd[i]);
        if (m->vm_created) {
                struct ward_vm *vm = &m->vm;
                ward_vm_destroy(vm);
                if (vm->ram)
                        munmap(vm->ram, vm->board.ram_size);
                for (unsigned i = 0; i < cfg->nram; i++)
                        if (vm->ram_extra[i])
                                munmap(vm->ram_extra[i], cfg->ram[i].size);
                for (unsigned i = 0; i < cfg->nshm; i++)
                        if (vm->shm[i])
                                munmap(vm->shm[i], cfg->shm[i].size);
        }
        if (m->stop_fd >= 0)
                close(m->stop_fd);
        if (m->out_wake_fd >= 0)
                close(m->out_wake_fd);
        pthread_mutex_destroy(&m->lock);
}

static void init(struct vmm *m, const struct ward_vm_config *cfg)
{
        m->cfg = cfg;
        for (unsigned i = 0; i < WARD_MAX_DISKS; i++)
                m->disk[i].fd = -1;
        for (unsigned i = 0; i < WARD_MAX_DOORBELLS; i++)
                m->doorbell_fd[i] = -1;
        for (unsigned i = 0; i < MAX_LINES; i++)
                m->irqfd[i] = -1;
        for (unsigned i = 0; i < WARD_VM_MAX_DEVICES; i++)
                for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                        m->notify_fd[i][q] = -1;
        ward_loop_init(&m->loop, m->sources, MAX_SOURCES);
        pthread_mutex_init(&m->lock, NULL);
        m->stop_fd = eventfd(0, EFD_CLOEXEC);
        m->out_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static int run(struct vmm *m)
{
        ward_term_enter(&m->term);
        for (unsigned i = 0; i < m->cfg->cpus; i++) {
                m->vcpus[i] = (struct vcpu){.m = m, .index = i};
                if (pthread_create(&m->vcpus[i].thread, NULL, vcpu_thread, &m->vcpus[i])) {
                        request_stop(m, 1, "cannot start vCPU thread %u", i);
                        break;
                }
                m->vcpus[i].started = true;
        }
        main_loop(m);
        pthread_mutex_lock(&m->lock);
        ward_vm_drain(&m->vm);
        console_flush(m);
        pthread_mutex_unlock(&m->lock);
        ward_term_leave(&m->term);
        fprintf(stderr, "\r\nward: %s\n", m->exit_reason);
        return m->exit_status;
}

int ward_vmm_run(const struct ward_vm_config *cfg)
{
        struct vmm *m = calloc(1, sizeof(*m));
        char err[256] = "";
        if (!m) {
                fprintf(stderr, "ward: out of memory\n");
                return 1;
        }
        init(m, cfg);

        /* Signals arrive through a signalfd in the main loop, not in random threads. */
        sigset_t sigs, old;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &sigs, &old);
        m->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);

        int status = 1;
        if (m->stop_fd < 0 || m->out_wake_fd < 0 || m->sig_fd < 0)
                fprintf(stderr, "ward: cannot create event descriptors: %s\n", strerror(errno));
        else if (build(m, err, sizeof(err)))
                fprintf(stderr, "ward: %s\n", err);
        else
                status = run(m);
        /* vCPU threads may still be in KVM_RUN: make sure they are kicked out. */
        if (!stopping(m))
                request_stop(m, status, "stopping");
        teardown(m);
        if (m->sig_fd >= 0)
                close(m->sig_fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(m);
        return status;
}
