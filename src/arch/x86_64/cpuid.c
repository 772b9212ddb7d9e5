/* SPDX-License-Identifier: BSD-2-Clause */
/* A vCPU's CPUID; see include/ward/arch/x86_64/x86_cpuid.h. */
#include "ward/arch/x86_64/x86_cpuid.h"
#include "ward/util/util.h"

#define KVM_SIGNATURE 0x40000000u
#define KVM_FEATURES 0x40000001u

/* Leaves whose registers ward clears: what it does not give the guest. */
static const uint32_t hidden_leaves[] = {
    0x5,  /* MONITOR/MWAIT geometry: MONITOR is hidden */
    0x6,  /* thermal and power management */
    0xa,  /* architectural performance monitoring: no PMU */
    0x12, /* SGX */
    0x14, /* processor trace */
};

static struct ward_cpuid_entry *find(struct ward_cpuid_entry *e, unsigned n, uint32_t fn,
                                     uint32_t index)
{
        for (unsigned i = 0; i < n; i++)
                if (e[i].function == fn &&
                    (!(e[i].flags & WARD_CPUID_SIGNIFICANT_INDEX) || e[i].index == index))
                        return &e[i];
        return NULL;
}

static int add(struct ward_cpuid_entry *e, unsigned *n, unsigned room, struct ward_cpuid_entry v,
               char *err, size_t errlen)
{
        struct ward_cpuid_entry *have = find(e, *n, v.function, v.index);
        if (have) {
                *have = v;
                return 0;
        }
        if (*n >= room) {
                ward_fmt(err, errlen, "CPUID: no room for leaf 0x%x (%u entries)", v.function,
                         room);
                return -1;
        }
        e[(*n)++] = v;
        return 0;
}

int ward_x86_cpuid_filter(struct ward_cpuid_entry *e, unsigned *n, unsigned room, unsigned vcpu,
                          unsigned ncpus, char *err, size_t errlen)
{
        if (ncpus < 1 || ncpus > 255 || vcpu >= ncpus || *n > room) {
                ward_fmt(err, errlen, "CPUID: vCPU %u of %u (1 to 255 vCPUs)", vcpu, ncpus);
                return -1;
        }
        for (unsigned i = 0; i < *n; i++) {
                struct ward_cpuid_entry *x = &e[i];
                for (size_t h = 0; h < sizeof(hidden_leaves) / sizeof(hidden_leaves[0]); h++)
                        if (x->function == hidden_leaves[h])
                                x->eax = x->ebx = x->ecx = x->edx = 0;
                switch (x->function) {
                case 0x1:
                        /* This vCPU's APIC id; the package's logical count; no MONITOR;
                         * running on a hypervisor. */
                        x->ebx = (x->ebx & 0x0000ffffu) | (ncpus & 0xffu) << 16 | vcpu << 24;
                        x->ecx = (x->ecx & ~WARD_CPUID_1_ECX_MONITOR) | WARD_CPUID_1_ECX_HYPERVISOR;
                        x->edx |= 1u << 28; /* HTT: the count above is valid */
                        break;
                case 0x7:
                        if (x->index == 0) {
                                x->ebx &= ~(1u << 2 | 1u << 4 | 1u << 11); /* SGX, HLE, RTM */
                                x->ecx &= ~(1u << 30);                     /* SGX launch control */
                        }
                        break;
                case 0xb:
                case 0x1f:
                        /* Topology: level 0 SMT (1 thread), level 1 core (ncpus of them). */
                        x->edx = vcpu;
                        if (x->index == 0) {
                                x->eax = 0;
                                x->ebx = 1;
                                x->ecx = 1u << 8 | 0;
                        } else if (x->index == 1) {
                                unsigned shift = 0;
                                while ((1u << shift) < ncpus)
                                        shift++;
                                x->eax = shift;
                                x->ebx = ncpus;
                                x->ecx = 2u << 8 | 1;
                        } else {
                                x->eax = x->ebx = 0;
                                x->ecx = x->index;
                        }
                        break;
                default:
                        break;
                }
        }
        /* KVM's signature and the features ward relies on: kvm-clock. */
        struct ward_cpuid_entry sig = {.function = KVM_SIGNATURE,
                                       .eax = KVM_FEATURES, /* the highest KVM leaf */
                                       .ebx = 0x4b4d564b,   /* "KVMK" */
                                       .ecx = 0x564b4d56,   /* "VMKV" */
                                       .edx = 0x4d};        /* "M" */
        struct ward_cpuid_entry *f = find(e, *n, KVM_FEATURES, 0);
        struct ward_cpuid_entry feat = f ? *f : (struct ward_cpuid_entry){.function = KVM_FEATURES};
        feat.eax |= WARD_CPUID_KVM_FEATURE_CLOCKSOURCE2;
        return add(e, n, room, sig, err, errlen) || add(e, n, room, feat, err, errlen) ? -1 : 0;
}
