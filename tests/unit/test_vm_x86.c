/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM core's x86_64 part (src/arch/x86_64/vm_x86_64.c, platform.c,
 * src/vm/vm.c) against a fake x86_64 hypervisor and a fake runner: the
 * board (RAM at 0, the 16550 on port I/O, virtio windows and GSIs), the
 * in-kernel irqchip and per-vCPU CPUID, the ACPI power ports, the bzImage
 * boot (kernel, initrd, command line, zero page, e820, RSDP, registers),
 * the errors each step reports, and picking the arch by hv->arch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/hv/hv_x86_64.h"
#include "ward/vm/vm.h"
#include "ward/vm/vm_arch.h"

#include "fake_runner.h"

#define MiB (1ull << 20)
#define RAM_BYTES (256 * MiB)
#define MAX_CPUID 256u

/* ---- the fake hypervisor: records what the VM core asks of it ---- */

struct ward_hv_vm {
        int unused;
};
struct ward_hv_vcpu {
        unsigned index;
        struct ward_cpuid_entry cpuid[MAX_CPUID];
        unsigned ncpuid;
        unsigned set_cpuid_calls;
        unsigned nvcpu_at_set_cpuid; /* how many vCPUs existed when CPUID was set */
        unsigned set_regs_calls;
        struct ward_x86_boot_regs regs;
};

static struct fake {
        struct ward_hv_vm vm;
        struct ward_hv_vcpu vcpu[8];
        unsigned nvcpu, destroyed_vcpus, vm_create_ncpus;
        bool vm_destroyed;
        struct {
                unsigned slot;
                uint64_t gpa, size;
                unsigned flags;
        } maps[32];
        unsigned nmaps;
        unsigned irqchip_calls;
        int nvcpu_at_irqchip; /* -1: never created */
        struct {
                unsigned line;
                bool level;
        } irq[64];
        unsigned nirq;
        bool fail_set_cpuid;
        struct ward_cpuid_entry offered[16];
        unsigned noffered;
} F;

static int f_vm_create(struct ward_hv_vm **vm, unsigned ncpus, char *err, size_t errlen)
{
        (void)err, (void)errlen;
        F.vm_create_ncpus = ncpus;
        *vm = &F.vm;
        return 0;
}
static void f_vm_destroy(struct ward_hv_vm *vm)
{
        (void)vm;
        F.vm_destroyed = true;
}
static int f_map(struct ward_hv_vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
                 unsigned flags, char *err, size_t errlen)
{
        (void)vm, (void)hva, (void)err, (void)errlen;
        F.maps[F.nmaps].slot = slot;
        F.maps[F.nmaps].gpa = gpa;
        F.maps[F.nmaps].size = size;
        F.maps[F.nmaps++].flags = flags;
        return 0;
}
static int f_vcpu_create(struct ward_hv_vm *vm, unsigned index, struct ward_hv_vcpu **v, char *err,
                         size_t errlen)
{
        (void)vm, (void)err, (void)errlen;
        F.vcpu[index].index = index;
        *v = &F.vcpu[index];
        F.nvcpu++;
        return 0;
}
static void f_vcpu_destroy(struct ward_hv_vcpu *v)
{
        (void)v;
        F.destroyed_vcpus++;
}
static void f_kick(struct ward_hv_vcpu *v)
{
        (void)v;
}
static int f_irq_line(struct ward_hv_vm *vm, unsigned line, bool level)
{
        (void)vm;
        F.irq[F.nirq].line = line;
        F.irq[F.nirq++].level = level;
        return 0;
}
/* Offered, so that the VM core's choice not to queue a port-I/O UART shows. */
static int f_coalesce(struct ward_hv_vm *vm, uint64_t addr, uint64_t size)
{
        (void)vm, (void)addr, (void)size;
        return 0;
}
static void f_drain(struct ward_hv_vm *vm, void (*write)(void *, uint64_t, const void *, unsigned),
                    void *opaque)
{
        (void)vm, (void)write, (void)opaque;
}

static int f_irqchip_create(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        (void)vm, (void)err, (void)errlen;
        F.irqchip_calls++;
        F.nvcpu_at_irqchip = (int)F.nvcpu;
        return 0;
}
static int f_supported_cpuid(struct ward_hv_vm *vm, struct ward_cpuid_entry *e, unsigned room,
                             unsigned *n, char *err, size_t errlen)
{
        (void)vm;
        if (F.noffered > room) {
                snprintf(err, errlen, "fake: no room");
                return -1;
        }
        memcpy(e, F.offered, F.noffered * sizeof(*e));
        *n = F.noffered;
        return 0;
}
static int f_set_cpuid(struct ward_hv_vcpu *v, const struct ward_cpuid_entry *e, unsigned n,
                       char *err, size_t errlen)
{
        if (F.fail_set_cpuid) {
                snprintf(err, errlen, "fake: KVM_SET_CPUID2 refuses");
                return -1;
        }
        assert_true(n <= MAX_CPUID);
        memcpy(v->cpuid, e, n * sizeof(*e));
        v->ncpuid = n;
        v->set_cpuid_calls++;
        v->nvcpu_at_set_cpuid = F.nvcpu;
        return 0;
}
static int f_set_boot_regs(struct ward_hv_vcpu *v, const struct ward_x86_boot_regs *r, char *err,
                           size_t errlen)
{
        (void)err, (void)errlen;
        v->regs = *r;
        v->set_regs_calls++;
        return 0;
}

static const struct ward_hv_x86_64_ops fake_x86 = {f_irqchip_create, f_supported_cpuid, f_set_cpuid,
                                                   f_set_boot_regs};
