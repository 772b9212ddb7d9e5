/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The KVM backend, its x86_64 part: the TSS and identity-map pages VMX
 * needs, the in-kernel irqchip (I/O APIC, local APICs, PIC) and PIT, the
 * local APIC's LINT pins, CPUID (KVM_GET_SUPPORTED_CPUID in,
 * KVM_SET_CPUID2 out), the 64-bit boot state through KVM_SET_SREGS and
 * KVM_SET_REGS, and GSIs for KVM_IRQ_LINE.
 */
#include "kvm_internal.h"
#include "ward/hv/hv_x86_64.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/*
 * Three pages VMX wants for its real-mode emulation, just below the BIOS
 * area at the top of the 32-bit space: in the hole ward keeps free of RAM
 * and devices (x86_platform.h).
 */
#define TSS_ADDR 0xfffbd000ull
#define IDENTITY_MAP_ADDR 0xfffbc000ull

/* Local APIC registers and LVT delivery modes (Intel SDM vol. 3, 10.5.1). */
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

const char ward_kvm_arch_name[] = "x86_64";

int ward_kvm_arch_vm_init(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        static const struct {
                long cap;
                const char *name;
        } needed[] = {
            {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
            {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
            {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
            {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
        };
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
                if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
                        snprintf(err, errlen, "/dev/kvm lacks %s", needed[i].name);
                        return -1;
                }
        }
        if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDR) < 0) {
                snprintf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(errno));
                return -1;
        }
        uint64_t map = IDENTITY_MAP_ADDR;
        if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
            ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &map) < 0) {
                snprintf(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
                return -1;
        }
        return 0;
}

void ward_kvm_arch_vm_destroy(struct ward_hv_vm *vm)
{
        (void)vm; /* the irqchip and PIT go with the VM's fd */
}

static int kvm_irqchip_create(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
                snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
                return -1;
        }
        /* Linux calibrates its local APIC timer against the PIT. */
        struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
        if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
                snprintf(err, errlen, "KVM_CREATE_PIT2: %s", strerror(errno));
                return -1;
        }
        return 0;
}

static void set_lvt(struct kvm_lapic_state *s, unsigned reg, uint32_t mode)
{
        uint32_t v;
        memcpy(&v, &s->regs[reg], sizeof(v));
        v = (v & ~0x700u) | (mode << 8);
        memcpy(&s->regs[reg], &v, sizeof(v));
}

/*
 * LINT0 delivers the PIC's interrupts (ExtINT) and LINT1 NMIs, as a PC's
 * firmware leaves them: Linux's timer check falls back to the PIC through
 * LINT0 when the PIT does not reach it through the I/O APIC.
 */
static int set_lint(struct ward_hv_vcpu *v, char *err, size_t errlen)
{
        struct kvm_lapic_state s;
        if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0) {
                snprintf(err, errlen, "KVM_GET_LAPIC %u: %s", v->index, strerror(errno));
                return -1;
        }
        set_lvt(&s, APIC_LVT_LINT0, APIC_MODE_EXTINT);
        set_lvt(&s, APIC_LVT_LINT1, APIC_MODE_NMI);
        if (ioctl(v->fd, KVM_SET_LAPIC, &s) < 0) {
                snprintf(err, errlen, "KVM_SET_LAPIC %u: %s", v->index, strerror(errno));
                return -1;
        }
        return 0;
}

int ward_kvm_arch_vcpu_init(struct ward_hv_vcpu *v, char *err, size_t errlen)
{
        if (set_lint(v, err, errlen))
                return -1;
        /* The x87 and SSE state at power-on (Intel SDM vol. 1, 8.1.1 and 10.2.3). */
        struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
        if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0) {
                snprintf(err, errlen, "KVM_SET_FPU %u: %s", v->index, strerror(errno));
                return -1;
        }
        return 0;
}

