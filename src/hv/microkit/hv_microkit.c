/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 Microkit backend of the hypervisor seam (see hv_microkit.h).
 * One VM per protection domain, so its state is this file's. What KVM does
 * in the kernel is done here: the trap decoder and PSCI (ward_arm64_trap),
 * the GICv2 distributor (ward_vgic, on the VM's bus) and its list
 * registers, through seL4's vCPU calls.
 */
#include "hv_microkit.h"
#include "exit_counts.h"

#include <stddef.h>

#include "ward/arch/arm64/arm64_boot.h"
#include "ward/arch/arm64/arm64_esr.h"
#include "ward/arch/arm64/arm64_map.h"
#include "ward/arch/arm64/arm64_psci.h"
#include "ward/arch/arm64/arm64_trap.h"
#include "ward/arch/arm64/arm64_vgic.h"

#define GIC_LIST_REGS 4 /* QEMU's GICv2 virtual CPU interface has 4 */
#define PPI_VTIMER 27
#define LR_UNKNOWN 0xffff /* a list register seL4 holds for an interrupt we do not track */

struct ward_hv_vcpu {
        unsigned index;
};
struct ward_hv_vm {
        unsigned ncpus;
        struct ward_vgic vgic;
        struct ward_psci psci;
        uint64_t ram_base, ram_size; /* the boot RAM, for PSCI's CPU_ON checks */
        struct ward_hv_vcpu vcpu[WARD_MICROKIT_MAX_VCPUS];
        /* Which interrupt sits in each list register of each vCPU (0: free). */
        uint16_t list_reg[WARD_MICROKIT_MAX_VCPUS][GIC_LIST_REGS];
};
static struct ward_hv_vm M;

/* ---- vCPU registers, read once per fault and written back if changed ---- */

struct regs_cache {
        seL4_UserContext ctx;
        bool valid, dirty;
};
static struct regs_cache regs[WARD_MICROKIT_MAX_VCPUS];

#define X(n) offsetof(seL4_UserContext, x##n) / sizeof(seL4_Word)
static const uint8_t x_index[31] = {
    X(0),  X(1),  X(2),  X(3),  X(4),  X(5),  X(6),  X(7),  X(8),  X(9),  X(10),
    X(11), X(12), X(13), X(14), X(15), X(16), X(17), X(18), X(19), X(20), X(21),
    X(22), X(23), X(24), X(25), X(26), X(27), X(28), X(29), X(30),
};
#undef X

#define NREGS (sizeof(seL4_UserContext) / sizeof(seL4_Word))

static seL4_UserContext *ctx_of(unsigned vcpu)
{
        struct regs_cache *r = &regs[vcpu];
        if (!r->valid) {
                seL4_TCB_ReadRegisters(BASE_VM_TCB_CAP + vcpu, seL4_False, 0, NREGS, &r->ctx);
                r->valid = true;
        }
        return &r->ctx;
}

static uint64_t get_x(void *o, unsigned vcpu, unsigned reg)
{
        (void)o;
        return ((seL4_Word *)ctx_of(vcpu))[x_index[reg]];
}
static void set_x(void *o, unsigned vcpu, unsigned reg, uint64_t v)
{
        (void)o;
        ((seL4_Word *)ctx_of(vcpu))[x_index[reg]] = v;
        regs[vcpu].dirty = true;
}
static uint64_t get_pc(void *o, unsigned vcpu)
{
        (void)o;
        return ctx_of(vcpu)->pc;
}
static void set_pc(void *o, unsigned vcpu, uint64_t pc)
{
        (void)o;
        ctx_of(vcpu)->pc = pc;
        regs[vcpu].dirty = true;
}
static const struct ward_arm64_regs_ops regs_ops = {get_x, set_x, get_pc, set_pc};

/* vCPUs started and not stopped (PSCI CPU_OFF, the VM's end); all of them
 * suspended by the admin PD's pause while `paused`. */
static bool online[WARD_MICROKIT_MAX_VCPUS];
static bool paused;
static bool parked[WARD_MICROKIT_MAX_VCPUS]; /* in WFI, suspended (see park() below) */

/* Writes back changed registers; `resume` restarts a stopped vCPU too. */
static void flush_regs(unsigned vcpu, bool resume)
{
        struct regs_cache *r = &regs[vcpu];
        if (resume)
                online[vcpu] = true;
        if (r->dirty || resume)
                seL4_TCB_WriteRegisters(BASE_VM_TCB_CAP + vcpu, resume, 0, NREGS, ctx_of(vcpu));
        r->valid = r->dirty = false;
}

/* ---- the seam ---- */

static int mk_vm_create(struct ward_hv_vm **vm, unsigned ncpus, char *err, size_t errlen)
{
        if (ncpus == 0 || ncpus > WARD_MICROKIT_MAX_VCPUS) {
                ward_fmt(err, errlen, "%u vCPUs: a Microkit VMM runs 1 to %u", ncpus,
                         WARD_MICROKIT_MAX_VCPUS);
                return -1;
        }
        /* A VM created again (the admin PD's start) begins with nothing of the last one. */
        memset(&M, 0, sizeof(M));
        memset(regs, 0, sizeof(regs));
        memset(online, 0, sizeof(online));
        memset(parked, 0, sizeof(parked));
        paused = false;
        M.ncpus = ncpus;
        *vm = &M;
        return 0;
}

static void mk_vm_destroy(struct ward_hv_vm *vm)
{
        (void)vm;
}

/* The Microkit tool maps memory statically (the .system file): remember the boot RAM. */
static int mk_map_memory(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
                         void *hva, unsigned flags, char *err, size_t errlen)
{
        (void)hva;
        if (flags & WARD_HV_MEM_READONLY) {
                ward_fmt(err, errlen, "read-only guest memory is set in the .system file");
                return -1;
        }
        if (slot == 0) {
                vm->ram_base = gpa;
                vm->ram_size = size;
        }
        return 0;
}

/*
 * A VM created again (the admin PD's start) reuses the vCPU objects, whose
 * EL1 system registers (MMU on, page tables, vectors, the virtual timer)
 * are the last guest's: each vCPU gets back the ones seL4 gave it before
 * its first boot, and a virtual timer interrupt left masked is unmasked.
 */
static seL4_Word first_regs[WARD_MICROKIT_MAX_VCPUS][seL4_VCPUReg_Num];
static bool first_regs_saved[WARD_MICROKIT_MAX_VCPUS];

static void vcpu_regs_afresh(unsigned index)
{
        for (unsigned r = 0; r < seL4_VCPUReg_Num; r++) {
                if (first_regs_saved[index])
                        microkit_vcpu_arm_write_reg(index, r, first_regs[index][r]);
                else
                        first_regs[index][r] = microkit_vcpu_arm_read_reg(index, r);
        }
        if (first_regs_saved[index])
                microkit_vcpu_arm_ack_vppi(index, PPI_VTIMER);
        first_regs_saved[index] = true;
}

static int mk_vcpu_create(struct ward_hv_vm *vm, unsigned index, struct ward_hv_vcpu **vcpu,
                          char *err, size_t errlen)
{
        (void)err, (void)errlen;
        vcpu_regs_afresh(index);
        vm->vcpu[index].index = index;
        /* The affinity the guest reads; `ward dtb` wrote the same into the device tree. */
        microkit_vcpu_arm_write_reg(index, seL4_VCPUReg_VMPIDR_EL2, index);
        *vcpu = &vm->vcpu[index];
        return 0;
}

static void mk_vcpu_kick(struct ward_hv_vcpu *vcpu)
{
        (void)vcpu; /* fault-driven: nothing runs in this PD while it handles a fault */
}

static void mk_vcpu_destroy(struct ward_hv_vcpu *vcpu)
{
        microkit_vcpu_stop(vcpu->index);
}

static int mk_irq_line(struct ward_hv_vm *vm, unsigned line, bool level)
{
        ward_vgic_set_spi(&vm->vgic, 32 + line, level);
        return 0;
}

/*
 * ---- idle vCPUs ----
 *
 * A guest's WFI traps to this PD. Resuming at once would spin: an idle
 * guest took about 7,750 WFI exits a second. Instead the vCPU is parked
 * (its TCB suspended, the fault not answered) until an interrupt is due:
 * one injected for it (a device, an IPI), or its virtual timer's deadline,
 * which the timer PD (src/host/sel4/timer_pd.c) watches while the vCPU
 * cannot run. WFE is never parked: Linux waits in it on spinlocks, woken
 * by SEV, which does not trap.
 */
static bool have_timer;
static microkit_channel timer_ch;
static bool fault_is_wfi; /* the fault being handled is a WFI */

void ward_microkit_use_timer(microkit_channel ch)
{
        timer_ch = ch;
        have_timer = true;
}

static void unpark(unsigned vcpu)
{
        if (vcpu < M.ncpus && parked[vcpu] && online[vcpu] && !paused) {
                parked[vcpu] = false;
                seL4_TCB_Resume(BASE_VM_TCB_CAP + vcpu);
        }
}

void ward_microkit_timer_fired(void)
{
        for (unsigned i = 0; i < M.ncpus; i++)
                unpark(i);
}

/* When vcpu's virtual timer fires, on the physical counter; 0: it cannot. */
static uint64_t vtimer_deadline(unsigned vcpu)
{
        uint64_t ctl = microkit_vcpu_arm_read_reg(vcpu, seL4_VCPUReg_CNTV_CTL);
        if ((ctl & 3) != 1) /* ENABLE set, IMASK clear */
                return 0;
        /* The virtual count is the physical one minus CNTVOFF. */
        uint64_t d = microkit_vcpu_arm_read_reg(vcpu, seL4_VCPUReg_CNTV_CVAL) +
                     microkit_vcpu_arm_read_reg(vcpu, seL4_VCPUReg_CNTVOFF);
        return d ? d : 1;
}

/* Asks the timer PD for a wake-up at d (0: none); true if d has passed already. */
static bool timer_request(uint64_t d)
{
        microkit_mr_set(0, d);
        microkit_msginfo r = microkit_ppcall(timer_ch, microkit_msginfo_new(0, 1));
        return microkit_msginfo_get_label(r) == 0 && microkit_mr_get(0) == 1;
}

uint64_t ward_microkit_now(void)
{
        uint64_t v;
        __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
        return v;
}

uint64_t ward_microkit_ticks(uint64_t ms)
{
        uint64_t hz;
        __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
        return ms * (hz / 1000);
}

bool ward_microkit_wake_at(uint64_t deadline)
{
        return !have_timer || timer_request(deadline ? deadline : 1);
}

/*
 * Parks vcpu, whose WFI was just handled (its registers are written back),
 * unless an interrupt is due for it: one still in its list registers, or a
 * timer deadline that has passed. True when it is parked.
 */
static bool park(unsigned vcpu)
{
        for (unsigned lr = 0; lr < GIC_LIST_REGS; lr++)
                if (M.list_reg[vcpu][lr])
                        return false;
        uint64_t soonest = vtimer_deadline(vcpu);
        if (soonest && !have_timer)
                return false; /* nobody would wake it */
        for (unsigned i = 0; i < M.ncpus; i++) {
                if (!parked[i])
                        continue;
                uint64_t d = vtimer_deadline(i);
                if (d && (!soonest || d < soonest))
                        soonest = d;
        }
        if (have_timer && timer_request(soonest)) {
                ward_microkit_timer_fired(); /* the others' deadlines may be the ones passed */
                return false;
        }
        parked[vcpu] = true;
        seL4_TCB_Suspend(BASE_VM_TCB_CAP + vcpu);
        ward_mk_count(EXIT_PARKED);
        return true;
}

static bool inject(void *opaque, unsigned vcpu, unsigned irq, uint8_t priority)
{
        struct ward_hv_vm *vm = opaque;
        for (unsigned lr = 0; lr < GIC_LIST_REGS; lr++) {
                if (vm->list_reg[vcpu][lr] != 0)
                        continue;
                /* seL4 takes the 5-bit list-register priority. */
                seL4_Error e = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + vcpu, (seL4_Uint16)irq,
                                                       priority >> 3, 0, (seL4_Uint8)lr);
                if (e != seL4_NoError) {
                        /*
                         * seL4 says the register still holds an active
                         * interrupt we no longer count (seen with two vCPUs:
                         * "VGIC List register in use"). Leave it alone until
                         * its maintenance frees it, and try the next one;
                         * with none free the distributor keeps the interrupt
                         * queued. (The Microkit wrapper stopped the PD here.)
                         */
                        vm->list_reg[vcpu][lr] = LR_UNKNOWN;
                        continue;
                }
                vm->list_reg[vcpu][lr] = (uint16_t)irq;
                unpark(vcpu);
                return true;
        }
        return false;
}