static const struct ward_hv_ops fake_hv = {
    .name = "fake",
    .arch = "x86_64",
    .arch_ops = &fake_x86,
    .vm_create = f_vm_create,
    .vm_destroy = f_vm_destroy,
    .map_memory = f_map,
    .vcpu_create = f_vcpu_create,
    .vcpu_kick = f_kick,
    .vcpu_destroy = f_vcpu_destroy,
    .irq_line = f_irq_line,
    .mmio_coalesce = f_coalesce,
    .mmio_drain = f_drain,
};

/* A plausible KVM_GET_SUPPORTED_CPUID: what the filter must rewrite is set "wrong" here. */
static void offer_cpuid(void)
{
        static const struct ward_cpuid_entry e[] = {
            /* max leaf 0x1f, "GenuineIntel" */
            {0x0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69},
            /* family 6; EBX says APIC id 0x7f and 0x33 logical CPUs; ECX has MONITOR,
             * no hypervisor bit */
            {0x1, 0, 0, 0x000906ea, 0x7f330800, 0x7ffafbbf | WARD_CPUID_1_ECX_MONITOR, 0xbfebfbff},
            {0x6, 0, 0, 0x4, 0x0, 0x1, 0x0}, /* thermal: hidden */
            /* 7.0: HLE (bit 4) and RTM (bit 11) offered */
            {0x7, 0, WARD_CPUID_SIGNIFICANT_INDEX, 0, 0x029c6fbf, 0x40000000, 0xbc000400},
            {0xb, 0, WARD_CPUID_SIGNIFICANT_INDEX, 1, 2, 0x100, 0x55},
            {0xb, 1, WARD_CPUID_SIGNIFICANT_INDEX, 4, 16, 0x201, 0x55},
            {0xb, 2, WARD_CPUID_SIGNIFICANT_INDEX, 0, 0, 2, 0x55},
            {0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d},
            {0x40000001, 0, 0, 0x1, 0, 0, 0}, /* KVM_FEATURE_CLOCKSOURCE only */
            {0x80000000, 0, 0, 0x80000008, 0, 0, 0},
        };
        memcpy(F.offered, e, sizeof(e));
        F.noffered = sizeof(e) / sizeof(e[0]);
}

static const struct ward_cpuid_entry *cpuid_of(const struct ward_hv_vcpu *v, uint32_t fn,
                                               uint32_t index)
{
        for (unsigned i = 0; i < v->ncpuid; i++)
                if (v->cpuid[i].function == fn && v->cpuid[i].index == index)
                        return &v->cpuid[i];
        fail_msg("vCPU %u has no CPUID leaf 0x%x.%u", v->index, fn, index);
        return NULL;
}

/* ---- the VM under test (the runner is fake_runner.c) ---- */

static struct ward_vm_config base_config(void)
{
        struct ward_vm_config c;
        memset(&c, 0, sizeof(c));
        c.kernel = "bzImage";
        c.mem_bytes = RAM_BYTES;
        c.mem_gpa = 0;
        c.cpus = 2;
        c.console = WARD_CONSOLE_SERIAL;
        return c;
}

static struct ward_vm VM;
static struct ward_vm_config CFG;

static int setup(void **state)
{
        (void)state;
        memset(&F, 0, sizeof(F));
        memset(&R, 0, sizeof(R));
        F.nvcpu_at_irqchip = -1;
        offer_cpuid();
        CFG = base_config();
        memset(&VM, 0, sizeof(VM));
        return 0;
}

static void free_ram(void)
{
        for (unsigned i = 0; i < R.nmem; i++)
                free(R.mem[i]);
        R.nmem = 0;
}

static int teardown(void **state)
{
        (void)state;
        if (VM.host_ops)
                ward_vm_destroy(&VM);
        free_ram();
        return 0;
}

static int create_on(const struct ward_hv_ops *hv, char *err)
{
        err[0] = '\0';
        return ward_vm_create(&VM, &CFG, hv, &fake_runner_ops, NULL, err, 256);
}

static int create(char *err)
{
        return create_on(&fake_hv, err);
}

/* Destroys VM and frees its RAM, for a test that builds more than one VM. */
static void recycle(void)
{
        ward_vm_destroy(&VM);
        free_ram();
        memset(&F.vcpu, 0, sizeof(F.vcpu));
        F.nvcpu = 0;
        F.nmaps = 0;
        memset(R.loads, 0, sizeof(R.loads));
}

static enum ward_vm_event io_write8(uint16_t port, uint8_t v)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_IO, .addr = port, .len = 1};
        ex.is_write = true;
        ex.data[0] = v;
        return ward_vm_exit(&VM, 0, &ex);
}

static uint8_t io_read8(uint16_t port)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_IO, .addr = port, .len = 1};
        memset(ex.data, 0xee, sizeof(ex.data));
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
        return ex.data[0];
}

static uint32_t mmio_read32(uint64_t addr)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_MMIO, .addr = addr, .len = 4};
        memset(ex.data, 0xee, sizeof(ex.data));
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
        return ward_le32(ex.data);
}

static void mmio_write8(uint64_t addr, uint8_t v)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_MMIO, .addr = addr, .len = 1};
        ex.is_write = true;
        ex.data[0] = v;
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
}

/* ---- the board ---- */

