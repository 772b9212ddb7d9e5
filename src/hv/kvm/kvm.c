/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The KVM backend, its architecture-neutral part: with kvm_<arch>.c, the
 * only code that issues KVM ioctls. It opens /dev/kvm, creates the VM, maps
 * memory slots, creates and runs vCPUs (exits: MMIO, system events, kicks
 * by immediate_exit plus a signal), binds irqfd and ioeventfd and drains
 * the coalesced-MMIO ring.
 */
#include "kvm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
        (void)sig; /* only here so that the signal interrupts KVM_RUN */
}

static int kvm_vm_create(struct ward_hv_vm **out, unsigned ncpus, char *err, size_t errlen)
{
        struct ward_hv_vm *vm = calloc(1, sizeof(*vm));
        if (!vm) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        vm->vm_fd = -1;
        vm->ncpus = ncpus;
        vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (vm->kvm_fd < 0) {
                snprintf(err, errlen, "cannot open /dev/kvm: %s (is KVM enabled on this host?)",
                         strerror(errno));
                goto fail;
        }
        if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
                snprintf(err, errlen, "/dev/kvm speaks an unknown API version");
                goto fail;
        }
        static const struct {
                long cap;
                const char *name;
        } needed[] = {
            {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
            {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
        };
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
                if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
                        snprintf(err, errlen, "/dev/kvm lacks %s", needed[i].name);
                        goto fail;
                }
        }
        int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
        if (max_vcpus > 0 && ncpus > (unsigned)max_vcpus) {
                snprintf(err, errlen, "KVM allows at most %d vCPUs, %u asked", max_vcpus, ncpus);
                goto fail;
        }
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
        if (vm->vm_fd < 0) {
                snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
                goto fail;
        }
        int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (sz <= 0) {
                snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
                goto fail;
        }
        vm->run_size = (size_t)sz;
        if (ward_kvm_arch_vm_init(vm, err, errlen))
                goto fail;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must return EINTR */
        sigaction(KICK_SIGNAL, &sa, NULL);
        *out = vm;
        return 0;
fail:
        ward_kvm_arch_vm_destroy(vm);
        if (vm->vm_fd >= 0)
                close(vm->vm_fd);
        if (vm->kvm_fd >= 0)
                close(vm->kvm_fd);
        free(vm);
        return -1;
}

static void kvm_vm_destroy(struct ward_hv_vm *vm)
{
        if (!vm)
                return;
        ward_kvm_arch_vm_destroy(vm);
        close(vm->vm_fd);
        close(vm->kvm_fd);
        free(vm);
}

static int kvm_map_memory(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                          void *hva, unsigned flags, char *err, size_t errlen)
{
        bool read_only = flags & WARD_HV_MEM_READONLY;
        if (read_only && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
                snprintf(err, errlen, "this KVM has no read-only memory slots");
                return -1;
        }
        struct kvm_userspace_memory_region r = {
            .slot = slot,
            .flags = read_only ? KVM_MEM_READONLY : 0,
            .guest_phys_addr = gpa,
            .memory_size = size,
            .userspace_addr = (uint64_t)(uintptr_t)hva,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
                snprintf(err, errlen, "%s", strerror(errno));
                return -1;
        }
        return 0;
}

static int kvm_vcpu_create(struct ward_hv_vm *vm, unsigned index, struct ward_hv_vcpu **out,
                           char *err, size_t errlen)
{
        struct ward_hv_vcpu *v = calloc(1, sizeof(*v));
        if (!v) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        v->vm = vm;
        v->index = index;
        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
        if (v->fd < 0) {
                snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", index, strerror(errno));
                free(v);
                return -1;
        }
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
                snprintf(err, errlen, "mmap kvm_run: %s", strerror(errno));
                close(v->fd);
                free(v);
                return -1;
        }
        int ring_page = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
        long page = sysconf(_SC_PAGESIZE);
        if (index == 0 && ring_page > 0 && (size_t)(ring_page + 1) * (size_t)page <= vm->run_size) {
                vm->ring = (void *)((uint8_t *)v->run + (size_t)ring_page * (size_t)page);
                vm->ring_max = (unsigned)(((size_t)page - sizeof(struct kvm_coalesced_mmio_ring)) /
                                          sizeof(struct kvm_coalesced_mmio));
        }
        if (ward_kvm_arch_vcpu_init(v, err, errlen)) {
                munmap(v->run, vm->run_size);
                close(v->fd);
                free(v);
                return -1;
        }
        *out = v;
        return 0;
}