/* seL4 gives the guest a GICv2 CPU interface; the distributor is ours. */
static int mk_gic_create(struct ward_hv_vm *vm, struct ward_hv_gic *gic, char *err, size_t errlen)
{
        static const struct ward_vgic_ops ops = {inject};
        if (ward_vgic_init(&vm->vgic, vm->ncpus, &ops, vm)) {
                ward_fmt(err, errlen, "vGIC: %u vCPUs", vm->ncpus);
                return -1;
        }
        gic->gic_version = 2;
        gic->dist_ops = &ward_vgic_dist_ops;
        gic->dist = &vm->vgic;
        gic->dist_emulated_size = WARD_VGIC_DIST_SIZE;
        return 0;
}

static int mk_gic_finalize(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        uint64_t mpidr[WARD_MICROKIT_MAX_VCPUS];
        for (unsigned i = 0; i < vm->ncpus; i++)
                mpidr[i] = i;
        if (ward_psci_init(&vm->psci, vm->ncpus, mpidr, vm->ram_base, vm->ram_size)) {
                ward_fmt(err, errlen, "PSCI: bad vCPU count or RAM");
                return -1;
        }
        return 0;
}

static int mk_set_reg(struct ward_hv_vcpu *vcpu, enum ward_arm64_reg reg, uint64_t val)
{
        seL4_UserContext *c = ctx_of(vcpu->index);
        switch (reg) {
        case WARD_ARM64_REG_PC:
                c->pc = val;
                break;
        case WARD_ARM64_REG_X0:
        case WARD_ARM64_REG_X1:
        case WARD_ARM64_REG_X2:
        case WARD_ARM64_REG_X3:
                ((seL4_Word *)c)[x_index[reg - WARD_ARM64_REG_X0]] = val;
                break;
        case WARD_ARM64_REG_PSTATE:
                c->spsr = val;
                break;
        case WARD_ARM64_REG_MPIDR:
                return -1; /* read only */
        }
        regs[vcpu->index].dirty = true;
        return 0;
}