static void board_places_ram_uart_and_virtio(void **state)
{
        (void)state;
        char err[256];
        CFG.console = WARD_CONSOLE_VIRTIO;
        CFG.ndisks = 1;
        CFG.rng = true;
        assert_int_equal(create(err), 0);
        assert_string_equal(err, "");
        assert_int_equal(F.vm_create_ncpus, 2);
        assert_int_equal(F.nvcpu, 2);

        /* The boot RAM: asked of the runner as region 0, mapped at 0 in slot 0. */
        assert_int_equal(R.nram, 1);
        assert_int_equal(R.ram[0].i, 0);
        assert_int_equal(R.ram[0].gpa, 0);
        assert_int_equal(R.ram[0].size, RAM_BYTES);
        assert_int_equal(F.nmaps, 1);
        assert_int_equal(F.maps[0].slot, WARD_VM_SLOT_BOOT_RAM);
        assert_int_equal(F.maps[0].gpa, 0);
        assert_int_equal(F.maps[0].size, RAM_BYTES);
        assert_int_equal(F.maps[0].flags, 0);
        assert_int_equal(VM.ram_base, 0);
        assert_int_equal(VM.ram_size, RAM_BYTES);
        assert_non_null(ward_gmem_ptr(&VM.gm, RAM_BYTES - 4096, 4096));
        assert_null(ward_gmem_ptr(&VM.gm, RAM_BYTES, 1));

        /* The 16550 is on the port-I/O bus at COM1, not in the MMIO space. */
        assert_true(VM.uart_at.pio);
        assert_false(VM.coalesced); /* a port-I/O UART is never queued */
        assert_int_equal(io_write8(0x3f8, 'A'), WARD_VM_RUNNING);
        assert_int_equal(R.out_len[0], 1);
        assert_int_equal(R.out[0][0], 'A');
        mmio_write8(0x3f8, 'B');
        assert_int_equal(R.out_len[0], 1);
        assert_int_equal(io_read8(0x3fd) & 0x60, 0x60); /* LSR: THR empty, transmitter empty */
        assert_int_equal(io_read8(0x3f8 + 8), 0);       /* past the UART: nothing */
        /* Its interrupt is GSI 4, a level. */
        F.nirq = 0;
        assert_int_equal(io_write8(0x3f9, 0x02), WARD_VM_RUNNING); /* IER: THR empty */
        assert_true(F.nirq >= 1);
        assert_int_equal(F.irq[F.nirq - 1].line, 4);
        assert_true(F.irq[F.nirq - 1].level);
        assert_int_equal(ward_vm_consoles(&VM), 1); /* the virtio console is console 0 */

        /* virtio: console, disk, entropy at 0xd0000000 + 0x200 * i, GSIs 5, 6, 7. */
        static const uint32_t device_id[] = {3, 2, 4};
        assert_int_equal(VM.ndev, 3);
        for (unsigned i = 0; i < 3; i++) {
                struct ward_vm_dev *d = &VM.dev[i];
                assert_int_equal(d->base, 0xd0000000ull + 0x200 * i);
                assert_int_equal(d->line, 5 + i);
                assert_int_equal(mmio_read32(d->base + 0x000), 0x74726976u); /* "virt" */
                assert_int_equal(mmio_read32(d->base + 0x008), device_id[i]);
                /* Through the port bus, nothing is there. */
                struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_IO, .addr = d->base, .len = 4};
                assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
                assert_int_equal(ward_le32(ex.data), 0);
        }
        assert_int_equal(mmio_read32(0xd0000600), 0); /* no fourth device */
        assert_int_equal(R.backends[WARD_DEVICE_BLOCK], 1);
        assert_int_equal(R.backends[WARD_DEVICE_ENTROPY], 1);
        assert_int_equal(R.backends[WARD_DEVICE_CONSOLE], 0);
        /* The platform the ACPI tables are written from says the same. */
        assert_int_equal(VM.board.x86.nvirtio, 3);
        assert_int_equal(VM.board.x86.virtio[2].gsi, 7);
        assert_false(VM.board.x86.virtio[2].level);

        /* A device's notification is an edge on its GSI. */
        F.nirq = 0;
        struct ward_vm_dev *rng = &VM.dev[2];
        rng->v->irq(rng->v->irq_opaque, true);
        assert_int_equal(F.nirq, 2);
        assert_int_equal(F.irq[0].line, 7);
        assert_true(F.irq[0].level);
        assert_int_equal(F.irq[1].line, 7);
        assert_false(F.irq[1].level);
}

static void serial_console_takes_input_on_port_io(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        assert_int_equal(ward_vm_console_input(&VM, 0, "ok", 2), 2);
        assert_int_equal(io_read8(0x3fd) & 0x01, 0x01); /* LSR: data ready */
        assert_int_equal(io_read8(0x3f8), 'o');
        assert_int_equal(io_read8(0x3f8), 'k');
        assert_int_equal(io_read8(0x3fd) & 0x01, 0);
}

static void extra_ram_gets_its_slot(void **state)
{
        (void)state;
        char err[256];
        CFG.nram = 1;
        CFG.ram[0] = (struct ward_ram_config){0x100000000ull, 64 * MiB};
        assert_int_equal(create(err), 0);
        assert_int_equal(F.nmaps, 2);
        assert_int_equal(F.maps[1].slot, WARD_VM_SLOT_RAM(0));
        assert_int_equal(F.maps[1].gpa, 0x100000000ull);
        assert_int_equal(F.maps[1].size, 64 * MiB);
        assert_int_equal(VM.board.x86.nram_extra, 1);
        assert_non_null(ward_gmem_ptr(&VM.gm, 0x100000000ull + 64 * MiB - 1, 1));
}

static void destroy_releases_everything(void **state)
{
        (void)state;
        char err[256];
        CFG.ndisks = 1;
        CFG.rng = true;
        assert_int_equal(create(err), 0);
        ward_vm_destroy(&VM);
        assert_true(F.vm_destroyed);
        assert_int_equal(F.destroyed_vcpus, 2);
        /* The vCPU table, two device states, and the two CPUID buffers of create. */
        assert_int_equal(R.allocs, 5);
        assert_int_equal(R.frees, R.allocs);
        ward_vm_destroy(&VM); /* twice is harmless */
        assert_int_equal(F.destroyed_vcpus, 2);
}

