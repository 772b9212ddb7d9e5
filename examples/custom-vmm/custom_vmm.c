/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A VMM of your own, written against libward's public API: it boots a
 * Linux guest on KVM with a serial console and one virtio-blk disk.
 *
 *   custom-vmm KERNEL INITRD DISK
 *
 * The VM core (ward/vm/vm.h) builds the VM from a struct ward_vm_config;
 * this file brings what only a runner has: guest memory, the disk backend,
 * where console output goes, one vCPU thread and a loop for input and disk
 * completions. `ward run` is the same, with options, more vCPUs, ioeventfd
 * and irqfd (src/host/linux/vmm*.c).
 */
#include <ward/arch/arm64/arm64_fdt.h>
#include <ward/host/linux/host_linux.h>
#include <ward/vm/vm.h>
#include <ward/vm/vm_arch.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct my_vmm {
        struct ward_vm_config cfg;
        struct ward_vm vm;
        struct ward_blk_file disk;
        pthread_mutex_t lock; /* the VM core is not thread-safe: one lock */
        volatile int done, status;
};

/* ---- what the VM core asks of a runner ---- */

static void *ram(void *h, unsigned i, uint64_t gpa, uint64_t size, char *err, size_t n)
{
        (void)h, (void)i, (void)gpa;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
                snprintf(err, n, "cannot reserve guest RAM");
        return p == MAP_FAILED ? NULL : p;
}

static void *shared(void *h, unsigned i, char *err, size_t n)
{
        (void)h, (void)i;
        snprintf(err, n, "this VMM has no shared memory");
        return NULL;
}

static void *alloc(void *h, size_t size)
{
        (void)h;
        return calloc(1, size);
}

static void release(void *h, void *p)
{
        (void)h;
        free(p);
}

static int backend(void *h, const struct ward_device_type *t, unsigned index,
                   union ward_backend *be, struct ward_device_params *p, char *err, size_t n)
{
        struct my_vmm *m = h;
        if (t->cls != WARD_DEVICE_BLOCK || index != 0) {
                snprintf(err, n, "no backend for device %s", t->name);
                return -1;
        }
        be->blk = ward_blk_file_backend(&m->disk);
        *p = (struct ward_device_params){.size_bytes = m->disk.size, .id = "custom-disk"};
        return 0;
}

static void console_out(void *h, unsigned con, const void *buf, uint32_t len)
{
        (void)h;
        if (con == 0 && fwrite(buf, 1, len, stdout) == len)
                fflush(stdout);
}

static const struct ward_vm_host_ops host = {
    .ram = ram,
    .shared = shared,
    .alloc = alloc,
    .free = release,
    .backend = backend,
    .console_out = console_out,
};

/* ---- boot images ---- */

static int load(void *h, unsigned which, void *dst, uint64_t len, char *err, size_t n)
{
        struct my_vmm *m = h;
        int fd = open(which ? m->cfg.initrd : m->cfg.kernel, O_RDONLY);
        uint64_t done = 0;
        ssize_t got = 1;
        while (fd >= 0 && done < len && (got = pread(fd, (char *)dst + done, len - done, done)) > 0)
                done += (uint64_t)got;
        if (fd >= 0)
                close(fd);
        if (done == len)
                return 0;
        snprintf(err, n, "cannot read the %s", which ? "initrd" : "kernel");
        return -1;
}

static int write_dt(void *h, const void *dt, void *dst, size_t room, char *err, size_t n)
{
        (void)h;
        if (ward_arm64_fdt_build(dst, room, dt) == 0)
                return 0;
        snprintf(err, n, "cannot write the device tree");
        return -1;
}