static int mk_get_reg(struct ward_hv_vcpu *vcpu, enum ward_arm64_reg reg, uint64_t *val)
{
        seL4_UserContext *c = ctx_of(vcpu->index);
        switch (reg) {
        case WARD_ARM64_REG_PC:
                *val = c->pc;
                return 0;
        case WARD_ARM64_REG_X0:
        case WARD_ARM64_REG_X1:
        case WARD_ARM64_REG_X2:
        case WARD_ARM64_REG_X3:
                *val = ((seL4_Word *)c)[x_index[reg - WARD_ARM64_REG_X0]];
                return 0;
        case WARD_ARM64_REG_PSTATE:
                *val = c->spsr;
                return 0;
        case WARD_ARM64_REG_MPIDR:
                *val = vcpu->index;
                return 0;
        }
        return -1;
}

static const struct ward_hv_arm64_ops mk_arm64 = {mk_gic_create, mk_gic_finalize, mk_set_reg,
                                                  mk_get_reg};

const struct ward_hv_ops ward_hv_microkit = {
    .name = "microkit",
    .arch = "arm64",
    .arch_ops = &mk_arm64,
    .vm_create = mk_vm_create,
    .vm_destroy = mk_vm_destroy,
    .map_memory = mk_map_memory,
    .vcpu_create = mk_vcpu_create,
    .vcpu_run = NULL, /* fault-driven */
    .vcpu_kick = mk_vcpu_kick,
    .vcpu_destroy = mk_vcpu_destroy,
    .irq_line = mk_irq_line,
};