/* ---- the power ports (the FADT's sleep control, sleep status and reset registers) ---- */

static void power_ports_stop_the_vm(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        /* Zero writes, the status register, and reads change nothing. */
        assert_int_equal(io_write8(0x600, 0), WARD_VM_RUNNING);
        assert_int_equal(io_write8(0x602, 0), WARD_VM_RUNNING);
        assert_int_equal(io_write8(0x601, 0xff), WARD_VM_RUNNING); /* clearing wake status */
        assert_int_equal(io_write8(0x600, 0x14), WARD_VM_RUNNING); /* SLP_TYP without SLP_EN */
        assert_int_equal(io_write8(0x602, 2), WARD_VM_RUNNING);    /* not the reset value */
        assert_int_equal(io_read8(0x600), 0);
        assert_int_equal(io_read8(0x601), 0);
        /* Linux's S5: SLP_TYP 5 | SLP_EN. */
        assert_int_equal(io_write8(0x600, 0x34), WARD_VM_POWEROFF);
        recycle();

        assert_int_equal(create(err), 0);
        assert_int_equal(io_write8(0x600, 0x20), WARD_VM_POWEROFF); /* SLP_EN alone */
        recycle();

        assert_int_equal(create(err), 0);
        assert_int_equal(io_write8(0x602, 1), WARD_VM_REBOOT); /* the FADT's RESET_VALUE */
        recycle();

        /* The keyboard controller: reads "input buffer empty", 0xfe resets. */
        assert_int_equal(create(err), 0);
        assert_int_equal(io_read8(0x64), 0);
        assert_int_equal(io_write8(0x64, 0xd1), WARD_VM_RUNNING);
        assert_int_equal(io_write8(0x64, 0xfe), WARD_VM_REBOOT);
        recycle();

        /* The ports are a fresh VM's own: a new VM runs again. */
        assert_int_equal(create(err), 0);
        assert_int_equal(io_write8(0x3f8, 'x'), WARD_VM_RUNNING);
        assert_int_equal(io_write8(0x603, 0x20), WARD_VM_RUNNING); /* past the ports */
}

static void hypervisor_exits_map_to_events(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_SHUTDOWN};
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_POWEROFF);
        ex.kind = WARD_HV_EXIT_RESET; /* a triple fault */
        assert_int_equal(ward_vm_exit(&VM, 1, &ex), WARD_VM_REBOOT);
        ex.kind = WARD_HV_EXIT_ERROR;
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_FAILED);
        ex.kind = WARD_HV_EXIT_KICKED;
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
}

/* ---- the interrupt controller and CPUID ---- */

static void irqchip_before_vcpus_and_cpuid_per_vcpu(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        assert_int_equal(F.irqchip_calls, 1);
        assert_int_equal(F.nvcpu_at_irqchip, 0); /* before any vCPU */
        for (unsigned i = 0; i < 2; i++) {
                const struct ward_hv_vcpu *v = &F.vcpu[i];
                assert_int_equal(v->set_cpuid_calls, 1);
                assert_int_equal(v->nvcpu_at_set_cpuid, 2); /* once they all exist */
                const struct ward_cpuid_entry *l1 = cpuid_of(v, 0x1, 0);
                assert_int_equal(l1->ebx >> 24, i);          /* initial APIC id */
                assert_int_equal((l1->ebx >> 16) & 0xff, 2); /* logical CPUs */
                assert_int_equal(l1->ebx & 0xffff, 0x0800);  /* the rest kept */
                assert_true(l1->ecx & WARD_CPUID_1_ECX_HYPERVISOR);
                assert_false(l1->ecx & WARD_CPUID_1_ECX_MONITOR);
                assert_int_equal(l1->eax, 0x000906ea);
                /* x2APIC topology: this vCPU's id, 1 thread per core, 2 cores. */
                assert_int_equal(cpuid_of(v, 0xb, 0)->edx, i);
                assert_int_equal(cpuid_of(v, 0xb, 0)->ebx, 1);
                assert_int_equal(cpuid_of(v, 0xb, 1)->edx, i);
                assert_int_equal(cpuid_of(v, 0xb, 1)->ebx, 2);
                assert_int_equal(cpuid_of(v, 0xb, 1)->eax, 1);
                /* Hidden: thermal; TSX. Kept: the vendor. */
                assert_int_equal(cpuid_of(v, 0x6, 0)->eax, 0);
                assert_int_equal(cpuid_of(v, 0x7, 0)->ebx & (1u << 4 | 1u << 11), 0);
                assert_int_equal(cpuid_of(v, 0x0, 0)->ebx, 0x756e6547);
                /* KVM's signature, and kvm-clock on top of what KVM offered. */
                assert_int_equal(cpuid_of(v, 0x40000000, 0)->ebx, 0x4b4d564b);
                assert_int_equal(cpuid_of(v, 0x40000001, 0)->eax,
                                 0x1u | WARD_CPUID_KVM_FEATURE_CLOCKSOURCE2);
        }
        assert_int_equal(F.vcpu[2].set_cpuid_calls, 0);
}

static void cpuid_without_kvm_leaves_gets_them(void **state)
{
        (void)state;
        char err[256];
        F.noffered -= 2; /* a list without 0x40000000/1 */
        F.offered[F.noffered - 1] =
            (struct ward_cpuid_entry){0x80000000, 0, 0, 0x80000008, 0, 0, 0};
        CFG.cpus = 3;
        assert_int_equal(create(err), 0);
        const struct ward_hv_vcpu *v = &F.vcpu[2];
        assert_int_equal(cpuid_of(v, 0x1, 0)->ebx >> 24, 2);
        assert_int_equal(cpuid_of(v, 0x40000000, 0)->eax, 0x40000001);
        assert_int_equal(cpuid_of(v, 0x40000001, 0)->eax, WARD_CPUID_KVM_FEATURE_CLOCKSOURCE2);
}

