/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The KVM backend, its arm64 part: PSCI 0.2 and the preferred vCPU target,
 * the in-kernel vGIC (v3 first, then v2), the architected timer (KVM's),
 * core registers through ONE_REG, and SPI numbering for KVM_IRQ_LINE.
 */
#include "kvm_internal.h"
#include "ward/hv/hv_arm64.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct ward_kvm_arch {
        int gic_fd;
        int gic_version;
        struct kvm_vcpu_init init;
};

#define CORE_REG(name)                                                                             \
        (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |                                     \
         (offsetof(struct kvm_regs, name) / sizeof(__u32)))
#define MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

const char ward_kvm_arch_name[] = "arm64";

int ward_kvm_arch_vm_init(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        static const struct {
                long cap;
                const char *name;
        } needed[] = {
            {KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2"},
            {KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG"},
            {KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL"},
        };
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
                if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
                        snprintf(err, errlen, "/dev/kvm lacks %s", needed[i].name);
                        return -1;
                }
        }
        vm->arch = calloc(1, sizeof(*vm->arch));
        if (!vm->arch) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        vm->arch->gic_fd = -1;
        if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &vm->arch->init) < 0) {
                snprintf(err, errlen, "KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
                return -1;
        }
        return 0;
}

void ward_kvm_arch_vm_destroy(struct ward_hv_vm *vm)
{
        if (vm->arch && vm->arch->gic_fd >= 0)
                close(vm->arch->gic_fd);
        free(vm->arch);
        vm->arch = NULL;
}

int ward_kvm_arch_vcpu_init(struct ward_hv_vcpu *v, char *err, size_t errlen)
{
        struct kvm_vcpu_init init = v->vm->arch->init;
        init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
        if (v->index > 0)
                init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF; /* until PSCI CPU_ON */
        if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
                snprintf(err, errlen, "KVM_ARM_VCPU_INIT %u: %s", v->index, strerror(errno));
                return -1;
        }
        return 0;
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, void *val)
{
        struct kvm_device_attr a = {
            .group = group,
            .attr = attr,
            .addr = (uint64_t)(uintptr_t)val,
        };
        return ioctl(fd, KVM_SET_DEVICE_ATTR, &a);
}

static int try_gic(struct ward_hv_vm *vm, struct ward_hv_gic *chip, int version)
{
        struct kvm_create_device cd = {
            .type = version == 3 ? KVM_DEV_TYPE_ARM_VGIC_V3 : KVM_DEV_TYPE_ARM_VGIC_V2,
        };
        if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
                return -1;
        int fd = (int)cd.fd;
        uint64_t dist = chip->dist_base;
        int rc;
        if (version == 3) {
                uint64_t redist = chip->redist_base;
                rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
                if (!rc)
                        rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST,
                                      &redist);
        } else {
                uint64_t cpu = chip->cpu_base;
                rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
                if (!rc)
                        rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU,
                                      &cpu);
        }
        uint32_t nr = chip->nr_irqs;
        if (!rc)
                rc = gic_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr);
        if (rc) {
                close(fd);
                return -1;
        }
        vm->arch->gic_fd = fd;
        vm->arch->gic_version = version;
        chip->gic_version = version;
        return 0;
}

static int kvm_irqchip_create(struct ward_hv_vm *vm, struct ward_hv_gic *chip, char *err,
                              size_t errlen)
{
        if (try_gic(vm, chip, 3) == 0 || try_gic(vm, chip, 2) == 0)
                return 0;
        snprintf(err, errlen, "KVM cannot create an in-kernel GICv3 or GICv2: %s", strerror(errno));
        return -1;
}

static int kvm_irqchip_finalize(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        if (gic_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
                     NULL)) {
                snprintf(err, errlen, "vGIC init: %s", strerror(errno));
                return -1;
        }
        return 0;
}

static uint64_t reg_id(enum ward_arm64_reg reg)
{
        switch (reg) {
        case WARD_ARM64_REG_PC:
                return CORE_REG(regs.pc);
        case WARD_ARM64_REG_X0:
                return CORE_REG(regs.regs[0]);
        case WARD_ARM64_REG_X1:
                return CORE_REG(regs.regs[1]);
        case WARD_ARM64_REG_X2:
                return CORE_REG(regs.regs[2]);
        case WARD_ARM64_REG_X3:
                return CORE_REG(regs.regs[3]);
        case WARD_ARM64_REG_PSTATE:
                return CORE_REG(regs.pstate);
        case WARD_ARM64_REG_MPIDR:
                return MPIDR_EL1;
        }
        return 0;
}

static int kvm_set_reg(struct ward_hv_vcpu *v, enum ward_arm64_reg reg, uint64_t val)
{
        struct kvm_one_reg r = {.id = reg_id(reg), .addr = (uint64_t)(uintptr_t)&val};
        return ioctl(v->fd, KVM_SET_ONE_REG, &r) < 0 ? -1 : 0;
}

static int kvm_get_reg(struct ward_hv_vcpu *v, enum ward_arm64_reg reg, uint64_t *val)
{
        struct kvm_one_reg r = {.id = reg_id(reg), .addr = (uint64_t)(uintptr_t)val};
        return ioctl(v->fd, KVM_GET_ONE_REG, &r) < 0 ? -1 : 0;
}

uint64_t ward_kvm_arch_pc(struct ward_hv_vcpu *v)
{
        uint64_t pc = 0;
        kvm_get_reg(v, WARD_ARM64_REG_PC, &pc);
        return pc;
}

int ward_kvm_arch_irq_line(struct ward_hv_vm *vm, unsigned spi, bool level)
{
        struct kvm_irq_level l = {
            .irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (spi + 32),
            .level = level,
        };
        return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -1 : 0;
}

/* The seam's arm64 extension; ward_hv_arm64() reads it as its first member. */
struct ward_kvm_arch_ext {
        struct ward_hv_arm64_ops ops;
};

const struct ward_kvm_arch_ext ward_kvm_arch_ext = {{
    .gic_create = kvm_irqchip_create,
    .gic_finalize = kvm_irqchip_finalize,
    .set_reg = kvm_set_reg,
    .get_reg = kvm_get_reg,
}};