/* ---- faults ---- */

/* The guest finished the interrupt in list register lr of vcpu. */
static void maintenance(unsigned vcpu, unsigned lr)
{
        if (vcpu >= M.ncpus || lr >= GIC_LIST_REGS)
                return;
        unsigned irq = M.list_reg[vcpu][lr];
        M.list_reg[vcpu][lr] = 0;
        if (irq == LR_UNKNOWN)
                return; /* free again; nothing of ours to complete */
        if (irq == PPI_VTIMER) {
                /* seL4 masks the timer until acked; its line is low until it fires again. */
                ward_vgic_set_ppi(&M.vgic, vcpu, irq, false);
                microkit_vcpu_arm_ack_vppi(vcpu, irq);
        }
        ward_vgic_eoi(&M.vgic, vcpu, irq);
}

void ward_microkit_start(unsigned vcpu)
{
        flush_regs(vcpu, true);
}

void ward_microkit_count_notified(microkit_channel ch)
{
        ward_mk_count_notified(ch);
}

void ward_microkit_stop_all(const char *why)
{
        ward_mk_print_exits(); /* first: the boot check stops QEMU at the line below */
        microkit_dbg_puts("ward: ");
        microkit_dbg_puts(why);
        microkit_dbg_puts("\n");
        for (unsigned i = 0; i < M.ncpus; i++) {
                microkit_vcpu_stop(i);
                online[i] = parked[i] = false;
        }
        paused = false;
        /* A parked vCPU's wake-up is no longer wanted (the back-off asks anew). */
        if (have_timer)
                timer_request(0);
}

