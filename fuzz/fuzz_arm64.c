/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The arm64 trap path: the input is a run of guest exits, each a vCPU, a
 * syndrome (ESR: data aborts of every width and register, HVC/SMC for PSCI,
 * WFI, system registers, anything), a fault address and the vCPU's
 * registers. Behind the bus are the GICv2 distributor and a plain device;
 * between exits, device lines and EOIs change the vGIC's state.
 */
#include "fuzz_input.h"

#include "ward/arch/arm64/arm64_trap.h"

#define NCPU 4
#define GICD_BASE 0x08000000ull
#define DEV_BASE 0x0a000000ull

static uint64_t x[NCPU][31], pc[NCPU];

static uint64_t get_x(void *o, unsigned v, unsigned r)
{
        (void)o;
        return v < NCPU && r < 31 ? x[v][r] : 0;
}
static void set_x(void *o, unsigned v, unsigned r, uint64_t val)
{
        (void)o;
        if (v >= NCPU || r >= 31)
                __builtin_trap(); /* the decoder gave a register that does not exist */
        x[v][r] = val;
}
static uint64_t get_pc(void *o, unsigned v)
{
        (void)o;
        return pc[v % NCPU];
}
static void set_pc(void *o, unsigned v, uint64_t val)
{
        (void)o;
        pc[v % NCPU] = val;
}
static const struct ward_arm64_regs_ops regs_ops = {get_x, set_x, get_pc, set_pc};

static uint64_t dev_value;
static void dev_read(void *d, uint64_t off, void *data, unsigned len)
{
        (void)d;
        (void)off;
        if (len == 0 || len > 8)
                __builtin_trap();
        ward_store_len(data, dev_value, len);
}
static void dev_write(void *d, uint64_t off, const void *data, unsigned len)
{
        (void)d;
        (void)off;
        if (len == 0 || len > 8)
                __builtin_trap();
        dev_value = ward_load_len(data, len);
}
static const struct ward_mmio_ops dev_ops = {dev_read, dev_write};

static unsigned taken;
static bool inject(void *opaque, unsigned vcpu, unsigned irq, uint8_t prio)
{
        (void)opaque;
        (void)prio;
        if (vcpu >= NCPU || irq >= WARD_VGIC_NR_IRQS)
                __builtin_trap();
        return (++taken & 3) != 0; /* list registers run out now and then */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_in in = {data, size};
        struct ward_bus bus;
        struct ward_bus_window win[2];
        struct ward_vgic vgic;
        struct ward_psci psci;
        static const struct ward_vgic_ops vops = {inject};
        const uint64_t mpidr[NCPU] = {0, 1, 2, 3};
        ward_bus_init(&bus, win, 2);
        if (ward_vgic_init(&vgic, NCPU, &vops, NULL) != WARD_OK ||
            ward_bus_register(&bus, GICD_BASE, WARD_VGIC_DIST_SIZE, &ward_vgic_dist_ops, &vgic) ||
            ward_bus_register(&bus, DEV_BASE, 0x1000, &dev_ops, NULL) ||
            ward_psci_init(&psci, NCPU, mpidr, 0x40000000, 0x10000000) != WARD_OK)
                __builtin_trap();
        struct ward_arm64_trap_ctx ctx = {&bus, &psci, fuzz_u8(&in) & 1 ? &vgic : NULL, &regs_ops,
                                          NULL};
        memset(x, 0, sizeof(x));
        memset(pc, 0, sizeof(pc));
        for (unsigned steps = 0; in.left && steps < 128; steps++) {
                uint8_t op = fuzz_u8(&in);
                unsigned vcpu = (op >> 4) % NCPU;
                switch (op & 3) {
                case 0: { /* an exit */
                        for (unsigned r = 0; r < 4; r++)
                                x[vcpu][r] = fuzz_u64(&in);
                        x[vcpu][fuzz_u8(&in) % 31] = fuzz_u64(&in);
                        uint32_t esr = fuzz_u32(&in);
                        uint64_t addr = fuzz_u8(&in) & 1 ? GICD_BASE + fuzz_u16(&in) % 0x1100
                                                         : DEV_BASE - 8 + fuzz_u16(&in) % 0x1010;
                        struct ward_trap_result res;
                        vgic.current_cpu = vcpu;
                        ward_arm64_trap(&ctx, vcpu, esr, addr, &res);
                        if (res.outcome == WARD_TRAP_CPU_ON && res.target >= NCPU)
                                __builtin_trap();
                        if (res.outcome == WARD_TRAP_CPU_OFF)
                                ward_psci_cpu_stopped(&psci, vcpu);
                        break;
                }
                case 1:
                        ward_vgic_set_spi(&vgic, fuzz_u8(&in), fuzz_u8(&in) & 1);
                        break;
                case 2:
                        ward_vgic_set_ppi(&vgic, vcpu, fuzz_u8(&in), fuzz_u8(&in) & 1);
                        break;
                default:
                        ward_vgic_eoi(&vgic, vcpu, fuzz_u16(&in));
                        break;
                }
        }
        return 0;
}
