/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM core against a fake hypervisor and a fake runner: assembly from a
 * config (memory slots, device order, windows, lines), the device
 * registry, interrupt routing, console routing, exit dispatch, boot, and
 * the errors each step reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/arm64/arm64_boot.h"
#include "ward/arch/arm64/arm64_fdt.h"
#include "ward/hv/hv_arm64.h"
#include "ward/vm/vm.h"

#include "fake_runner.h"

#define MiB (1ull << 20)
#define RAM_BYTES (64 * MiB)

/* ---- the fake hypervisor: records what the VM core asks of it ---- */

struct ward_hv_vm {
        int unused;
};
struct ward_hv_vcpu {
        unsigned index;
        uint64_t reg[WARD_ARM64_REG_MPIDR + 1];
};

static struct fake {
        struct ward_hv_vm vm;
        struct ward_hv_vcpu vcpu[8];
        unsigned nvcpu, destroyed_vcpus;
        bool vm_destroyed;
        struct {
                unsigned slot;
                uint64_t gpa, size;
                unsigned flags;
        } maps[32];
        unsigned nmaps;
        bool fail_map;
        int gic_version;
        struct {
                unsigned line;
                bool level;
        } irq[64];
        unsigned nirq;
        bool coalesce;
        uint8_t queued_byte; /* a UART byte "queued by the hypervisor" */
} F;