static int boot(struct my_vmm *m, char *err, size_t n)
{
        /* The kernel's header: arm64's is 64 bytes, an x86 bzImage's ends near 0x290. */
        uint8_t hdr[WARD_VM_KERNEL_HEADER] = {0};
        struct stat k, i;
        int fd = open(m->cfg.kernel, O_RDONLY);
        if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) < 64 || stat(m->cfg.kernel, &k) ||
            stat(m->cfg.initrd, &i)) {
                snprintf(err, n, "cannot read the kernel or the initrd");
                return -1;
        }
        close(fd);
        struct ward_vm_images img = {
            hdr, (uint64_t)k.st_size, (uint64_t)i.st_size, load, write_dt, 0, NULL};
        return ward_vm_boot(&m->vm, &img, err, n);
}

/* ---- running: one vCPU thread, and input and disk completions here ---- */

static void *vcpu_thread(void *arg)
{
        struct my_vmm *m = arg;
        struct ward_hv_exit ex = {0};
        while (!m->done && m->vm.hv->vcpu_run(m->vm.vcpu[0], &ex) == 0) {
                pthread_mutex_lock(&m->lock);
                enum ward_vm_event e = ward_vm_exit(&m->vm, 0, &ex);
                ward_blk_file_flush(&m->disk); /* requests the exit queued */
                pthread_mutex_unlock(&m->lock);
                if (e != WARD_VM_RUNNING) {
                        m->status = e == WARD_VM_POWEROFF ? 0 : 1;
                        break;
                }
        }
        m->done = 1;
        return NULL;
}

static void serve(struct my_vmm *m)
{
        while (!m->done) {
                struct pollfd p[2] = {{m->disk.event_fd, POLLIN, 0}, {0, POLLIN, 0}};
                pthread_mutex_lock(&m->lock);
                bool room = ward_vm_console_room(&m->vm, 0) > 0;
                pthread_mutex_unlock(&m->lock);
                if (poll(p, room ? 2 : 1, 100) <= 0)
                        continue;
                uint64_t cnt;
                char in[64];
                ssize_t got = (p[1].revents & POLLIN) ? read(0, in, sizeof(in)) : 0;
                pthread_mutex_lock(&m->lock);
                if ((p[0].revents & POLLIN) && read(m->disk.event_fd, &cnt, sizeof(cnt)) > 0)
                        ward_blk_file_reap(&m->disk);
                if (got > 0)
                        ward_vm_console_input(&m->vm, 0, in, (uint32_t)got);
                pthread_mutex_unlock(&m->lock);
        }
}

int main(int argc, char **argv)
{
        static struct my_vmm m = {.status = 1, .lock = PTHREAD_MUTEX_INITIALIZER};
        char err[256];
        if (argc != 4) {
                fprintf(stderr, "usage: custom-vmm KERNEL INITRD DISK\n");
                return 2;
        }
        m.cfg = (struct ward_vm_config){.kernel = argv[1],
                                        .initrd = argv[2],
                                        .mem_bytes = 256 << 20,
                                        .cpus = 1,
                                        .console = WARD_CONSOLE_SERIAL,
                                        .ndisks = 1};
        m.cfg.disks[0] = (struct ward_disk_config){.path = argv[3]};
        const struct ward_hv_ops *hv = ward_hv_default();
        const struct ward_vm_arch *arch = ward_vm_arch_of(hv);
        if (arch)
                m.cfg.mem_gpa = arch->ram_base; /* where this machine's boot RAM goes */
        pthread_t t;
        if (!hv || !arch)
                snprintf(err, sizeof(err), "no hypervisor backend on this host");
        else if (ward_blk_file_open(&m.disk, argv[3], false, err, sizeof(err)) == 0 &&
                 ward_vm_create(&m.vm, &m.cfg, hv, &host, &m, err, sizeof(err)) == 0 &&
                 boot(&m, err, sizeof(err)) == 0 &&
                 pthread_create(&t, NULL, vcpu_thread, &m) == 0) {
                serve(&m);
                pthread_join(t, NULL);
                fprintf(stderr, "custom-vmm: the guest stopped (status %d)\n", m.status);
                return m.status;
        }
        fprintf(stderr, "custom-vmm: %s\n", err);
        return 1;
}
