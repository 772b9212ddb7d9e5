/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding of the exception syndrome (ESR_EL2) of a trapped guest
 * instruction, for hypervisors that hand the raw syndrome to the VMM
 * (seL4's VM and VCPU faults; KVM decodes MMIO itself). Decode first, act
 * second: ward_arm64_esr_decode() only classifies and validates, it
 * never touches guest state.
 */
#ifndef WARD_ARM64_ESR_H
#define WARD_ARM64_ESR_H

#include "ward/util/util.h"

/* Exception classes (ARM DDI 0487, ESR_ELx.EC) that a VMM handles. */
#define WARD_ESR_EC(esr) (((esr) >> 26) & 0x3f) /* the exception class */
#define WARD_ESR_EC_WFX 0x01
#define WARD_ESR_EC_HVC64 0x16
#define WARD_ESR_EC_SMC64 0x17
#define WARD_ESR_EC_SYS64 0x18
#define WARD_ESR_EC_IABT_LOW 0x20
#define WARD_ESR_EC_DABT_LOW 0x24

enum ward_esr_kind {
        WARD_ESR_MMIO,      /* data abort with a valid syndrome: emulate the access */
        WARD_ESR_MMIO_NISV, /* data abort without syndrome (ISV clear): cannot emulate */
        WARD_ESR_WFI,
        WARD_ESR_WFE,
        WARD_ESR_HVC,
        WARD_ESR_SMC,
        WARD_ESR_SYSREG,
        WARD_ESR_IABT, /* instruction fetch from an unmapped guest address */
        WARD_ESR_UNKNOWN,
};

struct ward_esr {
        enum ward_esr_kind kind;
        uint32_t ec;
        /* MMIO */
        bool is_write;
        unsigned size;    /* bytes: 1, 2, 4 or 8 */
        unsigned reg;     /* Xt, 0..30; 31 is XZR (reads discarded, writes 0) */
        bool sign_extend; /* SSE: sign-extend a load to the register width */
        bool reg64;       /* SF: the register is 64-bit (else 32, upper bits zero) */
        bool s1ptw;       /* the fault was on a stage-1 page-table walk */
        /* HVC/SMC */
        uint16_t imm16;
        bool il32; /* IL: 32-bit instruction (advance the PC by 4, else 2) */
};

void ward_arm64_esr_decode(uint32_t esr, struct ward_esr *out);

/*
 * The value a load of `raw` (the device's little-endian bytes in the low
 * `size` bytes) leaves in the register, after sign extension and the 32-bit
 * register truncation the syndrome asks for.
 */
uint64_t ward_arm64_mmio_load_value(const struct ward_esr *e, uint64_t raw);
/* The bytes a store writes, from the register's value (XZR gives 0). */
uint64_t ward_arm64_mmio_store_value(const struct ward_esr *e, uint64_t reg_value);

#endif