static void cpuid_failure_is_reported_and_nothing_leaks(void **state)
{
        (void)state;
        char err[256];
        F.fail_set_cpuid = true;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "fake: KVM_SET_CPUID2 refuses");
        assert_int_equal(VM.ndev, 0); /* no device was built */
        ward_vm_destroy(&VM);
        assert_int_equal(R.frees, R.allocs);
}

/* ---- boot ---- */

#define KERNEL_LEN (2 * MiB)
#define INITRD_LEN (1 * MiB)
#define SETUP_SECTS 27u
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512u)
#define INIT_SIZE 0x2000000u
#define PREF 0x1000000u

static uint8_t pattern(uint64_t i)
{
        return (uint8_t)(i * 7 + (i >> 12) + 1);
}

static int f_load(void *host, unsigned which, void *dst, uint64_t len, char *err, size_t errlen)
{
        (void)host, (void)err, (void)errlen;
        R.loads[which]++;
        if (which == 0) {
                assert_int_equal(len, KERNEL_LEN);
                uint8_t *d = dst;
                for (uint64_t i = 0; i < len; i++)
                        d[i] = pattern(i);
        } else {
                memset(dst, 0x11, len);
        }
        return 0;
}

/* A protocol 2.15 setup header (as test_x86_boot.c's good()), for a kernel of init_size bytes. */
static uint8_t HDR[WARD_VM_KERNEL_HEADER];

static void bzimage_header(uint32_t init_size, uint64_t pref, uint32_t align)
{
        uint8_t *h = HDR;
        memset(h, 0, sizeof(HDR));
        h[0x1f1] = SETUP_SECTS;
        ward_put_le16(h + 0x1fe, 0xaa55);
        h[0x200] = 0xeb;
        h[0x201] = 0x6a; /* the header ends at 0x26c */
        memcpy(h + 0x202, "HdrS", 4);
        ward_put_le16(h + 0x206, 0x020f);
        h[0x211] = 0x01;                      /* LOADED_HIGH */
        ward_put_le32(h + 0x22c, 0x7fffffff); /* initrd_addr_max */
        ward_put_le32(h + 0x230, align);      /* kernel_alignment */
        h[0x234] = 1;                         /* relocatable */
        ward_put_le16(h + 0x236, 0x3);        /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
        ward_put_le32(h + 0x238, 2047);       /* cmdline_size */
        ward_put_le64(h + 0x258, pref);       /* pref_address */
        ward_put_le32(h + 0x260, init_size);  /* init_size */
}

static struct ward_vm_images images(uint64_t initrd_len)
{
        return (struct ward_vm_images){HDR, KERNEL_LEN, initrd_len, f_load, NULL, 0, NULL};
}

static const char CMDLINE[] = "console=ttyS0 root=/dev/vda ro quiet";

