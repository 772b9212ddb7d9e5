/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the Linux runner brings to the VM core: guest memory (anonymous
 * mappings and memfds), the disk and entropy backends, where console
 * output goes (stdout, or a doorbell's socket), irqfds, and the boot
 * images read from files with the device tree written by libfdt.
 */
#include "vmm_internal.h"

#include "ward/arch/arm64/arm64_fdt.h"
#include "ward/host/linux/guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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
void ward_vmm_console_flush(struct vmm *m)
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
void ward_vmm_console_out(void *host, unsigned con, const void *buf, uint32_t len)
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
                        ward_vmm_console_flush(m);
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
        struct vmm *m = host;
        char why[200];
        void *p = ward_guest_ram_map(m->cfg->hugepages, gpa, size, why, sizeof(why));
        if (p)
                return p;
        if (i == 0)
                snprintf(err, errlen, "--mem: %s", why);
        else
                snprintf(err, errlen, "--ram 0x%llx: %s", (unsigned long long)gpa, why);
        return NULL;
}

static void *host_shared(void *host, unsigned i, char *err, size_t errlen)
{
        struct vmm *m = host;
        const struct ward_shm_config *sc = &m->cfg->shm[i];
        void *p = ward_shared_map(sc->gpa, sc->size, sc->read_only, sc->fd);
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

static int host_backend(void *host, const struct ward_device_type *t, unsigned index,
                        union ward_backend *be, struct ward_device_params *p, char *err,
                        size_t errlen)
{
        struct vmm *m = host;
        switch (t->cls) {
        case WARD_DEVICE_BLOCK: {
                const struct ward_disk_config *dc = &m->cfg->disks[index];
                char *id = m->disk_id[index];
                snprintf(id, sizeof(m->disk_id[index]), "ward-disk%u", index);
                if (dc->process) {
                        /* The disk's backend is a process of its own: ward backend blk. */
                        struct ward_blk_process *bp = calloc(1, sizeof(*bp));
                        m->bproc[index] = bp;
                        if (bp)
                                bp->seccomp = m->cfg->seccomp;
                        if (!bp || ward_blk_process_open(bp, &m->starter, dc->path, dc->read_only,
                                                         err, errlen))
                                return -1;
                        be->blk = ward_blk_process_backend(bp);
                        *p = (struct ward_device_params){
                            .size_bytes = bp->size, .read_only = dc->read_only, .id = id};
                        return 0;
                }
                if (ward_blk_file_open(&m->disk[index], dc->path, dc->read_only, err, errlen))
                        return -1;
                be->blk = ward_blk_file_backend(&m->disk[index]);
                *p = (struct ward_device_params){
                    .size_bytes = m->disk[index].size, .read_only = dc->read_only, .id = id};
                return 0;
        }
        case WARD_DEVICE_ENTROPY:
                be->rng = ward_rng_getrandom_backend();
                return 0;
        case WARD_DEVICE_NET:
                be->net = ward_net_link_backend(m->net[index]);
                memcpy(p->mac, m->cfg->nets[index].mac, sizeof(p->mac));
                return 0;
        case WARD_DEVICE_VSOCK:
                be->vsock = ward_vsock_mux_backend(m->vsock);
                p->cid = m->cfg->vsock.cid;
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

const struct ward_vm_host_ops ward_vmm_host_ops = {
    .ram = host_ram,
    .shared = host_shared,
    .alloc = host_alloc,
    .free = host_free,
    .backend = host_backend,
    .console_out = ward_vmm_console_out,
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

int ward_vmm_boot(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = m->cfg;
        uint8_t hdr[WARD_VM_KERNEL_HEADER];
        uint8_t seed[32];
        struct ward_vm_images img = {
            .kernel_header = hdr, .load = load_file, .write_dt = write_fdt};
        if (file_size("--kernel", cfg->kernel, &img.kernel_len, err, errlen))
                return -1;
        int fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
        size_t want = img.kernel_len < sizeof(hdr) ? (size_t)img.kernel_len : sizeof(hdr);
        memset(hdr, 0, sizeof(hdr));
        if (fd < 0 || pread(fd, hdr, want, 0) != (ssize_t)want) {
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
