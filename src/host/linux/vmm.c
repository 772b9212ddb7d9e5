/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux runner: one VM in this process. The VM itself is built by the
 * VM core (ward/vm/vm.h) from the config; this file brings what only Linux
 * has: guest memory (anonymous mappings and memfds), the disk and entropy
 * backends, the terminal and doorbell sockets, eventfds that keep queue
 * notifications and interrupts off the vCPU threads, one thread per vCPU,
 * and the event loop (a table of sources, ward/host/linux/event_loop.h).
 *
 * Threads: one per vCPU running the guest and handing exits to
 * ward_vm_exit(), plus the main thread, which serves the event sources.
 * Device state is guarded by one lock per VM: device work is short (no
 * blocking I/O besides the disk backend) and a single lock keeps the
 * freestanding core free of threading concerns.
 */
#include "ward/host/linux/vmm.h"
#include "ward/vm/vm_arch.h"

#include "ward/host/linux/caps.h"
#include "ward/host/linux/jail.h"
#include "ward/host/linux/seccomp_filter.h"

#include "vmm_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- running ---- */

static void *vcpu_thread(void *arg)
{
        struct vcpu *c = arg;
        struct vmm *m = c->m;
        struct ward_hv_vcpu *h = m->vm.vcpu[c->index];
        struct ward_hv_exit ex;
        memset(&ex, 0, sizeof(ex));
        pthread_mutex_lock(&m->lock);
        m->ready++;
        pthread_cond_broadcast(&m->start_cond);
        while (!m->start_open)
                pthread_cond_wait(&m->start_cond, &m->lock);
        pthread_mutex_unlock(&m->lock);
        while (!ward_vmm_stopping(m)) {
                if (m->vm.hv->vcpu_run(h, &ex)) {
                        ward_vmm_request_stop(m, 1, "vCPU %u: cannot run", c->index);
                        break;
                }
                if (ex.kind == WARD_HV_EXIT_KICKED)
                        continue;
                pthread_mutex_lock(&m->lock);
                enum ward_vm_event e = ward_vm_exit(&m->vm, c->index, &ex);
                ward_vmm_flush_disks(m); /* a notify without ioeventfd lands here */
                pthread_mutex_unlock(&m->lock);
                switch (e) {
                case WARD_VM_RUNNING:
                        break;
                case WARD_VM_POWEROFF:
                        ward_vmm_request_stop(m, 0, "guest powered off");
                        break;
                case WARD_VM_REBOOT:
                        if (m->panic.seen)
                                ward_vmm_request_stop(
                                    m, 1, "guest kernel panicked (and asked to reboot)");
                        else
                                ward_vmm_request_stop(m, 0, "guest rebooted; ward stops the VM");
                        break;
                case WARD_VM_FAILED:
                        ward_vmm_request_stop(m, 1, "vCPU %u: %s at pc 0x%llx", c->index, ex.reason,
                                              (unsigned long long)ex.pc);
                        break;
                }
        }
        return NULL;
}

/* Serves the event sources until the VM stops. */
static void main_loop(struct vmm *m)
{
        while (!ward_vmm_stopping(m)) {
                int timeout = m->vm.coalesced ? 50 : -1;
                if (m->out_pending) {
                        uint64_t waited = ward_vmm_now_ms() - m->out_since;
                        timeout = waited >= OUT_FLUSH_MS ? 0 : (int)(OUT_FLUSH_MS - waited);
                }
                if (ward_loop_run_once(&m->loop, m, timeout)) {
                        ward_vmm_request_stop(m, 1, "poll: %s", strerror(errno));
                        break;
                }
                /* Queued UART writes with no trap after them (rare) reach stdout too. */
                pthread_mutex_lock(&m->lock);
                ward_vm_drain(&m->vm);
                if (m->out_pending && ward_vmm_now_ms() - m->out_since >= OUT_FLUSH_MS) {
                        ward_vmm_console_flush(m);
                        m->out_wake_sent = false;
                        m->out_pending = false;
                }
                pthread_mutex_unlock(&m->lock);
        }
}

const struct ward_vm_arch *ward_host_vm_arch(void)
{
        const struct ward_vm_arch *a = ward_vm_arch_of(ward_hv_default());
        return a ? a : &ward_vm_arch_arm64; /* no backend here: build() says so */
}