static int kvm_vcpu_run(struct ward_hv_vcpu *v, struct ward_hv_exit *exit)
{
        struct kvm_run *run = v->run;
        if (!__atomic_load_n(&v->thread_known, __ATOMIC_ACQUIRE)) {
                v->thread = pthread_self();
                /* Published with release: vcpu_kick reads thread after seeing this. */
                __atomic_store_n(&v->thread_known, true, __ATOMIC_RELEASE);
        }
        if (v->mmio_read_pending) {
                memcpy(run->mmio.data, exit->data, sizeof(run->mmio.data));
                v->mmio_read_pending = false;
        }
        if (v->io_read_pending) {
                memcpy((uint8_t *)run + run->io.data_offset, exit->data, run->io.size);
                v->io_read_pending = false;
        }
        for (;;) {
                int rc = ioctl(v->fd, KVM_RUN, 0);
                if (rc < 0) {
                        if (errno == EINTR || errno == EAGAIN) {
                                __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                                exit->kind = WARD_HV_EXIT_KICKED;
                                return 0;
                        }
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason), "KVM_RUN failed: %s",
                                 strerror(errno));
                        return 0;
                }
                switch (run->exit_reason) {
                case KVM_EXIT_MMIO:
                        exit->kind = WARD_HV_EXIT_MMIO;
                        exit->addr = run->mmio.phys_addr;
                        exit->len = run->mmio.len;
                        exit->is_write = run->mmio.is_write;
                        memcpy(exit->data, run->mmio.data, sizeof(exit->data));
                        v->mmio_read_pending = !run->mmio.is_write;
                        return 0;
                case KVM_EXIT_IO:
                        /* One access at a time; string I/O (count > 1) is not taken. */
                        if (run->io.count != 1 || run->io.size > sizeof(exit->data) ||
                            run->io.data_offset > v->vm->run_size - run->io.size) {
                                exit->kind = WARD_HV_EXIT_ERROR;
                                exit->pc = ward_kvm_arch_pc(v);
                                snprintf(exit->reason, sizeof(exit->reason),
                                         "port I/O at 0x%x: %u accesses of %u bytes", run->io.port,
                                         run->io.count, run->io.size);
                                return 0;
                        }
                        exit->kind = WARD_HV_EXIT_IO;
                        exit->addr = run->io.port;
                        exit->len = run->io.size;
                        exit->is_write = run->io.direction == KVM_EXIT_IO_OUT;
                        memset(exit->data, 0, sizeof(exit->data));
                        memcpy(exit->data, (uint8_t *)run + run->io.data_offset, run->io.size);
                        v->io_read_pending = !exit->is_write;
                        return 0;
                case KVM_EXIT_SYSTEM_EVENT:
                        if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
                                exit->kind = WARD_HV_EXIT_SHUTDOWN;
                                return 0;
                        }
                        if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
                                exit->kind = WARD_HV_EXIT_RESET;
                                return 0;
                        }
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason),
                                 "guest system event %u (crash)", run->system_event.type);
                        return 0;
                case KVM_EXIT_SHUTDOWN:
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason),
                                 "the vCPU shut down (x86: a triple fault)");
                        return 0;
                case KVM_EXIT_INTR:
                        exit->kind = WARD_HV_EXIT_KICKED;
                        return 0;
                case KVM_EXIT_FAIL_ENTRY:
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason),
                                 "KVM_EXIT_FAIL_ENTRY (hardware reason 0x%llx)",
                                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
                        return 0;
                case KVM_EXIT_INTERNAL_ERROR:
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason),
                                 "KVM_EXIT_INTERNAL_ERROR (suberror %u)", run->internal.suberror);
                        return 0;
                default:
                        exit->kind = WARD_HV_EXIT_ERROR;
                        exit->pc = ward_kvm_arch_pc(v);
                        snprintf(exit->reason, sizeof(exit->reason), "unexpected KVM exit %u",
                                 run->exit_reason);
                        return 0;
                }
        }
}