static int f_vm_create(struct ward_hv_vm **vm, unsigned ncpus, char *err, size_t errlen)
{
        (void)ncpus, (void)err, (void)errlen;
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
        (void)vm, (void)hva;
        if (F.fail_map) {
                snprintf(err, errlen, "fake refuses");
                return -1;
        }
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
        F.vcpu[index].reg[WARD_ARM64_REG_MPIDR] = 0x80000000u | index;
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
static int f_coalesce(struct ward_hv_vm *vm, uint64_t addr, uint64_t size)
{
        (void)vm, (void)addr, (void)size;
        return F.coalesce ? 0 : -1;
}
static void f_drain(struct ward_hv_vm *vm, void (*write)(void *, uint64_t, const void *, unsigned),
                    void *opaque)
{
        (void)vm;
        if (F.queued_byte) {
                write(opaque, WARD_ARM64_UART_BASE, &F.queued_byte, 1);
                F.queued_byte = 0;
        }
}
static int f_gic_create(struct ward_hv_vm *vm, struct ward_hv_gic *gic, char *err, size_t errlen)
{
        (void)vm, (void)err, (void)errlen;
        gic->gic_version = F.gic_version;
        return 0;
}
static int f_gic_finalize(struct ward_hv_vm *vm, char *err, size_t errlen)
{
        (void)vm, (void)err, (void)errlen;
        return 0;
}
static int f_set_reg(struct ward_hv_vcpu *v, enum ward_arm64_reg r, uint64_t val)
{
        v->reg[r] = val;
        return 0;
}
static int f_get_reg(struct ward_hv_vcpu *v, enum ward_arm64_reg r, uint64_t *val)
{
        *val = v->reg[r];
        return 0;
}

static const struct ward_hv_arm64_ops fake_arm64 = {f_gic_create, f_gic_finalize, f_set_reg,
                                                    f_get_reg};
static const struct ward_hv_ops fake_hv = {
    .name = "fake",
    .arch = "arm64",
    .arch_ops = &fake_arm64,
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

/* ---- the runner (fake_runner.c) ---- */

/* Device-tree writes, for the boot test. */
static struct {
        struct ward_arm64_dt dt;
        bool written;
} D;

static struct ward_vm_config base_config(void)
{
        struct ward_vm_config c;
        memset(&c, 0, sizeof(c));
        c.kernel = "Image";
        c.mem_bytes = RAM_BYTES;
        c.mem_gpa = WARD_ARM64_RAM_BASE;
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
        memset(&D, 0, sizeof(D));
        F.gic_version = 3;
        CFG = base_config();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        ward_vm_destroy(&VM);
        for (unsigned i = 0; i < R.nmem; i++)
                free(R.mem[i]);
        return 0;
}

static int create(char *err)
{
        return ward_vm_create(&VM, &CFG, &fake_hv, &fake_runner_ops, NULL, err, 256);
}

static uint32_t mmio_read32(uint64_t addr)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_MMIO, .addr = addr, .len = 4};
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

/* ---- assembly ---- */

static void devices_follow_the_config_in_order(void **state)
{
        (void)state;
        char err[256] = "";
        CFG.console = WARD_CONSOLE_VIRTIO;
        CFG.ndoorbells = 2;
        CFG.ndisks = 2;
        CFG.rng = true;
        assert_int_equal(create(err), 0);
        assert_string_equal(err, "");
        static const struct {
                const char *type;
                unsigned index;
                uint32_t device_id;
        } want[] = {{"console", 0, 3}, {"console", 1, 3}, {"console", 2, 3},
                    {"blk", 0, 2},     {"blk", 1, 2},     {"rng", 0, 4}};
        assert_int_equal(VM.ndev, 6);
        for (unsigned i = 0; i < 6; i++) {
                struct ward_vm_dev *d = &VM.dev[i];
                assert_string_equal(d->type->name, want[i].type);
                assert_int_equal(d->index, want[i].index);
                assert_int_equal(d->base, WARD_ARM64_VIRTIO_BASE + i * WARD_ARM64_VIRTIO_STRIDE);
                assert_int_equal(d->line, WARD_ARM64_VIRTIO_SPI_BASE + i);
                /* The guest finds each device at its window. */
                assert_int_equal(mmio_read32(d->base + 0x000), 0x74726976u);
                assert_int_equal(mmio_read32(d->base + 0x008), want[i].device_id);
        }
        /* The runner was asked for two disks and one entropy source, not for consoles. */
        assert_int_equal(R.backends[WARD_DEVICE_CONSOLE], 0);
        assert_int_equal(R.backends[WARD_DEVICE_BLOCK], 2);
        assert_int_equal(R.backends[WARD_DEVICE_ENTROPY], 1);
        /* Disk 1 is read-only (the runner said so) and has 2 MiB. */
        struct ward_vblk *b1 = VM.dev[4].state;
        assert_true(b1->read_only);
        assert_int_equal(b1->capacity, 2 * MiB / 512);
        assert_int_equal(F.nvcpu, 2);
}

static void memory_slots_and_flags(void **state)
{
        (void)state;
        char err[256] = "";
        CFG.mem_gpa = 0x80000000ull;
        CFG.nram = 1;
        CFG.ram[0] = (struct ward_ram_config){0x100000000ull, 16 * MiB};
        CFG.nshm = 2;
        CFG.shm[0] = (struct ward_shm_config){.fd = 7, .gpa = 0x60000000ull, .size = 4096};
        CFG.shm[1] = (struct ward_shm_config){
            .fd = 8, .gpa = 0x60001000ull, .size = 4096, .read_only = true};
        assert_int_equal(create(err), 0);
        assert_int_equal(F.nmaps, 4);
        assert_int_equal(F.maps[0].slot, WARD_VM_SLOT_BOOT_RAM);
        assert_int_equal(F.maps[0].gpa, 0x80000000ull);
        assert_int_equal(F.maps[0].size, RAM_BYTES);
        assert_int_equal(F.maps[1].slot, WARD_VM_SLOT_RAM(0));
        assert_int_equal(F.maps[1].gpa, 0x100000000ull);
        assert_int_equal(F.maps[2].slot, WARD_VM_SLOT_SHM(0));
        assert_int_equal(F.maps[2].flags, 0);
        assert_int_equal(F.maps[3].slot, WARD_VM_SLOT_SHM(1));
        assert_int_equal(F.maps[3].flags, WARD_HV_MEM_READONLY);
        /* RAM is reachable through the checked translation; shared memory is not. */
        assert_non_null(ward_gmem_ptr(&VM.gm, 0x100000000ull, 16 * MiB));
        assert_null(ward_gmem_ptr(&VM.gm, 0x60000000ull, 1));
}

static void errors_name_the_problem(void **state)
{
        (void)state;
        char err[256];
        CFG.cpus = 0;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "--mem/--mem-at/--cpus: does not fit ward's arm64 memory map");
        ward_vm_destroy(&VM);

        CFG = base_config();
        F.fail_map = true;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "cannot map guest RAM: fake refuses");
        ward_vm_destroy(&VM);

        CFG = base_config();
        F.fail_map = false;
        F.gic_version = 2;
        CFG.cpus = 8;
        assert_int_equal(create(err), 0); /* 8 is GICv2's limit */
        ward_vm_destroy(&VM);
        CFG.cpus = 9;
        F.nvcpu = 0;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "--cpus 9: this host only offers GICv2, which has 8 CPUs at most");
        assert_int_equal(F.nvcpu, 0); /* refused before any vCPU was made */
        ward_vm_destroy(&VM);

        CFG = base_config();
        CFG.ndoorbells = WARD_MAX_DOORBELLS + 1; /* an integrator's config is checked too */
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "config: at most 8 disks, 16 doorbells, 16 shared regions, 7 "
                                 "more RAM regions and 4 NICs");
        assert_null(VM.hvm); /* nothing was created */
        ward_vm_destroy(&VM);

        CFG = base_config();
        F.gic_version = 3;
        CFG.ndisks = 1;
        R.fail_blk = true;
        assert_int_not_equal(create(err), 0);
        assert_string_equal(err, "--disk d0: no such file");
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
        assert_int_equal(R.frees, R.allocs); /* the vCPU table and each device's state */
        assert_int_equal(R.allocs, 3);
        ward_vm_destroy(&VM); /* twice is harmless */
        assert_int_equal(F.destroyed_vcpus, 2);
}