static void boot_places_kernel_initrd_and_zero_page(void **state)
{
        (void)state;
        char err[256];
        CFG.cmdline = CMDLINE;
        CFG.ndisks = 1;
        CFG.rng = true;
        CFG.console = WARD_CONSOLE_VIRTIO;
        assert_int_equal(create(err), 0);
        bzimage_header(INIT_SIZE, PREF, 0x200000);
        struct ward_vm_images img = images(INITRD_LEN);
        if (ward_vm_boot(&VM, &img, err, sizeof(err)))
                fail_msg("boot: %s", err);
        assert_int_equal(R.loads[0], 1);
        assert_int_equal(R.loads[1], 1);
        const uint8_t *ram = VM.ram;

        /* The boot vCPU enters startup_64 with the zero page in %rsi; the other waits. */
        const struct ward_hv_vcpu *b = &F.vcpu[0];
        assert_int_equal(b->set_regs_calls, 1);
        assert_int_equal(F.vcpu[1].set_regs_calls, 0);
        assert_int_equal(b->regs.rip, PREF + 0x200);
        assert_int_equal(b->regs.rsi, 0x7000);
        assert_int_equal(b->regs.cr3, WARD_X86_BOOT_PML4);
        assert_int_equal(ward_le64(ram + WARD_X86_BOOT_PML4) & ~0xfffull, WARD_X86_BOOT_PDPT);
        /* The identity map covers the entry point: PD entry 8 maps 16 MiB. */
        assert_int_equal(ward_le64(ram + WARD_X86_BOOT_PD + 8 * 8) & ~0x1fffffull, PREF);

        /* The kernel file: its protected-mode part (file offset setup_bytes) at the load address.
         */
        assert_int_equal(ram[PREF], pattern(SETUP_BYTES));
        assert_int_equal(ram[PREF - 1], pattern(SETUP_BYTES - 1));
        assert_int_equal(ram[PREF + 4097], pattern(SETUP_BYTES + 4097));
        assert_int_equal(ram[PREF - SETUP_BYTES], pattern(0));
        assert_int_equal(ram[PREF - SETUP_BYTES + KERNEL_LEN - 1], pattern(KERNEL_LEN - 1));
        assert_int_equal(ram[PREF - SETUP_BYTES + KERNEL_LEN], 0); /* and no further */

        /* The zero page: the image's setup header, and what the loader fills. */
        const uint8_t *zp = ram + 0x7000;
        assert_memory_equal(zp + 0x202, "HdrS", 4);
        assert_int_equal(zp[0x1f1], SETUP_SECTS);
        assert_int_equal(zp[0x210], 0xff); /* type_of_loader */
        assert_int_equal(ward_le32(zp + 0x260), INIT_SIZE);

        /* The command line. */
        uint32_t cmd = ward_le32(zp + 0x228);
        assert_int_equal(cmd, 0x20000);
        assert_int_equal(ward_le32(zp + 0x0c8), 0); /* ext_cmd_line_ptr */
        assert_string_equal((const char *)ram + cmd, CMDLINE);

        /* The initrd: page aligned near the top of RAM, above the kernel's whole area. */
        uint64_t rd = ward_le32(zp + 0x218) | (uint64_t)ward_le32(zp + 0x0c0) << 32;
        assert_int_equal(ward_le32(zp + 0x21c), INITRD_LEN);
        assert_int_equal(rd % 4096, 0);
        assert_true(rd >= PREF + INIT_SIZE);
        assert_true(rd + INITRD_LEN <= RAM_BYTES);
        assert_true(rd + INITRD_LEN > RAM_BYTES - 4096); /* at the top */
        assert_int_equal(ram[rd], 0x11);
        assert_int_equal(ram[rd + INITRD_LEN - 1], 0x11);

        /* e820: low RAM at 0, the ACPI tables reserved, RAM from 1 MiB to the end. */
        unsigned n = zp[0x1e8];
        assert_true(n >= 3);
        bool low = false, high = false, acpi = false;
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *e = zp + 0x2d0 + 20 * i;
                uint64_t addr = ward_le64(e), size = ward_le64(e + 8);
                uint32_t type = ward_le32(e + 16);
                if (type == WARD_X86_E820_RAM) {
                        assert_true(addr + size <= RAM_BYTES);
                        low |= addr == 0 && size >= 0x7000 + 4096;
                        high |= addr == MiB && addr + size == RAM_BYTES;
                        /* No RAM entry may cover the ACPI tables. */
                        assert_true(addr + size <= 0xe0000 || addr >= 0x100000);
                } else if (type == WARD_X86_E820_ACPI) {
                        acpi = addr <= 0xe0000 && addr + size >= 0x100000;
                }
        }
        assert_true(low);
        assert_true(high);
        assert_true(acpi);

        /* acpi_rsdp_addr: an RSDP with a good checksum, in the reserved ACPI area. */
        uint64_t rsdp = ward_le64(zp + 0x070);
        assert_true(rsdp >= 0xe0000 && rsdp + 36 <= 0x100000);
        assert_memory_equal(ram + rsdp, "RSD PTR ", 8);
        uint8_t sum = 0;
        for (unsigned i = 0; i < 20; i++)
                sum = (uint8_t)(sum + ram[rsdp + i]);
        assert_int_equal(sum, 0);
        /* The XSDT it points at is in guest RAM too. */
        uint64_t xsdt = ward_le64(ram + rsdp + 24);
        assert_true(xsdt >= 0xe0000 && xsdt < 0x100000);
        assert_memory_equal(ram + xsdt, "XSDT", 4);
}

static void boot_without_initrd_and_with_extra_ram(void **state)
{
        (void)state;
        char err[256];
        CFG.nram = 1;
        CFG.ram[0] = (struct ward_ram_config){0x100000000ull, 64 * MiB};
        assert_int_equal(create(err), 0);
        bzimage_header(INIT_SIZE, PREF, 0x200000);
        struct ward_vm_images img = images(0);
        if (ward_vm_boot(&VM, &img, err, sizeof(err)))
                fail_msg("boot: %s", err);
        assert_int_equal(R.loads[1], 0);
        const uint8_t *zp = VM.ram + 0x7000;
        assert_int_equal(ward_le32(zp + 0x218), 0);
        assert_int_equal(ward_le32(zp + 0x21c), 0);
        /* The default command line for a serial console. */
        assert_string_equal((const char *)VM.ram + 0x20000, "console=ttyS0 earlycon panic=-1");
        /* The extra RAM is in the e820 map. */
        unsigned n = zp[0x1e8];
        bool extra = false;
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *e = zp + 0x2d0 + 20 * i;
                extra |= ward_le64(e) == 0x100000000ull && ward_le64(e + 8) == 64 * MiB &&
                         ward_le32(e + 16) == WARD_X86_E820_RAM;
        }
        assert_true(extra);
}

static void boot_picks_the_load_address(void **state)
{
        (void)state;
        char err[256];
        static const struct {
                uint64_t pref;
                uint32_t align;
                uint64_t want;
        } cases[] = {
            {0x1000000, 0x200000, 0x1000000},  /* the preferred address */
            {0x100000, 0x200000, 0x1000000},   /* too low for the setup part: 16 MiB */
            {0x1400000, 0x1000000, 0x2000000}, /* aligned up */
            {0x200000, 0x200000, 0x200000},    /* 2 MiB is enough */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                setup(NULL);
                assert_int_equal(create(err), 0);
                bzimage_header(INIT_SIZE, cases[i].pref, cases[i].align);
                struct ward_vm_images img = images(INITRD_LEN);
                if (ward_vm_boot(&VM, &img, err, sizeof(err)))
                        fail_msg("case %zu: %s", i, err);
                if (F.vcpu[0].regs.rip != cases[i].want + 0x200)
                        fail_msg("case %zu: rip 0x%llx, want 0x%llx", i,
                                 (unsigned long long)F.vcpu[0].regs.rip,
                                 (unsigned long long)cases[i].want + 0x200);
                assert_int_equal(VM.ram[cases[i].want], pattern(SETUP_BYTES));
                uint64_t rd = ward_le32(VM.ram + 0x7000 + 0x218);
                assert_true(rd >= cases[i].want + INIT_SIZE);
                recycle();
        }
}