/*
 * Pause: every running vCPU is suspended where it is (a vCPU in a fault
 * not yet answered takes it again on resume); a parked one stays parked,
 * and its timer's wake-up waits for the resume. Resume undoes exactly that.
 */
void ward_microkit_pause(void)
{
        if (paused)
                return;
        paused = true;
        for (unsigned i = 0; i < M.ncpus; i++)
                if (online[i] && !parked[i])
                        seL4_TCB_Suspend(BASE_VM_TCB_CAP + i);
}

void ward_microkit_resume(void)
{
        if (!paused)
                return;
        paused = false;
        for (unsigned i = 0; i < M.ncpus; i++)
                if (online[i] && !parked[i])
                        seL4_TCB_Resume(BASE_VM_TCB_CAP + i);
        ward_microkit_timer_fired(); /* a deadline may have passed meanwhile */
}

/* Decodes the fault into a trap result; counts it. */
static void trap(const struct ward_bus *bus, microkit_child child, microkit_msginfo msginfo,
                 struct ward_trap_result *res, uint64_t *vm_fault_addr)
{
        struct ward_arm64_trap_ctx tc = {bus, &M.psci, &M.vgic, &regs_ops, NULL};
        /* Read the fault's message now: seL4 calls below reuse the IPC buffer. */
        seL4_Word label = microkit_msginfo_get_label(msginfo);
        switch (label) {
        case seL4_Fault_VMFault: {
                seL4_Word addr = seL4_GetMR(seL4_VMFault_Addr);
                *vm_fault_addr = addr;
                ward_mk_count(ward_mk_vm_fault_kind(addr, M.ncpus));
                ward_arm64_trap(&tc, child, (uint32_t)seL4_GetMR(seL4_VMFault_FSR), addr, res);
                break;
        }
        case seL4_Fault_VCPUFault: {
                uint32_t esr = (uint32_t)seL4_GetMR(seL4_VCPUFault_HSR);
                ward_mk_count(ward_mk_vcpu_fault_kind(esr));
                /* ISS bit 0 (TI) tells WFE (1) from WFI (0). */
                fault_is_wfi = WARD_ESR_EC(esr) == WARD_ESR_EC_WFX && !(esr & 1);
                ward_arm64_trap(&tc, child, esr, 0, res);
                break;
        }
        case seL4_Fault_VGICMaintenance:
                ward_mk_count(EXIT_MAINTENANCE);
                maintenance(child, (unsigned)seL4_GetMR(seL4_VGICMaintenance_IDX));
                break;
        case seL4_Fault_VPPIEvent:
                ward_mk_count(EXIT_VPPI);
                ward_vgic_set_ppi(&M.vgic, child, (unsigned)seL4_GetMR(seL4_VPPIEvent_IRQ), true);
                break;
        default:
                ward_mk_puts_hex("ward: unexpected fault label ", label);
                res->outcome = WARD_TRAP_FATAL;
                res->reason = "unexpected fault";
                break;
        }
}