static void kvm_vcpu_kick(struct ward_hv_vcpu *v)
{
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&v->thread_known, __ATOMIC_ACQUIRE))
                pthread_kill(v->thread, KICK_SIGNAL);
}

static void kvm_vcpu_destroy(struct ward_hv_vcpu *v)
{
        if (!v)
                return;
        munmap(v->run, v->vm->run_size);
        close(v->fd);
        free(v);
}

static int kvm_irq_bind(struct ward_hv_vm *vm, unsigned spi, int fd)
{
        /* KVM's default routing: GSI n is SPI n (INTID n + 32) on arm64, I/O APIC pin n on x86. */
        struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = spi};
        return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -1 : 0;
}

static int kvm_mmio_bind(struct ward_hv_vm *vm, uint64_t addr, uint32_t datamatch, int fd)
{
        struct kvm_ioeventfd io = {
            .datamatch = datamatch,
            .addr = addr,
            .len = 4,
            .fd = fd,
            .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
        };
        return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -1 : 0;
}

static int kvm_mmio_coalesce(struct ward_hv_vm *vm, uint64_t addr, uint64_t size)
{
        if (!vm->ring)
                return -1;
        struct kvm_coalesced_mmio_zone z = {.addr = addr, .size = (uint32_t)size};
        return ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0 ? -1 : 0;
}

static void kvm_mmio_drain(struct ward_hv_vm *vm,
                           void (*write)(void *opaque, uint64_t addr, const void *data,
                                         unsigned len),
                           void *opaque)
{
        struct kvm_coalesced_mmio_ring *r = vm->ring;
        if (!r)
                return;
        /* KVM fills [first, last); we consume from first. Bound both by ring_max. */
        uint32_t last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
        uint32_t first = r->first;
        while (first != last && first < vm->ring_max && last < vm->ring_max) {
                struct kvm_coalesced_mmio *e = &r->coalesced_mmio[first];
                unsigned len = e->len <= sizeof(e->data) ? e->len : sizeof(e->data);
                write(opaque, e->phys_addr, e->data, len);
                first = (first + 1) % vm->ring_max;
                __atomic_store_n(&r->first, first, __ATOMIC_RELEASE);
        }
}

static int kvm_irq_line(struct ward_hv_vm *vm, unsigned line, bool level)
{
        return ward_kvm_arch_irq_line(vm, line, level);
}

static const struct ward_hv_ops kvm_ops = {
    .name = "kvm",
    .arch = ward_kvm_arch_name,
    .arch_ops = &ward_kvm_arch_ext,
    .vm_create = kvm_vm_create,
    .vm_destroy = kvm_vm_destroy,
    .map_memory = kvm_map_memory,
    .vcpu_create = kvm_vcpu_create,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .vcpu_destroy = kvm_vcpu_destroy,
    .irq_line = kvm_irq_line,
    .irq_bind_notifier = kvm_irq_bind,
    .mmio_bind_notifier = kvm_mmio_bind,
    .mmio_coalesce = kvm_mmio_coalesce,
    .mmio_drain = kvm_mmio_drain,
};

const struct ward_hv_ops *ward_hv_default(void)
{
        return &kvm_ops;
}