static void boot_refuses_what_does_not_fit(void **state)
{
        (void)state;
        char err[256];
        /* Not a bzImage at all: nothing is copied. */
        assert_int_equal(create(err), 0);
        bzimage_header(INIT_SIZE, PREF, 0x200000);
        ward_put_le16(HDR + 0x1fe, 0); /* no 0xaa55 */
        struct ward_vm_images img = images(INITRD_LEN);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "--kernel bzImage: not an x86_64 bzImage ward can boot: not a "
                                 "bzImage (no boot sector flag 0xaa55 and \"HdrS\" header)");
        /* A header without a 64-bit entry, also refused by name. */
        bzimage_header(INIT_SIZE, PREF, 0x200000);
        ward_put_le16(HDR + 0x236, 0x2);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_non_null(strstr(err, "not an x86_64 bzImage"));
        assert_non_null(strstr(err, "no 64-bit entry"));
        /* A kernel whose file is larger than the init_size it claims. */
        bzimage_header(0x100000, PREF, 0x200000);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_non_null(strstr(err, "init_size 0x100000 is smaller"));
        /* pref_address so high that aligning it up runs past 2^64. */
        bzimage_header(INIT_SIZE, UINT64_MAX - INIT_SIZE, 0x80000000u);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_int_equal(F.vcpu[0].set_regs_calls, 0);
        assert_int_equal(R.loads[0], 0);
        assert_int_equal(R.loads[1], 0);
        recycle();

        /* 32M of RAM for a kernel that needs 32M from 16M. */
        CFG.mem_bytes = 32 * MiB;
        assert_int_equal(create(err), 0);
        bzimage_header(INIT_SIZE, PREF, 0x200000);
        img = images(0);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "--mem: 32M is too small for this kernel (it needs 0x2000000 "
                                 "bytes from 0x1000000)");
        assert_int_equal(R.loads[0], 0);
        recycle();

        /* 64M: the kernel's area ends at 48M, so a 16M initrd fits exactly, one byte more not. */
        CFG.mem_bytes = 64 * MiB;
        assert_int_equal(create(err), 0);
        img = images(16 * MiB + 1);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "--mem: 64M is too small for this kernel and initrd");
        assert_int_equal(R.loads[0], 0);
        img = images(16 * MiB);
        if (ward_vm_boot(&VM, &img, err, sizeof(err)))
                fail_msg("boot: %s", err);
        assert_int_equal(ward_le32(VM.ram + 0x7000 + 0x218), 48 * MiB);
        recycle();

        /* A command line longer than the kernel takes (cmdline_size 2047). */
        static char longline[2049];
        memset(longline, 'a', 2048);
        CFG.mem_bytes = RAM_BYTES;
        CFG.cmdline = longline;
        assert_int_equal(create(err), 0);
        img = images(0);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "the command line has 2048 bytes; the kernel takes at most 2047");
        assert_int_equal(F.vcpu[0].set_regs_calls, 0);
        recycle();

        /* One longer than ward's own command-line area. */
        char *huge = malloc(WARD_X86_CMDLINE_MAX + 1);
        assert_non_null(huge);
        memset(huge, 'b', WARD_X86_CMDLINE_MAX);
        huge[WARD_X86_CMDLINE_MAX] = '\0';
        CFG.cmdline = huge;
        assert_int_equal(create(err), 0);
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "the kernel command line is longer than 65535 bytes");
        assert_int_equal(R.loads[0], 0);
        recycle();
        free(huge);
}

/* ---- errors of create ---- */

static void create_refuses_what_the_board_cannot_hold(void **state)
{
        (void)state;
        char err[256];
        /* arm64's RAM address. */
        CFG.mem_gpa = 0x40000000ull;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "--mem-at 0x40000000: on x86_64 the boot RAM starts at 0 (the "
                                 "kernel needs its low memory); add more RAM elsewhere with --ram");
        assert_null(VM.hvm); /* refused before the hypervisor was asked */
        ward_vm_destroy(&VM);

        static const char fit[] = "--mem/--cpus: does not fit ward's x86_64 memory map (32M to 3G "
                                  "of boot RAM, 1 to 64 vCPUs)";
        static const struct {
                uint64_t mem;
                unsigned cpus;
        } bad[] = {
            {16 * MiB, 2},                /* too small */
            {30 * MiB, 2},                /* just below 32M */
            {33 * MiB, 2},                /* not 2 MiB */
            {0xc0000000ull + 2 * MiB, 2}, /* into the 32-bit hole */
            {RAM_BYTES, 0},
            {RAM_BYTES, 65},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CFG = base_config();
                CFG.mem_bytes = bad[i].mem;
                CFG.cpus = bad[i].cpus;
                if (create(err) == 0)
                        fail_msg("case %zu was accepted", i);
                if (strcmp(err, fit))
                        fail_msg("case %zu: %s", i, err);
                assert_null(VM.hvm);
                ward_vm_destroy(&VM);
        }
        /* The smallest fits. */
        CFG = base_config();
        CFG.mem_bytes = 32 * MiB;
        assert_int_equal(create(err), 0);
        recycle();

        /* Extra RAM inside the hole, over the boot RAM, or over another region. */
        static const struct ward_ram_config bad_ram[][2] = {
            {{0xc0000000ull, 16 * MiB}},
            {{0xbf000000ull, 32 * MiB}}, /* clear of 256M of boot RAM, into the hole */
            {{0xfff00000ull, 2 * MiB}},  /* straddles 4G */
            {{0x8000000ull, 16 * MiB}},  /* over the boot RAM */
            {{0x100000000ull, 16 * MiB}, {0x100800000ull, 16 * MiB}},
        };
        static const char *const bad_ram_err[] = {
            "--ram 0xc0000000: does not fit ward's x86_64 memory map (clear of the boot RAM and "
            "of 0xc0000000-4G)",
            "--ram 0xbf000000: does not fit ward's x86_64 memory map (clear of the boot RAM and "
            "of 0xc0000000-4G)",
            "--ram 0xfff00000: does not fit ward's x86_64 memory map (clear of the boot RAM and "
            "of 0xc0000000-4G)",
            "--ram 0x8000000: does not fit ward's x86_64 memory map (clear of the boot RAM and "
            "of 0xc0000000-4G)",
            "--ram 0x100800000: does not fit ward's x86_64 memory map (clear of the boot RAM and "
            "of 0xc0000000-4G)",
        };
        for (size_t i = 0; i < sizeof(bad_ram) / sizeof(bad_ram[0]); i++) {
                CFG = base_config();
                CFG.nram = bad_ram[i][1].size ? 2 : 1;
                memcpy(CFG.ram, bad_ram[i], sizeof(bad_ram[i]));
                if (create(err) == 0)
                        fail_msg("ram case %zu was accepted", i);
                if (strcmp(err, bad_ram_err[i]))
                        fail_msg("ram case %zu: %s", i, err);
                assert_null(VM.hvm);
                ward_vm_destroy(&VM);
        }
}

