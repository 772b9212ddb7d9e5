/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_trap.h"

#include "ward/arch/arm64/arm64_esr.h"

#define INSN_BYTES 4 /* AArch64 instructions; a 16-bit one would be AArch32 */

static void skip_insn(const struct ward_arm64_trap_ctx *c, unsigned vcpu)
{
        c->regs->set_pc(c->opaque, vcpu, c->regs->get_pc(c->opaque, vcpu) + INSN_BYTES);
}

static void fatal(struct ward_trap_result *res, const char *why)
{
        res->outcome = WARD_TRAP_FATAL;
        res->reason = why;
}

static void mmio(const struct ward_arm64_trap_ctx *c, unsigned vcpu, const struct ward_esr *e,
                 uint64_t addr, struct ward_trap_result *res)
{
        uint8_t data[8] = {0};
        if (c->vgic)
                c->vgic->current_cpu = vcpu; /* banked distributor registers */
        if (e->is_write) {
                uint64_t v = ward_arm64_mmio_store_value(
                    e, e->reg == 31 ? 0 : c->regs->get_x(c->opaque, vcpu, e->reg));
                ward_store_len(data, v, e->size);
                if (ward_bus_access(c->bus, addr, true, data, e->size) == WARD_BUS_BAD_ACCESS) {
                        fatal(res, "MMIO write straddles a device window");
                        return;
                }
        } else {
                if (ward_bus_access(c->bus, addr, false, data, e->size) == WARD_BUS_BAD_ACCESS) {
                        fatal(res, "MMIO read straddles a device window");
                        return;
                }
                uint64_t v = ward_arm64_mmio_load_value(e, ward_load_len(data, e->size));
                if (e->reg != 31)
                        c->regs->set_x(c->opaque, vcpu, e->reg, v);
        }
        /* Unmapped addresses read as zero and ignore writes, as on KVM. */
        skip_insn(c, vcpu);
        res->outcome = WARD_TRAP_RESUME;
}

static void psci(const struct ward_arm64_trap_ctx *c, unsigned vcpu, bool is_smc,
                 struct ward_trap_result *res)
{
        uint64_t x[4];
        for (unsigned i = 0; i < 4; i++)
                x[i] = c->regs->get_x(c->opaque, vcpu, i);
        struct ward_psci_action act;
        int64_t ret = ward_psci_call(c->psci, vcpu, x, &act);
        /*
         * HVC returns to the next instruction by itself; a trapped SMC
         * returns to the SMC, so the VMM steps over it.
         */
        if (is_smc)
                skip_insn(c, vcpu);
        res->outcome = WARD_TRAP_RESUME;
        switch (act.kind) {
        case WARD_PSCI_ACT_NONE:
                break;
        case WARD_PSCI_ACT_WAIT:
                res->outcome = WARD_TRAP_WAIT;
                break;
        case WARD_PSCI_ACT_CPU_ON:
                /* The started vCPU gets its context ID in x0 (PSCI CPU_ON). */
                c->regs->set_x(c->opaque, act.target, 0, act.context);
                c->regs->set_pc(c->opaque, act.target, act.entry);
                res->outcome = WARD_TRAP_CPU_ON;
                res->target = act.target;
                res->entry = act.entry;
                break;
        case WARD_PSCI_ACT_CPU_OFF:
                res->outcome = WARD_TRAP_CPU_OFF;
                return; /* no return value: the caller is gone */
        case WARD_PSCI_ACT_SYSTEM_OFF:
                res->outcome = WARD_TRAP_SYSTEM_OFF;
                return;
        case WARD_PSCI_ACT_SYSTEM_RESET:
                res->outcome = WARD_TRAP_SYSTEM_RESET;
                return;
        }
        c->regs->set_x(c->opaque, vcpu, 0, (uint64_t)ret);
}

void ward_arm64_trap(const struct ward_arm64_trap_ctx *ctx, unsigned vcpu, uint32_t esr,
                     uint64_t fault_addr, struct ward_trap_result *res)
{
        struct ward_esr e;
        memset(res, 0, sizeof(*res));
        ward_arm64_esr_decode(esr, &e);
        switch (e.kind) {
        case WARD_ESR_MMIO:
                mmio(ctx, vcpu, &e, fault_addr, res);
                return;
        case WARD_ESR_MMIO_NISV:
                fatal(res, "data abort without a valid syndrome (cannot emulate the access)");
                return;
        case WARD_ESR_WFI:
        case WARD_ESR_WFE:
                skip_insn(ctx, vcpu);
                res->outcome = WARD_TRAP_WAIT;
                return;
        case WARD_ESR_HVC:
        case WARD_ESR_SMC:
                if (!ctx->psci) {
                        fatal(res, "HVC/SMC but no PSCI");
                        return;
                }
                psci(ctx, vcpu, e.kind == WARD_ESR_SMC, res);
                return;
        case WARD_ESR_IABT:
                fatal(res, "instruction fetch from outside guest RAM");
                return;
        case WARD_ESR_SYSREG:
                fatal(res, "trapped system register access");
                return;
        case WARD_ESR_UNKNOWN:
                break;
        }
        fatal(res, "unknown exception class");
}