static void registry_finds_every_type(void **state)
{
        (void)state;
        unsigned n = 0;
        for (; ward_device_types[n]; n++)
                assert_ptr_equal(ward_device_type_find(ward_device_types[n]->name),
                                 ward_device_types[n]);
        assert_int_equal(n, 5);
        assert_ptr_equal(ward_device_type_find("vsock"), &ward_virtio_vsock_type);
        assert_ptr_equal(ward_device_type_find("net"), &ward_virtio_net_type);
        assert_ptr_equal(ward_device_type_find("rng"), &ward_virtio_rng_type);
        assert_null(ward_device_type_find("rn"));
        assert_null(ward_device_type_find("rngx"));
        assert_null(ward_device_type_find(NULL));
}

/* ---- interrupts ---- */

static void device_interrupts_are_edges_on_their_line(void **state)
{
        (void)state;
        char err[256];
        CFG.rng = true;
        assert_int_equal(create(err), 0);
        struct ward_vm_dev *d = &VM.dev[0];
        d->v->irq(d->v->irq_opaque, true);
        assert_int_equal(F.nirq, 2);
        assert_int_equal(F.irq[0].line, d->line);
        assert_true(F.irq[0].level);
        assert_int_equal(F.irq[1].line, d->line);
        assert_false(F.irq[1].level);
        d->v->irq(d->v->irq_opaque, false); /* a falling level is no event */
        assert_int_equal(F.nirq, 2);
        /* A runner's faster path (irqfd) takes the edge instead. */
        R.edge_bound = true;
        d->v->irq(d->v->irq_opaque, true);
        assert_int_equal(F.nirq, 2);
        assert_int_equal(R.edges, 2);
}

static void uart_interrupt_is_a_level(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        mmio_write8(WARD_ARM64_UART_BASE + 1, 0x02); /* IER: transmitter empty */
        assert_true(F.nirq >= 1);
        assert_int_equal(F.irq[F.nirq - 1].line, WARD_ARM64_UART_SPI);
        assert_true(F.irq[F.nirq - 1].level);
}

