/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux VMM process for one arm64 VM. It wires the layers together:
 * hv (through the ops table only), the machine (address map, bus, UART,
 * boot), the virtio devices and their host backends.
 *
 * Threads: one per vCPU running the guest and handling MMIO exits, plus the
 * main thread, which serves the terminal, queue notifications (ioeventfd)
 * and signals. Device state is guarded by one lock per VM: device work is
 * short (no blocking I/O besides the disk backend) and a single lock keeps
 * the freestanding device code free of threading concerns.
 */
#include "ward/vmm.h"

#include "ward/arm64_boot.h"
#include "ward/arm64_fdt.h"
#include "ward/arm64_map.h"
#include "ward/arm64_platform.h"
#include "ward/host_linux.h"
#include "ward/hv.h"
#include "ward/uart16550.h"
#include "ward/virtio_blk.h"
#include "ward/virtio_console.h"
#include "ward/virtio_rng.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define MAX_VDEV (WARD_MAX_DISKS + WARD_MAX_DOORBELLS + 2)
#define FDT_SIZE (64 * 1024)
#define OUT_FLUSH_MS 20 /* longest a partial console line waits */

struct vdev {
        struct ward_virtio *v;
        uint64_t base;
        unsigned spi;
        int irqfd; /* -1: inject with irq_line */
        int notify_fd[WARD_VIRTIO_MAX_QUEUES];
        struct vmm *m;
};

/* A doorbell: a virtio console whose other end is a socket to another VMM. */
struct doorbell {
        struct vmm *m;
        struct ward_vconsole *con;
        int fd;
        bool open; /* false after the peer hung up */
};

struct vcpu {
        struct vmm *m;
        unsigned index;
        struct ward_hv_vcpu *h;
        pthread_t thread;
        bool started;
};

struct vmm {
        const struct ward_run_config *cfg;
        const struct ward_hv_ops *hv;
        struct ward_hv_vm *vm;
        struct ward_arm64_platform plat;
        uint8_t *ram;
        uint64_t ram_size;
        void *ram_extra[WARD_MAX_RAM_EXTRA]; /* --ram mappings, NULL: none */
        struct ward_gmem gm;
        struct ward_bus bus;
        struct ward_bus_window windows[MAX_VDEV + 2];
        pthread_mutex_t lock;

        struct ward_uart uart;
        struct ward_vconsole *vcon;
        struct doorbell db[WARD_MAX_DOORBELLS];
        void *shm[WARD_MAX_SHM]; /* the shared regions' mappings, NULL: none */
        struct ward_vrng *vrng;
        struct ward_vblk *vblk[WARD_MAX_DISKS];
        struct ward_blk_file disk[WARD_MAX_DISKS];
        struct vdev vdev[MAX_VDEV];
        unsigned nvdev;

        struct vcpu *vcpus;
        struct ward_term term;
        struct ward_panic_watch panic;
        uint8_t out[4096]; /* console output not yet written (device lock) */
        size_t out_len;
        int out_wake_fd; /* tells the main loop that output waits */
        bool out_wake_sent;
        bool coalesced; /* UART transmit writes are queued by the hypervisor */
        int stop_fd;
        int stopping;    /* atomic */
        int exit_status; /* first stop wins */
        char exit_reason[200];
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

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
        for (unsigned i = 0; m->vcpus && i < m->cfg->cpus; i++)
                if (m->vcpus[i].h)
                        m->hv->vcpu_kick(m->vcpus[i].h);
}

static bool stopping(struct vmm *m)
{
        return __atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST);
}

/* ---- console output, from both the UART and virtio-console ---- */

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
 * Guest console output. A UART sends one byte per trapped write, so bytes
 * are gathered and written a line at a time (and at least every
 * OUT_FLUSH_MS by the main loop, for prompts and echo): one system call per
 * line instead of one per byte.
 */