static void create_counts_the_virtio_gsis(void **state)
{
        (void)state;
        char err[256];
        /* 19 virtio devices: GSIs 5 to 23, all of them. */
        CFG.console = WARD_CONSOLE_VIRTIO;
        CFG.ndoorbells = WARD_MAX_DOORBELLS;
        CFG.ndisks = 2;
        assert_int_equal(create(err), 0);
        assert_int_equal(VM.ndev, 19);
        assert_int_equal(VM.dev[18].line, 23);
        assert_int_equal(VM.dev[18].base, 0xd0000000ull + 18 * 0x200);
        assert_int_equal(mmio_read32(VM.dev[18].base), 0x74726976u);
        recycle();

        /* A 20th has no GSI: refused, and whatever was built is released. */
        CFG.ndisks = 3;
        assert_int_not_equal(create(err), 0);
        assert_int_equal(VM.ndev, 0); /* refused before any device was made */
        assert_non_null(strstr(err, "20 virtio devices"));
        assert_non_null(strstr(err, "x86_64 board has room for 19 (GSIs 5 to 23)"));
        ward_vm_destroy(&VM);
        assert_int_equal(R.frees, R.allocs);
}

static void create_checks_the_config_counts(void **state)
{
        (void)state;
        char err[256];
        CFG.ndisks = WARD_MAX_DISKS + 1;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "config: at most 8 disks, 16 doorbells, 16 shared regions, 7 "
                                 "more RAM regions and 4 NICs");
        assert_null(VM.hvm);
}

/* ---- picking the architecture ---- */

static void arch_is_picked_by_the_hypervisor(void **state)
{
        (void)state;
        char err[256];
        struct ward_hv_ops hv = fake_hv;
        assert_ptr_equal(ward_vm_arch_of(&hv), &ward_vm_arch_x86_64);
        assert_string_equal(ward_vm_arch_x86_64.name, "x86_64");
        assert_int_equal(ward_vm_arch_x86_64.ram_base, 0);
        assert_int_equal(ward_vm_arch_x86_64.device_base, 0xc0000000ull);
        assert_int_equal(ward_vm_arch_x86_64.device_end, 0x100000000ull);
        hv.arch = "arm64";
        assert_ptr_equal(ward_vm_arch_of(&hv), &ward_vm_arch_arm64);
        static const char *const none[] = {"riscv64", "x86", "x86_64 ", "x86_6", "X86_64", ""};
        for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
                hv.arch = none[i];
                if (ward_vm_arch_of(&hv))
                        fail_msg("\"%s\" has an arch", none[i]);
        }
        hv.arch = NULL;
        assert_null(ward_vm_arch_of(&hv));
        assert_null(ward_vm_arch_of(NULL));

        hv.name = "fake-rv";
        hv.arch = "riscv64";
        assert_int_not_equal(create_on(&hv, err), 0);
        assert_string_equal(err, "hypervisor backend fake-rv is for riscv64, which ward has no "
                                 "machine for");
        assert_null(VM.hvm);
        ward_vm_destroy(&VM);

        hv.arch = NULL;
        assert_int_not_equal(create_on(&hv, err), 0);
        assert_string_equal(err, "hypervisor backend fake-rv is for no architecture, which ward "
                                 "has no machine for");
        ward_vm_destroy(&VM);

        /* An x86_64 backend without its extension cannot build the board. */
        hv = fake_hv;
        hv.arch_ops = NULL;
        assert_int_not_equal(create_on(&hv, err), 0);
        assert_string_equal(err, "hypervisor backend fake is not for x86_64");
        assert_null(VM.hvm);
        assert_null(ward_hv_x86_64(&hv));
        assert_ptr_equal(ward_hv_x86_64(&fake_hv), &fake_x86);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(board_places_ram_uart_and_virtio),
            T(serial_console_takes_input_on_port_io),
            T(extra_ram_gets_its_slot),
            T(destroy_releases_everything),
            T(power_ports_stop_the_vm),
            T(hypervisor_exits_map_to_events),
            T(irqchip_before_vcpus_and_cpuid_per_vcpu),
            T(cpuid_without_kvm_leaves_gets_them),
            T(cpuid_failure_is_reported_and_nothing_leaks),
            T(boot_places_kernel_initrd_and_zero_page),
            T(boot_without_initrd_and_with_extra_ram),
            T(boot_picks_the_load_address),
            T(boot_refuses_what_does_not_fit),
            T(create_refuses_what_the_board_cannot_hold),
            T(create_counts_the_virtio_gsis),
            T(create_checks_the_config_counts),
            T(arch_is_picked_by_the_hypervisor),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
