/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Declarations of the few Microkit and seL4 names that ward's seL4 code
 * uses, so that CI (which has no SDK) can type-check src/hv/microkit and
 * src/host/sel4 (tests/check-sel4-types). They follow the Microkit 2.0.1
 * SDK for qemu_virt_aarch64, whose headers are the authority: the real
 * build (platforms/sel4) never sees this file. Values are placeholders
 * except where the code depends on them.
 */
#ifndef WARD_SEL4_STUBS_MICROKIT_H
#define WARD_SEL4_STUBS_MICROKIT_H

#include <stdint.h>

typedef uint64_t seL4_Word;
typedef uint8_t seL4_Uint8;
typedef uint16_t seL4_Uint16;
typedef uint32_t seL4_Uint32;
typedef int seL4_Bool;
#define seL4_True 1
#define seL4_False 0
typedef struct {
        seL4_Word words[1];
} seL4_MessageInfo_t;

/* Field order matters: the VMM maps x0..x30 by offsetof. */
typedef struct seL4_UserContext_ {
        seL4_Word pc, sp, spsr, x0, x1, x2, x3, x4, x5, x6, x7, x8, x16, x17, x18, x29, x30;
        seL4_Word x9, x10, x11, x12, x13, x14, x15, x19, x20, x21, x22, x23, x24, x25, x26, x27,
            x28;
        seL4_Word tpidr_el0, tpidrro_el0;
} seL4_UserContext;

enum {
        seL4_Fault_VMFault = 6,
        seL4_Fault_VGICMaintenance = 7,
        seL4_Fault_VCPUFault = 8,
        seL4_Fault_VPPIEvent = 9,
};
enum { seL4_VMFault_IP, seL4_VMFault_Addr, seL4_VMFault_PrefetchFault, seL4_VMFault_FSR };
enum { seL4_VGICMaintenance_IDX };
enum { seL4_VPPIEvent_IRQ };
enum { seL4_VCPUFault_HSR };
enum {
        seL4_VCPUReg_VMPIDR_EL2 = 18,
        seL4_VCPUReg_CNTV_CTL = 27,
        seL4_VCPUReg_CNTV_CVAL = 28,
        seL4_VCPUReg_CNTVOFF = 29,
        seL4_VCPUReg_CNTKCTL_EL1 = 30,
        seL4_VCPUReg_Num = 31,
};

seL4_Word seL4_GetMR(int i);
void seL4_SetMR(int i, seL4_Word mr);
long seL4_TCB_Suspend(seL4_Word tcb);
long seL4_TCB_Resume(seL4_Word tcb);
long seL4_TCB_ReadRegisters(seL4_Word tcb, seL4_Bool suspend, seL4_Uint8 flags, seL4_Word count,
                            seL4_UserContext *regs);
long seL4_TCB_WriteRegisters(seL4_Word tcb, seL4_Bool resume, seL4_Uint8 flags, seL4_Word count,
                             seL4_UserContext *regs);

typedef unsigned int microkit_channel;
typedef unsigned int microkit_child;
typedef seL4_MessageInfo_t microkit_msginfo;
#define BASE_VM_TCB_CAP 266
#define BASE_VCPU_CAP 330
typedef seL4_Word seL4_ARM_VCPU;
typedef int seL4_Error;
enum { seL4_NoError = 0 };
seL4_Error seL4_ARM_VCPU_InjectIRQ(seL4_ARM_VCPU vcpu, seL4_Uint16 virq, seL4_Uint8 priority,
                                   seL4_Uint8 group, seL4_Uint8 index);

void init(void);
void notified(microkit_channel ch);
seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo);
microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo);

void microkit_dbg_puts(const char *s);
void microkit_notify(microkit_channel ch);
void microkit_irq_ack(microkit_channel ch);
microkit_msginfo microkit_ppcall(microkit_channel ch, microkit_msginfo msginfo);
void microkit_mr_set(seL4_Uint8 mr, seL4_Word value);
seL4_Word microkit_mr_get(seL4_Uint8 mr);
microkit_msginfo microkit_msginfo_new(seL4_Word label, seL4_Uint16 count);
seL4_Word microkit_msginfo_get_label(microkit_msginfo msginfo);
void microkit_vcpu_stop(microkit_child vcpu);
void microkit_vcpu_arm_inject_irq(microkit_child vcpu, seL4_Uint16 irq, seL4_Uint8 priority,
                                  seL4_Uint8 group, seL4_Uint8 index);
void microkit_vcpu_arm_ack_vppi(microkit_child vcpu, seL4_Word irq);
void microkit_vcpu_arm_write_reg(microkit_child vcpu, seL4_Word reg, seL4_Word value);
seL4_Word microkit_vcpu_arm_read_reg(microkit_child vcpu, seL4_Word reg);

#endif
