/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ward as a seL4 Microkit protection domain: one VMM per VM. The guest's
 * vCPUs are this PD's virtual-machine children; their traps arrive in
 * fault() and go to the same machine and device code the KVM backend uses
 * (bus, 16550 UART, virtio-console, virtio-blk), plus what KVM would otherwise do in the
 * kernel: the trap decoder, PSCI and the GICv2 distributor. Devices reach
 * their backends, the serial and block PDs, through shared-memory ports
 * and notifications.
 *
 * The guest's layout (where kernel, initrd and DTB go; which window each
 * virtio device has) comes from guest_layout.h, which the build writes
 * with `ward dtb`: the same generator `ward run` uses on KVM.
 */
#include <microkit.h>
#include <stddef.h>

#include "guest_layout.h"

#include "ward/arm64_boot.h"
#include "ward/arm64_esr.h"
#include "ward/arm64_map.h"
#include "ward/arm64_psci.h"
#include "ward/arm64_trap.h"
#include "ward/arm64_vgic.h"
#include "ward/bus.h"
#include "ward/gmem.h"
#include "ward/port_blk.h"
#include "ward/port_console.h"
#include "ward/uart16550.h"
#include "ward/virtio_blk.h"
#include "ward/virtio_console.h"

/* Channels, as in the .system file. */
#define CH_SERIAL 1
#define CH_BLK 2

#define GIC_LIST_REGS 4 /* QEMU's GICv2 virtual CPU interface has 4 */
#define PPI_VTIMER 27

/* Set by the Microkit tool (setvar): where this PD sees shared memory. */
uintptr_t guest_ram_vaddr;
uintptr_t serial_port_vaddr;
uintptr_t blk_port_vaddr;

/* The guest's images, linked into this PD by images.S. */
extern const char _guest_kernel[], _guest_kernel_end[];
extern const char _guest_initrd[], _guest_initrd_end[];
extern const char _guest_dtb[], _guest_dtb_end[];

static struct ward_gmem gm;
static struct ward_bus bus;
static struct ward_bus_window windows[6];
static struct ward_uart uart;
static struct ward_vgic vgic;
static struct ward_psci psci;
static struct ward_console_port serial;
static struct ward_blk_port_client blk_port;
static struct ward_vblk vblk;
#ifdef GUEST_VIRTIO_CONSOLE_BASE
/* The guest's console is hvc0: it hands over output in batches, one trap
 * per batch, where the 16550 costs two traps per byte. */
static struct ward_vconsole vcon;
#endif
/* Which interrupt sits in each list register of each vCPU (0: free). */
static uint16_t list_reg[GUEST_NCPUS][GIC_LIST_REGS];

static void puts_hex(const char *what, uint64_t v)
{
        static const char digits[] = "0123456789abcdef";
        char buf[19];
        buf[0] = '0';
        buf[1] = 'x';
        for (int i = 0; i < 16; i++)
                buf[2 + i] = digits[(v >> (60 - 4 * i)) & 0xf];
        buf[18] = '\0';
        microkit_dbg_puts(what);
        microkit_dbg_puts(buf);
        microkit_dbg_puts("\n");
}