enum ward_microkit_fault_result ward_microkit_fault(const struct ward_bus *bus,
                                                    microkit_child child, microkit_msginfo msginfo,
                                                    struct ward_hv_exit *ex)
{
        struct ward_trap_result res = {.outcome = WARD_TRAP_RESUME};
        ex->addr = WARD_MICROKIT_NO_ADDR;
        fault_is_wfi = false;
        if (child >= M.ncpus) {
                res.outcome = WARD_TRAP_FATAL;
                res.reason = "fault from an unknown vCPU";
        } else {
                trap(bus, child, msginfo, &res, &ex->addr);
        }
        switch (res.outcome) {
        case WARD_TRAP_RESUME:
                flush_regs(child, false);
                return WARD_MICROKIT_RESUME;
        case WARD_TRAP_WAIT:
                flush_regs(child, false);
                return fault_is_wfi && park(child) ? WARD_MICROKIT_PARKED : WARD_MICROKIT_RESUME;
        case WARD_TRAP_CPU_ON:
                /* PSCI set PC and x0; the new vCPU starts in EL1h, interrupts masked. */
                ctx_of(res.target)->spsr = WARD_ARM64_BOOT_PSTATE;
                flush_regs(child, false);
                flush_regs(res.target, true);
                return WARD_MICROKIT_RESUME;
        case WARD_TRAP_CPU_OFF:
                regs[child].valid = regs[child].dirty = false;
                online[child] = false;
                microkit_vcpu_stop(child);
                return WARD_MICROKIT_VCPU_DOWN;
        case WARD_TRAP_SYSTEM_OFF:
                ex->kind = WARD_HV_EXIT_SHUTDOWN;
                return WARD_MICROKIT_EXIT;
        case WARD_TRAP_SYSTEM_RESET:
                ex->kind = WARD_HV_EXIT_RESET;
                return WARD_MICROKIT_EXIT;
        case WARD_TRAP_FATAL:
                break;
        }
        ex->kind = WARD_HV_EXIT_ERROR;
        ex->pc = child < M.ncpus ? get_pc(NULL, child) : 0;
        ward_fmt(ex->reason, sizeof(ex->reason), "%s", res.reason ? res.reason : "fatal trap");
        return WARD_MICROKIT_EXIT;
}