static void console_out(void *opaque, const void *buf, uint32_t len)
{
        struct vmm *m = opaque;
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
/*
 * Guest output on a doorbell console goes to the socket as it is. The peer
 * reads its socket whenever its guest has room; if the socket is full the
 * bytes are dropped (a doorbell is a signal, not a data channel).
 */
static void doorbell_out(void *opaque, const void *buf, uint32_t len)
{
        struct doorbell *d = opaque;
        if (d->fd >= 0 && send(d->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                /* full or peer gone: nothing to do */
        }
}

/* ---- interrupts ---- */

static void uart_irq(void *opaque, bool level)
{
        struct vmm *m = opaque;
        m->hv->irq_line(m->vm, m->plat.uart_spi, level);
}

static void virtio_irq(void *opaque, bool level)
{
        struct vdev *d = opaque;
        if (!level)
                return; /* edge-triggered: only rising events matter */
        if (d->irqfd >= 0) {
                uint64_t one = 1;
                if (write(d->irqfd, &one, sizeof(one)) == sizeof(one))
                        return;
        }
        d->m->hv->irq_line(d->m->vm, d->spi, true);
        d->m->hv->irq_line(d->m->vm, d->spi, false);
}

/* ---- set-up ---- */

static int add_vdev(struct vmm *m, struct ward_virtio *v, char *err, size_t errlen)
{
        int i = ward_arm64_platform_add_virtio(&m->plat);
        if (i < 0 || (unsigned)i >= MAX_VDEV) {
                fail(err, errlen, "internal: too many virtio devices");
                return -1;
        }
        struct vdev *d = &m->vdev[i];
        d->v = v;
        d->m = m;
        d->base = m->plat.virtio[i].base;
        d->spi = m->plat.virtio[i].spi;
        d->irqfd = -1;
        for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                d->notify_fd[q] = -1;
        ward_virtio_init(v, &m->gm, virtio_irq, d);
        if (ward_bus_register(&m->bus, d->base, WARD_VIRTIO_MMIO_SIZE, &ward_virtio_mmio_ops, v)) {
                fail(err, errlen, "internal: virtio window %d overlaps", i);
                return -1;
        }
        m->nvdev++;
        return 0;
}

/* Binds eventfds so that notifications and interrupts bypass the vCPU threads. */
static void bind_notifiers(struct vmm *m)
{
        for (unsigned i = 0; i < m->nvdev; i++) {
                struct vdev *d = &m->vdev[i];
                int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (fd >= 0 && m->hv->irq_bind_notifier(m->vm, d->spi, fd) == 0)
                        d->irqfd = fd;
                else if (fd >= 0)
                        close(fd);
                for (unsigned q = 0; q < d->v->nqueues; q++) {
                        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                        /* QueueNotify is at offset 0x50 of the window; data is the queue index. */
                        if (fd >= 0 && m->hv->mmio_bind_notifier(m->vm, d->base + 0x50, q, fd) == 0)
                                d->notify_fd[q] = fd;
                        else if (fd >= 0)
                                close(fd);
                }
        }
}

static int load_file(const char *what, const char *path, uint8_t *dst, uint64_t room,
                     uint64_t *len_out, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fail(err, errlen, "%s %s: %s", what, path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                fail(err, errlen, "%s %s: not a regular file", what, path);
                close(fd);
                return -1;
        }
        uint64_t len = (uint64_t)st.st_size;
        if (len > room) {
                fail(err, errlen, "%s %s: %llu bytes do not fit in guest RAM", what, path,
                     (unsigned long long)len);
                close(fd);
                return -1;
        }
        uint64_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, dst + done, len - done, (off_t)done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        fail(err, errlen, "%s %s: read failed", what, path);
                        close(fd);
                        return -1;
                }
                done += (uint64_t)n;
        }
        close(fd);
        *len_out = len;
        return 0;
}

static int file_size(const char *what, const char *path, uint64_t *out, char *err, size_t errlen)
{
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                fail(err, errlen, "%s %s: not a readable regular file", what, path);
                return -1;
        }
        *out = (uint64_t)st.st_size;
        return 0;
}