static void puts_dec(uint64_t v)
{
        char buf[21];
        unsigned i = sizeof(buf) - 1;
        buf[i] = '\0';
        do {
                buf[--i] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        microkit_dbg_puts(buf + i);
}

/*
 * ---- exit counters ----
 *
 * Every fault and notification this PD handles, by kind: plain counters,
 * printed once when the VM stops, to see where the guest's time in the VMM
 * goes.
 */
enum {
        EXIT_VM_UART,
        EXIT_VM_VIRTIO,
        EXIT_VM_GIC,
        EXIT_VM_OTHER,
        EXIT_VCPU_WFX,
        EXIT_VCPU_HVC,
        EXIT_VCPU_SMC,
        EXIT_VCPU_SYSREG,
        EXIT_VCPU_OTHER,
        EXIT_MAINTENANCE,
        EXIT_VPPI,
        EXIT_KINDS
};
#define EXIT_CHANNELS 63 /* Microkit channel ids are 0..62 */
static uint64_t exits[EXIT_KINDS];
static uint64_t exits_notified[EXIT_CHANNELS];

static unsigned vm_fault_kind(uint64_t addr)
{
        if (addr - WARD_ARM64_UART_BASE < WARD_UART_MMIO_SIZE)
                return EXIT_VM_UART;
        if (addr - WARD_ARM64_VIRTIO_BASE < WARD_ARM64_VIRTIO_STRIDE * WARD_ARM64_MAX_VIRTIO)
                return EXIT_VM_VIRTIO;
        if (addr - WARD_ARM64_GIC_DIST_BASE < WARD_ARM64_GIC_DIST_SIZE ||
            addr - WARD_ARM64_GIC_REDIST_BASE < WARD_ARM64_GIC_REDIST_PER_CPU * GUEST_NCPUS)
                return EXIT_VM_GIC;
        return EXIT_VM_OTHER;
}

static unsigned vcpu_fault_kind(uint32_t esr)
{
        switch (WARD_ESR_EC(esr)) {
        case WARD_ESR_EC_WFX:
                return EXIT_VCPU_WFX;
        case WARD_ESR_EC_HVC64:
                return EXIT_VCPU_HVC;
        case WARD_ESR_EC_SMC64:
                return EXIT_VCPU_SMC;
        case WARD_ESR_EC_SYS64:
                return EXIT_VCPU_SYSREG;
        default:
                return EXIT_VCPU_OTHER;
        }
}

/* One line per kind that has counts, e.g. "ward: exits vm-fault uart=12 gic=3". */
static void print_exits(void)
{
        /* NULL: a kind with one counter, whose line has the number alone. */
        static const char *const names[EXIT_KINDS] = {
            "uart", "virtio", "gic", "other", "wfx", "hvc", "smc", "sysreg", "other", NULL, NULL,
        };
        static const struct {
                const char *kind;
                unsigned first, end;
        } groups[] = {
            {"vm-fault", EXIT_VM_UART, EXIT_VCPU_WFX},
            {"vcpu-fault", EXIT_VCPU_WFX, EXIT_MAINTENANCE},
            {"vgic-maintenance", EXIT_MAINTENANCE, EXIT_VPPI},
            {"vppi", EXIT_VPPI, EXIT_KINDS},
        };
        uint64_t total = 0;
        for (unsigned g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
                uint64_t sum = 0;
                for (unsigned k = groups[g].first; k < groups[g].end; k++)
                        sum += exits[k];
                if (sum == 0)
                        continue;
                total += sum;
                microkit_dbg_puts("ward: exits ");
                microkit_dbg_puts(groups[g].kind);
                for (unsigned k = groups[g].first; k < groups[g].end; k++) {
                        if (exits[k] == 0)
                                continue;
                        microkit_dbg_puts(" ");
                        if (names[k]) {
                                microkit_dbg_puts(names[k]);
                                microkit_dbg_puts("=");
                        }
                        puts_dec(exits[k]);
                }
                microkit_dbg_puts("\n");
        }
        microkit_dbg_puts("ward: exits faults ");
        puts_dec(total);
        microkit_dbg_puts("\nward: exits notified");
        for (unsigned ch = 0; ch < EXIT_CHANNELS; ch++) {
                if (exits_notified[ch] == 0)
                        continue;
                microkit_dbg_puts(" ch");
                puts_dec(ch);
                microkit_dbg_puts("=");
                puts_dec(exits_notified[ch]);
        }
        microkit_dbg_puts("\n");
}

/* ---- vCPU registers, read once per fault and written back if changed ---- */

struct regs_cache {
        seL4_UserContext ctx;
        bool valid, dirty;
};
static struct regs_cache regs[GUEST_NCPUS];

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

/* Writes back changed registers; `resume` restarts a stopped vCPU too. */
static void flush_regs(unsigned vcpu, bool resume)
{
        struct regs_cache *r = &regs[vcpu];
        if (r->dirty || resume)
                seL4_TCB_WriteRegisters(BASE_VM_TCB_CAP + vcpu, resume, 0, NREGS, ctx_of(vcpu));
        r->valid = r->dirty = false;
}

/* ---- interrupts ---- */

static bool inject(void *opaque, unsigned vcpu, unsigned irq, uint8_t priority)
{
        (void)opaque;
        for (unsigned lr = 0; lr < GIC_LIST_REGS; lr++) {
                if (list_reg[vcpu][lr] == 0) {
                        list_reg[vcpu][lr] = (uint16_t)irq;
                        /* seL4 takes the 5-bit list-register priority. */
                        microkit_vcpu_arm_inject_irq(vcpu, (seL4_Uint16)irq, priority >> 3, 0,
                                                     (seL4_Uint8)lr);
                        return true;
                }
        }
        return false;
}

static void uart_irq(void *opaque, bool level)
{
        (void)opaque;
        ward_vgic_set_spi(&vgic, 32 + WARD_ARM64_UART_SPI, level);
}

static void virtio_irq(void *opaque, bool level)
{
        unsigned spi = (unsigned)(uintptr_t)opaque;
        ward_vgic_set_spi(&vgic, 32 + spi, level);
}

/* The guest finished the interrupt in list register lr of vcpu. */
static void maintenance(unsigned vcpu, unsigned lr)
{
        if (vcpu >= GUEST_NCPUS || lr >= GIC_LIST_REGS)
                return;
        unsigned irq = list_reg[vcpu][lr];
        list_reg[vcpu][lr] = 0;
        if (irq == PPI_VTIMER) {
                /* seL4 masks the timer until acked; its line is low until it fires again. */
                ward_vgic_set_ppi(&vgic, vcpu, irq, false);
                microkit_vcpu_arm_ack_vppi(vcpu, irq);
        }
        ward_vgic_eoi(&vgic, vcpu, irq);
}

/* ---- backends ---- */

/*
 * Console output arrives one byte per trapped UART write. Notifying the
 * serial PD for each byte would cost two context switches per byte, so the
 * notification is deferred: it goes out at a newline, when 512 bytes wait,
 * and after any trap that is not the UART's data or line-status register
 * (the guest polls those per byte; anything else, such as the timer tick or
 * the driver's IER write at the end of a console write, means a pause).
 */
static bool serial_pending;
static uint32_t serial_bytes;

static void notify_serial(void *o)
{
        (void)o;
        serial_pending = true;
}

static void flush_serial(void)
{
        if (serial_pending) {
                serial_pending = false;
                serial_bytes = 0;
                microkit_notify(CH_SERIAL);
        }
}
static void notify_blk(void *o)
{
        (void)o;
        microkit_notify(CH_BLK);
}

static uint64_t console_dropped;

static void console_out(void *opaque, const void *buf, uint32_t len)
{
        (void)opaque;
        const uint8_t *b = buf;
        bool newline = false;
        for (uint32_t i = 0; i < len && !newline; i++)
                newline = b[i] == '\n';
        /*
         * A virtio-console batch can be larger than the ring's free space.
         * The serial PD has the higher priority, so notifying it runs it at
         * once and it empties the ring; a few rounds are enough for any
         * batch the ring can hold, and what still does not fit is counted.
         */
        for (unsigned round = 0; len > 0; round++) {
                uint32_t n = ward_console_port_write(&serial, b, len);
                b += n;
                len -= n;
                serial_bytes += n;
                if (len == 0 || round == 8)
                        break;
                serial_pending = true;
                flush_serial();
        }
        console_dropped += len;
        if (newline || serial_bytes >= 512)
                flush_serial();
}

static uint32_t console_in(void *opaque, const void *buf, uint32_t len)
{
        (void)opaque;
#ifdef GUEST_VIRTIO_CONSOLE_BASE
        return ward_vconsole_input(&vcon, buf, len);
#else
        return ward_uart_input(&uart, buf, len);
#endif
}

/* ---- start-up ---- */

static void copy_image(const char *what, uint64_t gpa, const char *start, const char *end)
{
        uint64_t len = (uint64_t)(end - start);
        if (len == 0)
                return;
        void *dst = ward_gmem_ptr(&gm, gpa, len);
        if (!dst) {
                microkit_dbg_puts("ward: ");
                microkit_dbg_puts(what);
                microkit_dbg_puts(" does not fit in guest RAM\n");
                return;
        }
        memcpy(dst, start, len);
}

void init(void)
{
        microkit_dbg_puts("ward: seL4 Microkit VMM starting\n");
        ward_gmem_init(&gm);
        ward_gmem_add(&gm, GUEST_RAM_BASE, GUEST_RAM_SIZE, (void *)guest_ram_vaddr);
        ward_bus_init(&bus, windows, sizeof(windows) / sizeof(windows[0]));

        struct ward_port_notify sn = {notify_serial, NULL};
        ward_console_port_init(&serial, (void *)serial_port_vaddr, SERIAL_PORT_BYTES,
                               SERIAL_RING_BYTES, WARD_PORT_CLIENT, &sn);
        ward_uart_init(&uart, console_out, NULL, uart_irq, NULL);
        ward_bus_register(&bus, WARD_ARM64_UART_BASE, WARD_UART_MMIO_SIZE, &ward_uart_mmio_ops,
                          &uart);

        static const struct ward_vgic_ops vops = {inject};
        ward_vgic_init(&vgic, GUEST_NCPUS, &vops, NULL);
        ward_bus_register(&bus, WARD_ARM64_GIC_DIST_BASE, WARD_VGIC_DIST_SIZE, &ward_vgic_dist_ops,
                          &vgic);

        uint64_t mpidr[GUEST_NCPUS];
        for (unsigned i = 0; i < GUEST_NCPUS; i++) {
                mpidr[i] = i; /* matches the DTB that `ward dtb` wrote */
                microkit_vcpu_arm_write_reg(i, seL4_VCPUReg_VMPIDR_EL2, i);
        }
        ward_psci_init(&psci, GUEST_NCPUS, mpidr, GUEST_RAM_BASE, GUEST_RAM_SIZE);

#ifdef GUEST_VIRTIO_CONSOLE_BASE
        static const struct ward_console_backend cb = {console_out, NULL};
        ward_vconsole_setup(&vcon, &cb);
        ward_virtio_init(&vcon.v, &gm, virtio_irq, (void *)(uintptr_t)GUEST_VIRTIO_CONSOLE_SPI);
        ward_bus_register(&bus, GUEST_VIRTIO_CONSOLE_BASE, WARD_VIRTIO_MMIO_SIZE,
                          &ward_virtio_mmio_ops, &vcon.v);
#endif
#ifdef GUEST_VIRTIO_BLK_BASE
        struct ward_port_notify bn = {notify_blk, NULL};
        struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
        cfg.nbufs = BLK_PORT_NBUFS;
        cfg.ring_slots = BLK_PORT_SLOTS;
        cfg.buf_bytes = BLK_PORT_BUF_BYTES;
        ward_blk_port_client_init(&blk_port, (void *)blk_port_vaddr, BLK_PORT_BYTES, &cfg, &bn);
        struct ward_blk_backend be = ward_blk_port_client_backend(&blk_port);
        ward_vblk_setup(&vblk, &be, BLK_DISK_BYTES, false, "ward-sel4-disk0");
        ward_virtio_init(&vblk.v, &gm, virtio_irq, (void *)(uintptr_t)GUEST_VIRTIO_BLK_SPI);
        ward_bus_register(&bus, GUEST_VIRTIO_BLK_BASE, WARD_VIRTIO_MMIO_SIZE, &ward_virtio_mmio_ops,
                          &vblk.v);
#endif

        copy_image("kernel", GUEST_KERNEL, _guest_kernel, _guest_kernel_end);
        copy_image("initrd", GUEST_INITRD, _guest_initrd, _guest_initrd_end);
        copy_image("device tree", GUEST_DTB, _guest_dtb, _guest_dtb_end);

        /* Boot vCPU: PC at the kernel, x0 the DTB, EL1h with interrupts masked. */
        seL4_UserContext *c = ctx_of(0);
        memset(c, 0, sizeof(*c));
        c->pc = GUEST_KERNEL;
        c->x0 = GUEST_DTB;
        c->spsr = WARD_ARM64_BOOT_PSTATE;
        regs[0].dirty = true;
        flush_regs(0, true);
        microkit_dbg_puts("ward: guest started\n");
}

void notified(microkit_channel ch)
{
        if (ch < EXIT_CHANNELS)
                exits_notified[ch]++;
        switch (ch) {
        case CH_SERIAL:
                ward_console_port_poll(&serial, console_in, NULL);
                break;
        case CH_BLK:
                ward_blk_port_client_poll(&blk_port);
                break;
        default:
                break;
        }
        flush_serial();
}

static void stop_all(const char *why)
{
        print_exits(); /* first: the boot check stops QEMU at the line below */
        microkit_dbg_puts("ward: ");
        microkit_dbg_puts(why);
        microkit_dbg_puts("\n");
        if (console_dropped)
                puts_hex("ward: console bytes the serial PD could not take: ", console_dropped);
        for (unsigned i = 0; i < GUEST_NCPUS; i++)
                microkit_vcpu_stop(i);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply)
{
        if (child >= GUEST_NCPUS)
                return seL4_False;
        struct ward_arm64_trap_ctx tc = {&bus, &psci, &vgic, &regs_ops, NULL};
        struct ward_trap_result res = {.outcome = WARD_TRAP_RESUME};
        /* Read the fault's message now: seL4 calls below reuse the IPC buffer. */
        seL4_Word label = microkit_msginfo_get_label(msginfo);
        seL4_Word addr = label == seL4_Fault_VMFault ? seL4_GetMR(seL4_VMFault_Addr) : 0;
        switch (label) {
        case seL4_Fault_VMFault:
                exits[vm_fault_kind(addr)]++;
                ward_arm64_trap(&tc, child, (uint32_t)seL4_GetMR(seL4_VMFault_FSR), addr, &res);
                break;
        case seL4_Fault_VCPUFault: {
                uint32_t esr = (uint32_t)seL4_GetMR(seL4_VCPUFault_HSR);
                exits[vcpu_fault_kind(esr)]++;
                ward_arm64_trap(&tc, child, esr, 0, &res);
                break;
        }
        case seL4_Fault_VGICMaintenance:
                exits[EXIT_MAINTENANCE]++;
                maintenance(child, (unsigned)seL4_GetMR(seL4_VGICMaintenance_IDX));
                break;
        case seL4_Fault_VPPIEvent:
                exits[EXIT_VPPI]++;
                ward_vgic_set_ppi(&vgic, child, (unsigned)seL4_GetMR(seL4_VPPIEvent_IRQ), true);
                break;
        default:
                puts_hex("ward: unexpected fault label ", microkit_msginfo_get_label(msginfo));
                res.outcome = WARD_TRAP_FATAL;
                res.reason = "unexpected fault";
                break;
        }
        /* The UART's data (0) and line-status (5) registers are polled per byte. */
        if (label != seL4_Fault_VMFault ||
            (addr != WARD_ARM64_UART_BASE && addr != WARD_ARM64_UART_BASE + 5))
                flush_serial();
        switch (res.outcome) {
        case WARD_TRAP_RESUME:
        case WARD_TRAP_WAIT:
                flush_regs(child, false);
                *reply = microkit_msginfo_new(0, 0);
                return seL4_True;
        case WARD_TRAP_CPU_ON:
                /* PSCI set PC and x0; the new vCPU starts in EL1h, interrupts masked. */
                ctx_of(res.target)->spsr = WARD_ARM64_BOOT_PSTATE;
                flush_regs(child, false);
                flush_regs(res.target, true); /* PC and x0 set by PSCI */
                *reply = microkit_msginfo_new(0, 0);
                return seL4_True;
        case WARD_TRAP_CPU_OFF:
                regs[child].valid = regs[child].dirty = false;
                microkit_vcpu_stop(child);
                return seL4_False;
        case WARD_TRAP_SYSTEM_OFF:
                stop_all("guest powered off");
                return seL4_False;
        case WARD_TRAP_SYSTEM_RESET:
                stop_all("guest rebooted; ward stops the VM");
                return seL4_False;
        case WARD_TRAP_FATAL:
                puts_hex("ward: vCPU fault at pc ", get_pc(NULL, child));
                stop_all(res.reason ? res.reason : "fatal trap");
                return seL4_False;
        }
        return seL4_False;
}