static int build(struct vmm *m, char *err, size_t errlen)
{
        const struct ward_hv_ops *hv = ward_hv_default();
        if (!hv) {
                snprintf(err, errlen,
                         "this ward build has no hypervisor backend for this host "
                         "architecture (ward has KVM on arm64 and x86_64)");
                return -1;
        }
        m->vm_created = true; /* from here on ward_vm_destroy() cleans up */
        if (ward_vm_create(&m->vm, m->cfg, hv, &ward_vmm_host_ops, m, err, errlen) ||
            ward_vmm_add_sources(m, err, errlen) || ward_vmm_boot(m, err, errlen))
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
        for (unsigned i = 0; i < cfg->ndisks; i++) {
                ward_blk_file_close(&m->disk[i]);
                if (m->bproc[i])
                        ward_blk_process_close(m->bproc[i]);
                free(m->bproc[i]);
        }
        for (unsigned i = 0; i < cfg->ndoorbells; i++)
                if (m->doorbell_fd[i] >= 0)
                        close(m->doorbell_fd[i]);
        for (unsigned i = 0; i < cfg->nnets; i++) {
                if (m->net[i])
                        ward_net_link_close(m->net[i]);
                free(m->net[i]);
        }
        if (m->vsock)
                ward_vsock_mux_close(m->vsock);
        free(m->vsock);
        if (m->vm_created) {
                struct ward_vm *vm = &m->vm;
                ward_vm_destroy(vm);
                if (vm->ram)
                        munmap(vm->ram, vm->ram_size);
                for (unsigned i = 0; i < cfg->nram; i++)
                        if (vm->ram_extra[i])
                                munmap(vm->ram_extra[i], cfg->ram[i].size);
                for (unsigned i = 0; i < cfg->nshm; i++)
                        if (vm->shm[i])
                                munmap(vm->shm[i], cfg->shm[i].size);
        }
        ward_blk_starter_close(&m->starter); /* after its backends' ports closed */
        if (m->stop_fd >= 0)
                close(m->stop_fd);
        if (m->out_wake_fd >= 0)
                close(m->out_wake_fd);
        pthread_cond_destroy(&m->start_cond);
        pthread_mutex_destroy(&m->lock);
}

static void init(struct vmm *m, const struct ward_vm_config *cfg)
{
        m->cfg = cfg;
        m->starter = (struct ward_blk_starter){.sock = -1, .pid = -1};
        for (unsigned i = 0; i < WARD_MAX_DISKS; i++)
                m->disk[i].fd = m->disk[i].event_fd = -1;
        for (unsigned i = 0; i < WARD_MAX_DOORBELLS; i++)
                m->doorbell_fd[i] = -1;
        for (unsigned i = 0; i < MAX_LINES; i++)
                m->irqfd[i] = -1;
        for (unsigned i = 0; i < WARD_VM_MAX_DEVICES; i++)
                for (unsigned q = 0; q < WARD_VIRTIO_MAX_QUEUES; q++)
                        m->notify_fd[i][q] = -1;
        ward_loop_init(&m->loop, m->sources, MAX_SOURCES);
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->start_cond, NULL);
        m->stop_fd = eventfd(0, EFD_CLOEXEC);
        m->out_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/*
 * A vCPU thread needs little stack (a trap and the device it reaches, a
 * few KiB). glibc's default is 8 MiB, and where the host's THP mode is
 * "always" a 2 MiB-aligned part of it becomes a huge page at first touch:
 * 2 MiB of RSS per vCPU for nothing. 1 MiB holds no aligned 2 MiB.
 */
#define VCPU_STACK_BYTES (1u << 20)

/* True when the VM's disks are served by backend processes, for which this
 * process makes ports and has a starter start them. */
static bool process_disks(const struct ward_vm_config *cfg)
{
        for (unsigned i = 0; i < cfg->ndisks; i++)
                if (cfg->disks[i].process)
                        return true;
        return false;
}

/*
 * The allow-list goes in once every thread exists (TSYNC puts it on all of
 * them) and before any of them runs the guest: from here on, what a guest
 * can make this process do is bounded by the list. A VM whose disks are
 * served by backend processes keeps what starting one again takes.
 */
static void lock_down(struct vmm *m, unsigned started)
{
        /* A thread that exists but has not run yet still makes the C
         * library's start-up calls (set_robust_list, rseq) with every signal
         * blocked: under the list, that would kill the process unannounced.
         * So the list waits until each vCPU thread is in vcpu_thread(). */
        pthread_mutex_lock(&m->lock);
        while (m->ready < started)
                pthread_cond_wait(&m->start_cond, &m->lock);
        pthread_mutex_unlock(&m->lock);
        char err[160];
        unsigned extras = (process_disks(m->cfg) ? WARD_SECCOMP_WITH_PORTS : 0) |
                          (m->cfg->vsock.cid ? WARD_SECCOMP_WITH_VSOCK : 0);
        if (ward_seccomp_install(WARD_SECCOMP_VMM, m->cfg->seccomp, extras, err, sizeof(err)))
                ward_vmm_request_stop(m, 1, "%s", err);
#ifdef WARD_TEST_HOOKS
        /* Test builds only: a call outside the list, on demand (docs/security.md). */
        if (getenv("WARD_TEST_FORBIDDEN_SYSCALL"))
                syscall(SYS_getppid);
#endif
        pthread_mutex_lock(&m->lock);
        m->start_open = true;
        pthread_cond_broadcast(&m->start_cond);
        pthread_mutex_unlock(&m->lock);
}