static int load_guest(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_run_config *cfg = m->cfg;
        uint8_t hdr[64];
        uint64_t klen, ilen = 0;
        if (file_size("--kernel", cfg->kernel, &klen, err, errlen))
                return -1;
        int fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
                fail(err, errlen, "--kernel %s: cannot read its header", cfg->kernel);
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        struct ward_arm64_image img;
        if (ward_arm64_image_parse(hdr, klen, &img)) {
                fail(err, errlen, "--kernel %s: not an arm64 Linux Image (bad header)",
                     cfg->kernel);
                return -1;
        }
        if (cfg->initrd && file_size("--initrd", cfg->initrd, &ilen, err, errlen))
                return -1;
        struct ward_arm64_layout lay;
        if (ward_arm64_layout(m->plat.ram_base, m->ram_size, &img, klen, ilen, &lay)) {
                fail(err, errlen, "--mem: %lluM is too small for this kernel and initrd",
                     (unsigned long long)(m->ram_size >> 20));
                return -1;
        }
        uint64_t got;
        if (load_file("--kernel", cfg->kernel, m->ram + (lay.kernel_gpa - m->plat.ram_base), klen,
                      &got, err, errlen))
                return -1;
        if (cfg->initrd &&
            load_file("--initrd", cfg->initrd, m->ram + (lay.initrd_gpa - m->plat.ram_base), ilen,
                      &got, err, errlen))
                return -1;

        /* Device tree. */
        uint64_t *mpidr = calloc(cfg->cpus, sizeof(*mpidr));
        if (!mpidr) {
                fail(err, errlen, "out of memory");
                return -1;
        }
        for (unsigned i = 0; i < cfg->cpus; i++)
                if (m->hv->vcpu_get_reg(m->vcpus[i].h, WARD_REG_MPIDR, &mpidr[i]))
                        mpidr[i] = ((uint64_t)(i / 16) << 8) | (i % 16);
        uint8_t seed[32];
        uint64_t kaslr = 0;
        if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
                memset(seed, 0, sizeof(seed));
        if (getrandom(&kaslr, sizeof(kaslr), GRND_NONBLOCK) != (ssize_t)sizeof(kaslr))
                kaslr = 0;
        struct ward_arm64_dt dt;
        const char *bootargs = cfg->cmdline ? cfg->cmdline : ward_default_cmdline(cfg->console);
        ward_arm64_platform_dt(&m->plat, mpidr, bootargs, cfg->initrd ? lay.initrd_gpa : 0,
                               cfg->initrd ? lay.initrd_gpa + ilen : 0, kaslr, seed, &dt);
        int rc = ward_arm64_fdt_build(m->ram + (lay.dtb_gpa - m->plat.ram_base), FDT_SIZE, &dt);
        free(mpidr);
        if (rc) {
                fail(err, errlen, "device tree: libfdt error %d (command line too long?)", rc);
                return -1;
        }
        struct ward_hv_vcpu *boot = m->vcpus[0].h;
        if (m->hv->vcpu_set_reg(boot, WARD_REG_PSTATE, WARD_ARM64_BOOT_PSTATE) ||
            m->hv->vcpu_set_reg(boot, WARD_REG_PC, lay.kernel_gpa) ||
            m->hv->vcpu_set_reg(boot, WARD_REG_X0, lay.dtb_gpa) ||
            m->hv->vcpu_set_reg(boot, WARD_REG_X1, 0) ||
            m->hv->vcpu_set_reg(boot, WARD_REG_X2, 0) ||
            m->hv->vcpu_set_reg(boot, WARD_REG_X3, 0)) {
                fail(err, errlen, "cannot set the boot vCPU's registers: %s", strerror(errno));
                return -1;
        }
        return 0;
}

