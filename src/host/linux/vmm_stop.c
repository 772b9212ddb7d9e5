/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How the Linux runner ends: the first reason to stop wins, and every
 * thread is woken (the main loop by the stop eventfd, the vCPU threads by
 * a kick). And the clock the main loop uses.
 */
#include "vmm_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Records why the VM ends (the first reason wins) and wakes every thread. */
void ward_vmm_request_stop(struct vmm *m, int status, const char *fmt, ...)
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

bool ward_vmm_stopping(struct vmm *m)
{
        return __atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST);
}

uint64_t ward_vmm_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