/* ---- consoles ---- */

static void serial_console_routes_both_ways(void **state)
{
        (void)state;
        char err[256];
        CFG.ndoorbells = 1;
        assert_int_equal(create(err), 0);
        assert_int_equal(ward_vm_consoles(&VM), 2);
        mmio_write8(WARD_ARM64_UART_BASE, 'h');
        mmio_write8(WARD_ARM64_UART_BASE, 'i');
        assert_int_equal(R.out_len[0], 2);
        assert_memory_equal(R.out[0], "hi", 2);
        /* Input on console 0 goes to the UART's receive FIFO. */
        assert_int_equal(ward_vm_console_room(&VM, 0), WARD_UART_RX_SIZE);
        assert_int_equal(ward_vm_console_input(&VM, 0, "ls\n", 3), 3);
        assert_int_equal(ward_vm_console_room(&VM, 0), WARD_UART_RX_SIZE - 3);
        assert_int_equal(mmio_read32(WARD_ARM64_UART_BASE) & 0xff, 'l');
        /* Console 1 is the doorbell's virtio console; 2 does not exist. */
        assert_int_equal(ward_vm_console_room(&VM, 1), WARD_VCONSOLE_INBUF);
        assert_int_equal(ward_vm_console_input(&VM, 1, "x", 1), 1);
        assert_int_equal(ward_vm_console_room(&VM, 1), WARD_VCONSOLE_INBUF - 1);
        assert_int_equal(ward_vm_console_room(&VM, 2), 0);
        assert_int_equal(ward_vm_console_input(&VM, 2, "x", 1), 0);
        assert_int_equal(ward_vm_console_input(&VM, ~0u, "x", 1), 0);
}

static void virtio_console_takes_input(void **state)
{
        (void)state;
        char err[256];
        CFG.console = WARD_CONSOLE_VIRTIO;
        assert_int_equal(create(err), 0);
        assert_int_equal(ward_vm_console_room(&VM, 0), WARD_VCONSOLE_INBUF);
        ward_vm_console_input(&VM, 0, "abc", 3);
        assert_int_equal(ward_vm_console_room(&VM, 0), WARD_VCONSOLE_INBUF - 3);
        /* The UART keeps printing to console 0 (early boot messages). */
        mmio_write8(WARD_ARM64_UART_BASE, '!');
        assert_int_equal(R.out_len[0], 1);
}

static void queued_writes_come_before_the_exit(void **state)
{
        (void)state;
        char err[256];
        F.coalesce = true;
        assert_int_equal(create(err), 0);
        assert_true(VM.coalesced);
        F.queued_byte = 'a';
        mmio_write8(WARD_ARM64_UART_BASE, 'b');
        assert_int_equal(R.out_len[0], 2);
        assert_memory_equal(R.out[0], "ab", 2);
}

/* ---- exits ---- */

static void exits_map_to_events(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_SHUTDOWN};
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_POWEROFF);
        ex.kind = WARD_HV_EXIT_RESET;
        assert_int_equal(ward_vm_exit(&VM, 1, &ex), WARD_VM_REBOOT);
        ex.kind = WARD_HV_EXIT_ERROR;
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_FAILED);
        ex.kind = WARD_HV_EXIT_KICKED;
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
        /* Nothing answers at an unmapped port or address: reads are zeros. */
        ex = (struct ward_hv_exit){.kind = WARD_HV_EXIT_IO, .addr = 0x3f8, .len = 1};
        memset(ex.data, 0xee, sizeof(ex.data));
        assert_int_equal(ward_vm_exit(&VM, 0, &ex), WARD_VM_RUNNING);
        assert_int_equal(ex.data[0], 0);
        assert_int_equal(mmio_read32(0x0c000000ull), 0);
}

/* ---- boot ---- */