static int build_devices(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_run_config *cfg = m->cfg;
        ward_uart_init(&m->uart, console_out, m, uart_irq, m);
        if (ward_bus_register(&m->bus, m->plat.uart_base, WARD_UART_MMIO_SIZE, &ward_uart_mmio_ops,
                              &m->uart)) {
                fail(err, errlen, "internal: UART window");
                return -1;
        }
        if (cfg->console == WARD_CONSOLE_VIRTIO) {
                m->vcon = calloc(1, sizeof(*m->vcon));
                if (!m->vcon)
                        goto oom;
                struct ward_console_backend be = {console_out, m};
                ward_vconsole_setup(m->vcon, &be);
                if (add_vdev(m, &m->vcon->v, err, errlen))
                        return -1;
        }
        /* Doorbells follow the main console, so their hvc numbers are predictable. */
        for (unsigned i = 0; i < cfg->ndoorbells; i++) {
                struct doorbell *d = &m->db[i];
                d->m = m;
                d->fd = cfg->doorbell_fd[i];
                d->open = true;
                d->con = calloc(1, sizeof(*d->con));
                if (!d->con)
                        goto oom;
                int fl = fcntl(d->fd, F_GETFL);
                if (fl < 0 || fcntl(d->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
                    fcntl(d->fd, F_SETFD, FD_CLOEXEC) < 0) {
                        fail(err, errlen, "--doorbell %d: %s", d->fd, strerror(errno));
                        return -1;
                }
                struct ward_console_backend be = {doorbell_out, d};
                ward_vconsole_setup(d->con, &be);
                if (add_vdev(m, &d->con->v, err, errlen))
                        return -1;
        }
        for (unsigned i = 0; i < cfg->ndisks; i++) {
                const struct ward_disk_config *dc = &cfg->disks[i];
                if (ward_blk_file_open(&m->disk[i], dc->path, dc->read_only, err, errlen))
                        return -1;
                m->vblk[i] = calloc(1, sizeof(*m->vblk[i]));
                if (!m->vblk[i])
                        goto oom;
                char id[WARD_BLK_ID_BYTES + 1];
                snprintf(id, sizeof(id), "ward-disk%u", i);
                struct ward_blk_backend be = ward_blk_file_backend(&m->disk[i], m->vblk[i]);
                ward_vblk_setup(m->vblk[i], &be, m->disk[i].size, dc->read_only, id);
                if (add_vdev(m, &m->vblk[i]->v, err, errlen))
                        return -1;
        }
        if (cfg->rng) {
                m->vrng = calloc(1, sizeof(*m->vrng));
                if (!m->vrng)
                        goto oom;
                struct ward_rng_backend be = ward_rng_getrandom_backend();
                ward_vrng_setup(m->vrng, &be);
                if (add_vdev(m, &m->vrng->v, err, errlen))
                        return -1;
        }
        return 0;
oom:
        fail(err, errlen, "out of memory");
        return -1;
}

static int build_vm(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_run_config *cfg = m->cfg;
        m->hv = ward_hv_default();
        if (!m->hv) {
                fail(err, errlen,
                     "this ward build has no hypervisor backend for this host "
                     "architecture (arm64 KVM only for now)");
                return -1;
        }
        if (m->hv->vm_create(&m->vm, cfg->cpus, err, errlen))
                return -1;
        m->ram_size = cfg->mem_bytes;
        if (ward_arm64_platform_init(&m->plat, m->ram_size, cfg->cpus) ||
            ward_arm64_platform_set_ram_base(&m->plat, cfg->mem_gpa)) {
                fail(err, errlen, "--mem/--mem-at/--cpus: does not fit ward's arm64 memory map");
                return -1;
        }
        for (unsigned i = 0; i < cfg->nram; i++)
                if (ward_arm64_platform_add_ram(&m->plat, cfg->ram[i].gpa, cfg->ram[i].size)) {
                        fail(err, errlen, "--ram 0x%llx: does not fit ward's arm64 memory map",
                             (unsigned long long)cfg->ram[i].gpa);
                        return -1;
                }
        m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m->ram == MAP_FAILED) {
                m->ram = NULL;
                fail(err, errlen, "--mem: cannot reserve %lluM: %s",
                     (unsigned long long)(m->ram_size >> 20), strerror(errno));
                return -1;
        }
        ward_gmem_init(&m->gm);
        ward_gmem_add(&m->gm, m->plat.ram_base, m->ram_size, m->ram);
        if (m->hv->map_ram(m->vm, 0, m->plat.ram_base, m->ram_size, m->ram)) {
                fail(err, errlen, "cannot map guest RAM: %s", strerror(errno));
                return -1;
        }
        /* More RAM: memory slots after the shared regions' (1 to WARD_MAX_SHM). */
        for (unsigned i = 0; i < cfg->nram; i++) {
                const struct ward_ram_config *rc = &cfg->ram[i];
                void *p = mmap(NULL, rc->size, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
                if (p == MAP_FAILED) {
                        fail(err, errlen, "--ram 0x%llx: cannot reserve %lluM: %s",
                             (unsigned long long)rc->gpa, (unsigned long long)(rc->size >> 20),
                             strerror(errno));
                        return -1;
                }
                m->ram_extra[i] = p;
                if (ward_gmem_add(&m->gm, rc->gpa, rc->size, p) ||
                    m->hv->map_ram(m->vm, 1 + WARD_MAX_SHM + i, rc->gpa, rc->size, p)) {
                        fail(err, errlen, "--ram 0x%llx: cannot map it into the guest: %s",
                             (unsigned long long)rc->gpa, strerror(errno));
                        return -1;
                }
        }
        for (unsigned i = 0; i < cfg->nshm; i++) {
                const struct ward_shm_config *sc = &cfg->shm[i];
                int prot = sc->read_only ? PROT_READ : PROT_READ | PROT_WRITE;
                void *p = mmap(NULL, sc->size, prot, MAP_SHARED, sc->fd, 0);
                if (p == MAP_FAILED) {
                        fail(err, errlen, "--shm %d: cannot map %llu bytes: %s", sc->fd,
                             (unsigned long long)sc->size, strerror(errno));
                        return -1;
                }
                m->shm[i] = p;
                if (!m->hv->map_region ||
                    m->hv->map_region(m->vm, 1 + i, sc->gpa, sc->size, p, sc->read_only)) {
                        fail(err, errlen, "--shm %d: cannot map it into the guest%s: %s", sc->fd,
                             sc->read_only ? " read-only" : "",
                             m->hv->map_region ? strerror(errno) : "not supported");
                        return -1;
                }
                close(sc->fd); /* the mapping keeps the memory */
        }
        if (m->hv->irqchip_create(m->vm, &m->plat.gic, err, errlen))
                return -1;
        if (m->plat.gic.gic_version == 2 && cfg->cpus > 8) {
                fail(err, errlen,
                     "--cpus %u: this host only offers GICv2, which has 8 CPUs at most", cfg->cpus);
                return -1;
        }
        m->vcpus = calloc(cfg->cpus, sizeof(*m->vcpus));
        if (!m->vcpus) {
                fail(err, errlen, "out of memory");
                return -1;
        }
        for (unsigned i = 0; i < cfg->cpus; i++) {
                m->vcpus[i].m = m;
                m->vcpus[i].index = i;
                if (m->hv->vcpu_create(m->vm, i, &m->vcpus[i].h, err, errlen))
                        return -1;
        }
        if (m->hv->irqchip_finalize(m->vm, err, errlen))
                return -1;
        ward_bus_init(&m->bus, m->windows, WARD_ARRAY_SIZE(m->windows));
        if (build_devices(m, err, errlen))
                return -1;
        bind_notifiers(m);
        /*
         * The UART's transmit register (offset 0) takes one byte per trapped
         * write; letting KVM queue those writes halves the exits per byte of
         * console output. Its other registers still trap, and every trap
         * replays the queue first, so the guest sees the same order.
         */
        if (m->hv->mmio_coalesce && m->hv->mmio_coalesce(m->vm, m->plat.uart_base, 1) == 0)
                m->coalesced = true;
        return load_guest(m, err, errlen);
}

/* ---- running ---- */

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void replay_write(void *opaque, uint64_t addr, const void *data, unsigned len)
{
        struct vmm *m = opaque;
        uint8_t buf[8] = {0};
        memcpy(buf, data, len);
        ward_bus_access(&m->bus, addr, true, buf, len);
}

/* Replays guest writes the hypervisor queued (UART output); device lock held. */
static void drain_coalesced(struct vmm *m)
{
        if (m->coalesced)
                m->hv->mmio_drain(m->vm, replay_write, m);
}

/* Submits the disk requests that device work prepared; device lock held. */
static void flush_disks(struct vmm *m)
{
        for (unsigned i = 0; i < m->cfg->ndisks; i++)
                ward_blk_file_flush(&m->disk[i]);
}

static void *vcpu_thread(void *arg)
{
        struct vcpu *c = arg;
        struct vmm *m = c->m;
        struct ward_hv_exit ex;
        memset(&ex, 0, sizeof(ex));
        while (!stopping(m)) {
                if (m->hv->vcpu_run(c->h, &ex)) {
                        request_stop(m, 1, "vCPU %u: cannot run", c->index);
                        break;
                }
                if (ex.kind == WARD_HV_EXIT_KICKED)
                        continue;
                pthread_mutex_lock(&m->lock);
                /* Queued UART writes came first: replay them before this exit. */
                drain_coalesced(m);
                if (ex.kind == WARD_HV_EXIT_MMIO) {
                        ward_bus_access(&m->bus, ex.addr, ex.is_write, ex.data, ex.len);
                        flush_disks(m); /* a notify without ioeventfd lands here */
                }
                pthread_mutex_unlock(&m->lock);
                switch (ex.kind) {
                case WARD_HV_EXIT_MMIO:
                case WARD_HV_EXIT_KICKED:
                        break;
                case WARD_HV_EXIT_SHUTDOWN:
                        request_stop(m, 0, "guest powered off");
                        break;
                case WARD_HV_EXIT_RESET:
                        if (m->panic.seen)
                                request_stop(m, 1, "guest kernel panicked (and asked to reboot)");
                        else
                                request_stop(m, 0, "guest rebooted; ward stops the VM");
                        break;
                case WARD_HV_EXIT_ERROR:
                        request_stop(m, 1, "vCPU %u: %s at pc 0x%llx", c->index, ex.reason,
                                     (unsigned long long)ex.pc);
                        break;
                }
        }
        return NULL;
}

static void feed_input(struct vmm *m, const uint8_t *buf, size_t len)
{
        pthread_mutex_lock(&m->lock);
        if (m->vcon)
                ward_vconsole_input(m->vcon, buf, (uint32_t)len);
        else
                ward_uart_input(&m->uart, buf, (uint32_t)len);
        pthread_mutex_unlock(&m->lock);
}

static uint32_t input_room(struct vmm *m)
{
        pthread_mutex_lock(&m->lock);
        uint32_t room = m->vcon ? ward_vconsole_input_room(m->vcon) : ward_uart_rx_room(&m->uart);
        pthread_mutex_unlock(&m->lock);
        return room;
}

/* Serves the terminal, queue notifications and signals until the VM stops. */
static void main_loop(struct vmm *m, int sig_fd)
{
        struct pollfd
            pfd[3 + WARD_MAX_DISKS + MAX_VDEV * WARD_VIRTIO_MAX_QUEUES + 1 + WARD_MAX_DOORBELLS];
        unsigned db_of[WARD_MAX_DOORBELLS];
        struct {
                struct vdev *d;
                unsigned q;
        } map[MAX_VDEV * WARD_VIRTIO_MAX_QUEUES];
        bool stdin_open = true;
        bool out_pending = false;
        uint64_t out_since = 0;

        while (!stopping(m)) {
                nfds_t n = 0;
                pfd[n++] = (struct pollfd){m->stop_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){sig_fd, POLLIN, 0};
                pfd[n++] = (struct pollfd){m->out_wake_fd, POLLIN, 0};
                nfds_t first_disk = n;
                for (unsigned i = 0; i < m->cfg->ndisks; i++)
                        pfd[n++] = (struct pollfd){m->disk[i].event_fd, POLLIN, 0};
                nfds_t first_q = n;
                for (unsigned i = 0; i < m->nvdev; i++)
                        for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                                if (m->vdev[i].notify_fd[q] >= 0) {
                                        map[n - first_q].d = &m->vdev[i];
                                        map[n - first_q].q = q;
                                        pfd[n++] =
                                            (struct pollfd){m->vdev[i].notify_fd[q], POLLIN, 0};
                                }
                nfds_t stdin_idx = n;
                /* Read the terminal only when the guest has room: back-pressure, not loss. */
                uint32_t room = stdin_open ? input_room(m) : 0;
                if (room > 0)
                        pfd[n++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
                nfds_t first_db = n;
                bool db_full = false;
                for (unsigned i = 0; i < m->cfg->ndoorbells; i++) {
                        struct doorbell *d = &m->db[i];
                        if (!d->open)
                                continue;
                        pthread_mutex_lock(&m->lock);
                        uint32_t r = ward_vconsole_input_room(d->con);
                        pthread_mutex_unlock(&m->lock);
                        if (r == 0) {
                                db_full = true; /* back-pressure: look again soon */
                                continue;
                        }
                        db_of[n - first_db] = i;
                        pfd[n++] = (struct pollfd){d->fd, POLLIN, 0};
                }
                int timeout = ((stdin_open && room == 0) || db_full) ? 10 : -1;
                if (m->coalesced && timeout < 0)
                        timeout = 50;
                if (out_pending) {
                        uint64_t waited = now_ms() - out_since;
                        timeout = waited >= OUT_FLUSH_MS ? 0 : (int)(OUT_FLUSH_MS - waited);
                }
                int rc = poll(pfd, n, timeout);
                if (rc < 0) {
                        if (errno == EINTR)
                                continue;
                        request_stop(m, 1, "poll: %s", strerror(errno));
                        break;
                }
                if ((pfd[2].revents & POLLIN) && !out_pending) {
                        uint64_t cnt;
                        if (read(m->out_wake_fd, &cnt, sizeof(cnt)) == sizeof(cnt)) {
                                out_pending = true; /* flush OUT_FLUSH_MS from now */
                                out_since = now_ms();
                        }
                }
                if (m->coalesced) {
                        /* Queued UART writes with no trap after them (rare) reach stdout too. */
                        pthread_mutex_lock(&m->lock);
                        drain_coalesced(m);
                        pthread_mutex_unlock(&m->lock);
                }
                if (out_pending && now_ms() - out_since >= OUT_FLUSH_MS) {
                        pthread_mutex_lock(&m->lock);
                        console_flush(m);
                        m->out_wake_sent = false;
                        pthread_mutex_unlock(&m->lock);
                        out_pending = false;
                }
                if (pfd[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
                                request_stop(m, 1, "stopped by signal %u", si.ssi_signo);
                }
                for (nfds_t i = first_disk; i < first_q; i++) {
                        uint64_t cnt;
                        if (!(pfd[i].revents & POLLIN) ||
                            read(pfd[i].fd, &cnt, sizeof(cnt)) != sizeof(cnt))
                                continue;
                        pthread_mutex_lock(&m->lock);
                        ward_blk_file_reap(&m->disk[i - first_disk]);
                        pthread_mutex_unlock(&m->lock);
                }
                for (nfds_t i = first_q; i < stdin_idx; i++) {
                        if (!(pfd[i].revents & POLLIN))
                                continue;
                        uint64_t cnt;
                        if (read(pfd[i].fd, &cnt, sizeof(cnt)) != sizeof(cnt))
                                continue;
                        pthread_mutex_lock(&m->lock);
                        ward_virtio_notify(map[i - first_q].d->v, map[i - first_q].q);
                        flush_disks(m);
                        pthread_mutex_unlock(&m->lock);
                }
                for (nfds_t i = first_db; i < n; i++) {
                        if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        struct doorbell *d = &m->db[db_of[i - first_db]];
                        uint8_t in[256];
                        pthread_mutex_lock(&m->lock);
                        uint32_t r = ward_vconsole_input_room(d->con);
                        ssize_t got = -1;
                        int e = EAGAIN;
                        if (r > 0) {
                                got = recv(d->fd, in, r < sizeof(in) ? r : sizeof(in), 0);
                                e = errno;
                        }
                        if (got > 0)
                                ward_vconsole_input(d->con, in, (uint32_t)got);
                        pthread_mutex_unlock(&m->lock);
                        if (got == 0 || (got < 0 && e != EINTR && e != EAGAIN))
                                d->open = false; /* the peer's end is gone for good */
                }
                if (first_db > stdin_idx &&
                    (pfd[stdin_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
                        uint8_t in[256], out[257];
                        size_t want = room < sizeof(in) ? room : sizeof(in);
                        ssize_t got = read(STDIN_FILENO, in, want);
                        if (got <= 0) {
                                if (got == 0 || (errno != EINTR && errno != EAGAIN))
                                        stdin_open =
                                            false; /* EOF: the guest just gets no more input */
                                continue;
                        }
                        bool quit;
                        size_t k = ward_term_filter(&m->term, in, (size_t)got, out, &quit);
                        if (k)
                                feed_input(m, out, k);
                        if (quit)
                                request_stop(m, 0, "ended by the user (Ctrl-A x)");
                }
        }
}

static void teardown(struct vmm *m)
{
        if (m->vcpus) {
                for (unsigned i = 0; i < m->cfg->cpus; i++)
                        if (m->vcpus[i].started)
                                pthread_join(m->vcpus[i].thread, NULL);
                for (unsigned i = 0; i < m->cfg->cpus; i++)
                        if (m->vcpus[i].h)
                                m->hv->vcpu_destroy(m->vcpus[i].h);
                free(m->vcpus);
        }
        for (unsigned i = 0; i < m->nvdev; i++) {
                if (m->vdev[i].irqfd >= 0)
                        close(m->vdev[i].irqfd);
                for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                        if (m->vdev[i].notify_fd[q] >= 0)
                                close(m->vdev[i].notify_fd[q]);
        }
        for (unsigned i = 0; i < m->cfg->ndisks; i++) {
                ward_blk_file_close(&m->disk[i]);
                free(m->vblk[i]);
        }
        free(m->vcon);
        for (unsigned i = 0; i < m->cfg->ndoorbells; i++) {
                free(m->db[i].con);
                if (m->db[i].fd >= 0)
                        close(m->db[i].fd);
        }
        for (unsigned i = 0; i < m->cfg->nshm; i++)
                if (m->shm[i])
                        munmap(m->shm[i], m->cfg->shm[i].size);
        free(m->vrng);
        if (m->vm)
                m->hv->vm_destroy(m->vm);
        if (m->ram)
                munmap(m->ram, m->ram_size);
        for (unsigned i = 0; i < m->cfg->nram; i++)
                if (m->ram_extra[i])
                        munmap(m->ram_extra[i], m->cfg->ram[i].size);
        if (m->stop_fd >= 0)
                close(m->stop_fd);
        if (m->out_wake_fd >= 0)
                close(m->out_wake_fd);
        pthread_mutex_destroy(&m->lock);
}

int ward_vmm_run(const struct ward_run_config *cfg)
{
        struct vmm *m = calloc(1, sizeof(*m));
        char err[256] = "";
        if (!m) {
                fprintf(stderr, "ward: out of memory\n");
                return 1;
        }
        m->cfg = cfg;
        for (unsigned i = 0; i < cfg->ndisks; i++)
                m->disk[i].fd = -1;
        for (unsigned i = 0; i < WARD_MAX_DOORBELLS; i++)
                m->db[i].fd = -1;
        pthread_mutex_init(&m->lock, NULL);
        m->stop_fd = eventfd(0, EFD_CLOEXEC);
        m->out_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        /* Signals arrive through a signalfd in the main loop, not in random threads. */
        sigset_t sigs, old;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &sigs, &old);
        int sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);

        int status = 1;
        if (m->stop_fd < 0 || m->out_wake_fd < 0 || sig_fd < 0) {
                fprintf(stderr, "ward: cannot create event descriptors: %s\n", strerror(errno));
        } else if (build_vm(m, err, sizeof(err))) {
                fprintf(stderr, "ward: %s\n", err);
        } else {
                ward_term_enter(&m->term);
                for (unsigned i = 0; i < cfg->cpus; i++) {
                        if (pthread_create(&m->vcpus[i].thread, NULL, vcpu_thread, &m->vcpus[i])) {
                                request_stop(m, 1, "cannot start vCPU thread %u", i);
                                break;
                        }
                        m->vcpus[i].started = true;
                }
                main_loop(m, sig_fd);
                pthread_mutex_lock(&m->lock);
                drain_coalesced(m);
                console_flush(m);
                pthread_mutex_unlock(&m->lock);
                ward_term_leave(&m->term);
                status = m->exit_status;
                fprintf(stderr, "\r\nward: %s\n", m->exit_reason);
        }
        /* vCPU threads may still be in KVM_RUN: make sure they are kicked out. */
        if (!stopping(m))
                request_stop(m, status, "stopping");
        teardown(m);
        if (sig_fd >= 0)
                close(sig_fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(m);
        return status;
}