static int run(struct vmm *m)
{
        /* The VM is built: no capability is needed from here on. Dropped
         * before the vCPU threads start, as capabilities are per thread. */
        char err[160];
        if (ward_caps_drop_all(err, sizeof(err)))
                ward_vmm_request_stop(m, 1, "%s", err);
        ward_term_enter(&m->term);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, VCPU_STACK_BYTES);
        for (unsigned i = 0; i < m->cfg->cpus; i++) {
                m->vcpus[i] = (struct vcpu){.m = m, .index = i};
                if (pthread_create(&m->vcpus[i].thread, &attr, vcpu_thread, &m->vcpus[i])) {
                        ward_vmm_request_stop(m, 1, "cannot start vCPU thread %u", i);
                        break;
                }
                m->vcpus[i].started = true;
        }
        pthread_attr_destroy(&attr);
        unsigned started = 0;
        for (unsigned i = 0; i < m->cfg->cpus; i++)
                started += m->vcpus[i].started;
        lock_down(m, started);
        main_loop(m);
        pthread_mutex_lock(&m->lock);
        ward_vm_drain(&m->vm);
        ward_vmm_console_flush(m);
        pthread_mutex_unlock(&m->lock);
        ward_term_leave(&m->term);
        fprintf(stderr, "\r\nward: %s\n", m->exit_reason);
        return m->exit_status;
}

/* The jail, keeping the vsock device's directory: the guest's connections
 * go to the sockets there. */
static int jail(struct vmm *m, char *err, size_t errlen)
{
        struct ward_jail_config j = m->cfg->jail;
        if (m->vsock) {
                /* The jail keeps that directory writable: not one others share. */
                struct stat st;
                if (strcmp(m->vsock->dir, "/") == 0 || stat(m->vsock->dir, &st) != 0 ||
                    (st.st_mode & S_IWOTH)) {
                        snprintf(err, errlen,
                                 "--vsock %s: a jailed VMM keeps the socket's directory, "
                                 "writable, and it is %s: use a directory of its own",
                                 m->vsock->path,
                                 strcmp(m->vsock->dir, "/") == 0 ? "the host's whole file system"
                                                                 : "writable by everyone");
                        return -1;
                }
                /* Shorter than the socket's path, which fits sun_path. */
                size_t n = strnlen(m->vsock->dir, sizeof(j.shared_dir) - 1);
                memcpy(j.shared_dir, m->vsock->dir, n);
                j.shared_dir[n] = '\0';
        }
        return ward_jail_enter(&j, m->cfg->name ? m->cfg->name : "ward", false, err, errlen);
}

static void on_signal(int sig)
{
        (void)sig; /* read from the signalfd instead */
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
        /* A VMM that is process 1 of its PID namespace (jailed) is sent only
         * the signals it has a handler for; blocked, this one never runs. */
        static const int handled[3] = {SIGINT, SIGTERM, SIGHUP};
        struct sigaction sa, old_sa[3];
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        for (int k = 0; k < 3; k++)
                sigaction(handled[k], &sa, &old_sa[k]);
        m->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);

        int status = 1;
        if (m->stop_fd < 0 || m->out_wake_fd < 0 || m->sig_fd < 0)
                fprintf(stderr, "ward: cannot create event descriptors: %s\n", strerror(errno));
        /* Before guest memory or any file of the VM's exists in this process. */
        else if (process_disks(cfg) &&
                 ward_blk_starter_fork(&m->starter, "/proc/self/exe", cfg, err, sizeof(err)))
                fprintf(stderr, "ward: %s\n", err);
        else if (ward_vmm_open_nets(m, err, sizeof(err)))
                fprintf(stderr, "ward: %s\n", err);
        else if (build(m, err, sizeof(err)))
                fprintf(stderr, "ward: %s\n", err);
        /* Built, with every file it needs open: the jail hides the rest. */
        else if (cfg->jail.on && jail(m, err, sizeof(err)))
                fprintf(stderr, "ward: %s\n", err);
        else
                status = run(m);
        /* vCPU threads may still be in KVM_RUN: make sure they are kicked out. */
        if (!ward_vmm_stopping(m))
                ward_vmm_request_stop(m, status, "stopping");
        teardown(m);
        if (m->sig_fd >= 0)
                close(m->sig_fd);
        /* Under the allow-list (on for good) the handlers stay: it has no rt_sigaction. */
        if (cfg->seccomp != WARD_SECCOMP_ON)
                for (int k = 0; k < 3; k++)
                        sigaction(handled[k], &old_sa[k], NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(m);
        return status;
}
