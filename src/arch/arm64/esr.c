/* SPDX-License-Identifier: BSD-2-Clause */
#include "ward/arch/arm64/arm64_esr.h"

#define ESR_IL (1u << 25)
#define ISS_ISV (1u << 24)
#define ISS_SAS(esr) (((esr) >> 22) & 3)
#define ISS_SSE (1u << 21)
#define ISS_SRT(esr) (((esr) >> 16) & 0x1f)
#define ISS_SF (1u << 15)
#define ISS_S1PTW (1u << 7)
#define ISS_WNR (1u << 6)
#define ISS_WFX_TI 1u /* 0: WFI, 1: WFE (TI[1] adds WFIT/WFET, treated alike) */

void ward_arm64_esr_decode(uint32_t esr, struct ward_esr *out)
{
        memset(out, 0, sizeof(*out));
        out->ec = WARD_ESR_EC(esr);
        out->il32 = esr & ESR_IL;
        switch (out->ec) {
        case WARD_ESR_EC_DABT_LOW:
                out->s1ptw = esr & ISS_S1PTW;
                /*
                 * Without ISV the syndrome does not say which register or
                 * size (e.g. load/store pair, writeback): the instruction
                 * would have to be fetched and decoded. A page-table walk
                 * fault is not a device access either.
                 */
                if (!(esr & ISS_ISV) || out->s1ptw) {
                        out->kind = WARD_ESR_MMIO_NISV;
                        return;
                }
                out->kind = WARD_ESR_MMIO;
                out->is_write = esr & ISS_WNR;
                out->size = 1u << ISS_SAS(esr);
                out->reg = ISS_SRT(esr);
                out->sign_extend = esr & ISS_SSE;
                out->reg64 = esr & ISS_SF;
                return;
        case WARD_ESR_EC_WFX:
                out->kind = (esr & ISS_WFX_TI) ? WARD_ESR_WFE : WARD_ESR_WFI;
                return;
        case WARD_ESR_EC_HVC64:
                out->kind = WARD_ESR_HVC;
                out->imm16 = (uint16_t)esr;
                return;
        case WARD_ESR_EC_SMC64:
                out->kind = WARD_ESR_SMC;
                out->imm16 = (uint16_t)esr;
                return;
        case WARD_ESR_EC_SYS64:
                out->kind = WARD_ESR_SYSREG;
                return;
        case WARD_ESR_EC_IABT_LOW:
                out->kind = WARD_ESR_IABT;
                return;
        default:
                out->kind = WARD_ESR_UNKNOWN;
                return;
        }
}

static uint64_t size_mask(unsigned size)
{
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t ward_arm64_mmio_load_value(const struct ward_esr *e, uint64_t raw)
{
        uint64_t v = raw & size_mask(e->size);
        if (e->sign_extend && e->size < 8) {
                uint64_t sign = 1ull << (8 * e->size - 1);
                v = (v ^ sign) - sign; /* two's-complement sign extension */
        }
        if (!e->reg64)
                v &= 0xffffffffull;
        return v;
}

uint64_t ward_arm64_mmio_store_value(const struct ward_esr *e, uint64_t reg_value)
{
        if (e->reg == 31)
                return 0; /* XZR */
        return reg_value & size_mask(e->size);
}