uint64_t ward_kvm_arch_pc(struct ward_hv_vcpu *v)
{
        struct kvm_regs r;
        return ioctl(v->fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

int ward_kvm_arch_irq_line(struct ward_hv_vm *vm, unsigned gsi, bool level)
{
        if (gsi >= WARD_X86_IOAPIC_PINS)
                return -1;
        struct kvm_irq_level l = {.irq = gsi, .level = level};
        return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -1 : 0;
}

/* struct kvm_cpuid2 with room for `room` entries, zeroed. */
static struct kvm_cpuid2 *cpuid_alloc(unsigned room)
{
        struct kvm_cpuid2 *c =
            calloc(1, sizeof(*c) + (size_t)room * sizeof(struct kvm_cpuid_entry2));
        if (c)
                c->nent = room;
        return c;
}

static int kvm_supported_cpuid(struct ward_hv_vm *vm, struct ward_cpuid_entry *e, unsigned room,
                               unsigned *n, char *err, size_t errlen)
{
        struct kvm_cpuid2 *c = cpuid_alloc(room);
        if (!c) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
                snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s%s", strerror(errno),
                         errno == E2BIG ? " (more leaves than ward takes)" : "");
                free(c);
                return -1;
        }
        unsigned got = c->nent <= room ? c->nent : room;
        for (unsigned i = 0; i < got; i++) {
                const struct kvm_cpuid_entry2 *k = &c->entries[i];
                e[i] = (struct ward_cpuid_entry){k->function, k->index, k->flags, k->eax,
                                                 k->ebx,      k->ecx,   k->edx};
        }
        *n = got;
        free(c);
        return 0;
}

static int kvm_set_cpuid(struct ward_hv_vcpu *v, const struct ward_cpuid_entry *e, unsigned n,
                         char *err, size_t errlen)
{
        struct kvm_cpuid2 *c = cpuid_alloc(n);
        if (!c) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        for (unsigned i = 0; i < n; i++) {
                struct kvm_cpuid_entry2 *k = &c->entries[i];
                k->function = e[i].function;
                k->index = e[i].index;
                k->flags = e[i].flags;
                k->eax = e[i].eax;
                k->ebx = e[i].ebx;
                k->ecx = e[i].ecx;
                k->edx = e[i].edx;
        }
        int rc = ioctl(v->fd, KVM_SET_CPUID2, c);
        if (rc < 0)
                snprintf(err, errlen, "KVM_SET_CPUID2 %u: %s", v->index, strerror(errno));
        free(c);
        return rc < 0 ? -1 : 0;
}

static struct kvm_segment segment(const struct ward_x86_segment *s)
{
        return (struct kvm_segment){.base = s->base,
                                    .limit = s->limit,
                                    .selector = s->selector,
                                    .type = s->type,
                                    .present = s->present,
                                    .dpl = s->dpl,
                                    .db = s->db,
                                    .s = s->s,
                                    .l = s->l,
                                    .g = s->g};
}

static int kvm_set_boot_regs(struct ward_hv_vcpu *v, const struct ward_x86_boot_regs *r, char *err,
                             size_t errlen)
{
        struct kvm_sregs s;
        if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
                snprintf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
                return -1;
        }
        s.cs = segment(&r->cs);
        s.ds = s.es = s.fs = s.gs = s.ss = segment(&r->ds);
        s.gdt.base = r->gdt_base;
        s.gdt.limit = r->gdt_limit;
        s.cr0 = r->cr0;
        s.cr3 = r->cr3;
        s.cr4 = r->cr4;
        s.efer = r->efer;
        if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) {
                snprintf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
                return -1;
        }
        struct kvm_regs regs = {.rip = r->rip, .rsi = r->rsi, .rflags = r->rflags, .rsp = r->rsp};
        if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
                snprintf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
                return -1;
        }
        return 0;
}

/* The seam's x86_64 extension; ward_hv_x86_64() reads it as its first member. */
struct ward_kvm_arch_ext {
        struct ward_hv_x86_64_ops ops;
};

const struct ward_kvm_arch_ext ward_kvm_arch_ext = {{
    .irqchip_create = kvm_irqchip_create,
    .supported_cpuid = kvm_supported_cpuid,
    .set_cpuid = kvm_set_cpuid,
    .set_boot_regs = kvm_set_boot_regs,
}};
