/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_psci.h"

#define MPIDR_AFF_MASK 0xff00ffffffull /* Aff3 [39:32], Aff2..Aff0 [23:0] */
#define PSCI_MAJOR 1u
#define PSCI_MINOR 0u

int ward_psci_init(struct ward_psci *p, unsigned ncpus, const uint64_t *mpidr, uint64_t ram_base,
                   uint64_t ram_size)
{
        if (ncpus == 0 || ncpus > WARD_PSCI_MAX_CPUS || ram_base + ram_size < ram_base)
                return WARD_EINVAL;
        memset(p, 0, sizeof(*p));
        p->ncpus = ncpus;
        for (unsigned i = 0; i < ncpus; i++)
                p->mpidr[i] = mpidr[i] & MPIDR_AFF_MASK;
        p->on[0] = true;
        p->ram_base = ram_base;
        p->ram_size = ram_size;
        return WARD_OK;
}

/* Index of the vCPU with this affinity, or -1. */
static int find_cpu(const struct ward_psci *p, uint64_t mpidr)
{
        mpidr &= MPIDR_AFF_MASK;
        for (unsigned i = 0; i < p->ncpus; i++)
                if (p->mpidr[i] == mpidr)
                        return (int)i;
        return -1;
}

static bool in_ram(const struct ward_psci *p, uint64_t addr)
{
        return addr >= p->ram_base && addr - p->ram_base < p->ram_size;
}

static bool supported(uint32_t fn)
{
        switch (fn) {
        case WARD_PSCI_VERSION:
        case WARD_PSCI_CPU_SUSPEND_64:
        case WARD_PSCI_CPU_OFF:
        case WARD_PSCI_CPU_ON_32:
        case WARD_PSCI_CPU_ON_64:
        case WARD_PSCI_AFFINITY_INFO_32:
        case WARD_PSCI_AFFINITY_INFO_64:
        case WARD_PSCI_MIGRATE_INFO_TYPE:
        case WARD_PSCI_SYSTEM_OFF:
        case WARD_PSCI_SYSTEM_RESET:
        case WARD_PSCI_FEATURES:
                return true;
        default:
                return false;
        }
}

static int64_t cpu_on(struct ward_psci *p, const uint64_t x[4], bool is32,
                      struct ward_psci_action *act)
{
        uint64_t target = x[1], entry = x[2], ctx = x[3];
        if (is32) {
                target &= 0xffffffffu;
                entry &= 0xffffffffu;
                ctx &= 0xffffffffu;
        }
        int t = find_cpu(p, target);
        if (t < 0)
                return WARD_PSCI_INVALID_PARAMETERS;
        if (!in_ram(p, entry) || (entry & 3))
                return WARD_PSCI_INVALID_ADDRESS;
        if (p->on[t])
                return WARD_PSCI_ALREADY_ON;
        p->on[t] = true;
        act->kind = WARD_PSCI_ACT_CPU_ON;
        act->target = (unsigned)t;
        act->entry = entry;
        act->context = ctx;
        return WARD_PSCI_SUCCESS;
}

int64_t ward_psci_call(struct ward_psci *p, unsigned caller, const uint64_t x[4],
                       struct ward_psci_action *act)
{
        act->kind = WARD_PSCI_ACT_NONE;
        /* SMCCC: the function ID is the low 32 bits of x0. */
        uint32_t fn = (uint32_t)x[0];
        if (caller >= p->ncpus)
                return WARD_PSCI_NOT_SUPPORTED;
        switch (fn) {
        case WARD_PSCI_VERSION:
                return (int64_t)((PSCI_MAJOR << 16) | PSCI_MINOR);
        case WARD_SMCCC_VERSION:
                return WARD_PSCI_NOT_SUPPORTED; /* SMCCC 1.0: no arch calls */
        case WARD_PSCI_FEATURES:
                return supported((uint32_t)x[1]) ? WARD_PSCI_SUCCESS : WARD_PSCI_NOT_SUPPORTED;
        case WARD_PSCI_CPU_SUSPEND_64:
                /* Only standby-like suspend: wait for an interrupt, then go on. */
                act->kind = WARD_PSCI_ACT_WAIT;
                return WARD_PSCI_SUCCESS;
        case WARD_PSCI_CPU_OFF:
                p->on[caller] = false;
                act->kind = WARD_PSCI_ACT_CPU_OFF;
                act->target = caller;
                return WARD_PSCI_SUCCESS;
        case WARD_PSCI_CPU_ON_32:
        case WARD_PSCI_CPU_ON_64:
                return cpu_on(p, x, fn == WARD_PSCI_CPU_ON_32, act);
        case WARD_PSCI_AFFINITY_INFO_32:
        case WARD_PSCI_AFFINITY_INFO_64: {
                /* Only level 0 (a single CPU) is meaningful for a VM. */
                if (x[2] != 0)
                        return WARD_PSCI_INVALID_PARAMETERS;
                int t = find_cpu(p, fn == WARD_PSCI_AFFINITY_INFO_32 ? x[1] & 0xffffffffu : x[1]);
                if (t < 0)
                        return WARD_PSCI_INVALID_PARAMETERS;
                return p->on[t] ? 0 : 1; /* ON or OFF */
        }
        case WARD_PSCI_MIGRATE_INFO_TYPE:
                return 2; /* no Trusted OS that would need migrating */
        case WARD_PSCI_SYSTEM_OFF:
                act->kind = WARD_PSCI_ACT_SYSTEM_OFF;
                return WARD_PSCI_SUCCESS;
        case WARD_PSCI_SYSTEM_RESET:
                act->kind = WARD_PSCI_ACT_SYSTEM_RESET;
                return WARD_PSCI_SUCCESS;
        default:
                return WARD_PSCI_NOT_SUPPORTED;
        }
}

void ward_psci_cpu_stopped(struct ward_psci *p, unsigned cpu)
{
        if (cpu < p->ncpus)
                p->on[cpu] = false;
}