static int f_load(void *host, unsigned which, void *dst, uint64_t len, char *err, size_t errlen)
{
        (void)host, (void)err, (void)errlen;
        R.loads[which]++;
        memset(dst, which ? 0x11 : 0x22, len);
        return 0;
}
static int f_write_dt(void *host, const void *dt, void *dst, size_t room, char *err, size_t errlen)
{
        (void)host, (void)err, (void)errlen;
        D.dt = *(const struct ward_arm64_dt *)dt;
        D.written = true;
        memset(dst, 0xd7, room < 16 ? room : 16);
        return 0;
}

static void image_header(uint8_t h[64])
{
        memset(h, 0, 64);
        ward_put_le64(h + 8, 0);
        ward_put_le64(h + 16, 4 * MiB);
        ward_put_le32(h + 56, WARD_ARM64_IMAGE_MAGIC);
}

static void boot_places_images_and_sets_registers(void **state)
{
        (void)state;
        char err[256];
        CFG.console = WARD_CONSOLE_VIRTIO;
        assert_int_equal(create(err), 0);
        uint8_t hdr[64];
        image_header(hdr);
        struct ward_vm_images img = {hdr, 3 * MiB, 1 * MiB, f_load, f_write_dt, 42, NULL};
        assert_int_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_int_equal(R.loads[0], 1);
        assert_int_equal(R.loads[1], 1);
        assert_true(D.written);
        assert_int_equal(D.dt.ncpus, 2);
        assert_int_equal(D.dt.mpidr[1], 0x80000001u); /* from the hypervisor */
        assert_string_equal(D.dt.bootargs, "console=hvc0 earlycon panic=-1");
        assert_int_equal(D.dt.nvirtio, 1);
        assert_int_equal(D.dt.kaslr_seed, 42);
        assert_int_equal(D.dt.initrd_end - D.dt.initrd_start, 1 * MiB);
        struct ward_hv_vcpu *b = &F.vcpu[0];
        assert_int_equal(b->reg[WARD_ARM64_REG_PC], WARD_ARM64_RAM_BASE);
        assert_int_equal(b->reg[WARD_ARM64_REG_PSTATE], WARD_ARM64_BOOT_PSTATE);
        assert_int_not_equal(b->reg[WARD_ARM64_REG_X0], 0);
        uint8_t *dtb = ward_gmem_ptr(&VM.gm, b->reg[WARD_ARM64_REG_X0], 16);
        assert_non_null(dtb);
        assert_int_equal(dtb[0], 0xd7);
        assert_int_equal(F.vcpu[1].reg[WARD_ARM64_REG_PC], 0); /* secondaries wait for PSCI */
}

static void boot_refuses_bad_images(void **state)
{
        (void)state;
        char err[256];
        assert_int_equal(create(err), 0);
        uint8_t hdr[64];
        memset(hdr, 0, sizeof(hdr));
        struct ward_vm_images img = {hdr, 3 * MiB, 0, f_load, f_write_dt, 0, NULL};
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "--kernel Image: not an arm64 Linux Image (bad header)");
        image_header(hdr);
        img.initrd_len = RAM_BYTES; /* cannot fit beside the kernel */
        assert_int_not_equal(ward_vm_boot(&VM, &img, err, sizeof(err)), 0);
        assert_string_equal(err, "--mem: 64M is too small for this kernel and initrd");
        assert_int_equal(R.loads[0], 0); /* nothing was copied */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(devices_follow_the_config_in_order),
            T(memory_slots_and_flags),
            T(errors_name_the_problem),
            T(destroy_releases_everything),
            T(registry_finds_every_type),
            T(device_interrupts_are_edges_on_their_line),
            T(uart_interrupt_is_a_level),
            T(serial_console_routes_both_ways),
            T(virtio_console_takes_input),
            T(queued_writes_come_before_the_exit),
            T(exits_map_to_events),
            T(boot_places_images_and_sets_registers),
            T(boot_refuses_bad_images),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
