/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ward as a seL4 Microkit protection domain: the seL4 runner of the VM
 * core, one VMM per VM. The VM is assembled by ward_vm_create() from a
 * config, exactly as on Linux; this file only brings what a Microkit PD
 * has: guest memory mapped by the .system file, the serial and block PDs
 * behind shared-memory ports, the guest's images linked in (images.S), and
 * the entry points init(), notified(), fault() and protected() (the admin
 * PD's calls: see "The VM's life" below).
 *
 * The config comes from guest_layout.h, which the build writes with `ward
 * dtb` (the same board and device order `ward run` uses), and the device
 * tree is the blob `ward dtb` wrote.
 */
#include <microkit.h>
#include <stddef.h>

#include "guest_layout.h"
#include "hv_microkit.h"
#include "sel4_runner.h"

#include "ward/arch/arm64/arm64_map.h"
#include "ward/common/admin_call.h"
#include "ward/common/panic_watch.h"
#include "ward/common/policy.h"
#include "ward/port/port_blk.h"
#include "ward/port/port_console.h"
#include "ward/port/port_net.h"
#include "ward/vm/vm.h"

/* Channels, as in the .system file. */
#define CH_SERIAL 1
#define CH_BLK 2
#define CH_TIMER 3 /* the timer PD: wakes vCPUs parked in WFI */
#define CH_ADMIN 8 /* the admin PD calls us (pp): see protected() */
/* NIC k's switch PD is on GUEST_NET_CHANNELS[k] (4 + k, as ward system sel4 numbers them). */

/* Set by the Microkit tool (setvar): where this PD sees shared memory. */
uintptr_t guest_ram_vaddr;
uintptr_t serial_port_vaddr;
uintptr_t blk_port_vaddr;

/* The guest's images and the entropy seed, linked into this PD by images.S. */
extern const char _guest_kernel[], _guest_kernel_end[];
extern const char _guest_initrd[], _guest_initrd_end[];
extern const char _guest_dtb[], _guest_dtb_end[];
extern const char _guest_seed[], _guest_seed_end[];

static const struct ward_vm_config config = {
    .mem_bytes = GUEST_RAM_SIZE,
    .mem_gpa = GUEST_RAM_BASE,
    .cpus = GUEST_NCPUS,
#ifdef GUEST_MAIN_CONSOLE_VIRTIO
    .console = WARD_CONSOLE_VIRTIO,
#else
    .console = WARD_CONSOLE_SERIAL,
#endif
#ifdef GUEST_DISK
    .ndisks = 1,
#endif
    .ndoorbells = GUEST_DOORBELLS,
    .nnets = GUEST_NETS,
#ifdef GUEST_VIRTIO_RNG_BASE
    .rng = true,
#endif
};

static struct ward_vm vm;
/* The VM's state: see boot_vm(). */
enum vm_state {
        VM_RUNNING = WARD_ADMIN_RUNNING,
        VM_PAUSED = WARD_ADMIN_PAUSED,
        VM_STOPPED = WARD_ADMIN_STOPPED,
};
static enum vm_state state = VM_STOPPED;
static bool start_pending;
static bool backoff_pending; /* a failed VM waits for its back-off before it starts again */
static uint64_t backoff_deadline;
static void backoff_check(void);
static struct ward_panic_watch panic; /* a reboot after a panic is a failure */
static unsigned restarts;             /* by the failure policy since the last start by hand */
static struct ward_console_port serial;
static struct ward_blk_port_client blk_port;

/*
 * Doorbells: a virtio console (hvcN, after the main console) whose bytes go
 * to another VM, as on Linux. Each is a console port in a small region the
 * two VMMs share (the generator maps doorbell i of this VMM at
 * doorbell_vaddr + i * DOORBELL_PORT_BYTES) and a channel: the ringing end
 * writes the guest's bytes into the port and notifies; the woken end feeds
 * them to its guest. A doorbell rings one way: the woken end's channel
 * cannot notify back (notify="false"), and what its guest writes to the
 * doorbell is dropped. Bytes that do not fit a full port are dropped too (a
 * doorbell is a signal, not a data channel).
 */
#if GUEST_DOORBELLS > 0
uintptr_t doorbell_vaddr;
static const microkit_channel doorbell_ch[GUEST_DOORBELLS] = GUEST_DOORBELL_CHANNELS;
static const bool doorbell_out[GUEST_DOORBELLS] = GUEST_DOORBELL_OUT;
static struct ward_console_port doorbell[GUEST_DOORBELLS];

static void notify_doorbell(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

static void notify_nobody(void *o)
{
        (void)o; /* the woken end has no capability to notify back */
}

static void doorbells_init(void)
{
        for (unsigned i = 0; i < GUEST_DOORBELLS; i++) {
                struct ward_port_notify n = {doorbell_out[i] ? notify_doorbell : notify_nobody,
                                             (void *)(uintptr_t)doorbell_ch[i]};
                ward_console_port_init(&doorbell[i],
                                       (void *)(doorbell_vaddr + i * DOORBELL_PORT_BYTES),
                                       DOORBELL_PORT_BYTES, DOORBELL_RING_BYTES,
                                       doorbell_out[i] ? WARD_PORT_CLIENT : WARD_PORT_SERVER, &n);
        }
}
#else
static void doorbells_init(void)
{
}
#endif

/*
 * NICs: a virtio-net device whose frames go through a net port to the
 * network's switch PD, as on Linux they go to the switch process: the same
 * port client (src/port/net_client.c). NIC k's port is at net_vaddr + k *
 * NET_PORT_BYTES, formatted by the switch PD (which runs first), and its
 * channel wakes this PD when frames or room come.
 */
#if GUEST_NETS > 0
uintptr_t net_vaddr;
static const microkit_channel net_ch[GUEST_NETS] = GUEST_NET_CHANNELS;
static const uint8_t net_mac[GUEST_NETS][6] = GUEST_NET_MACS;
static struct ward_net_port_client nic[GUEST_NETS];

static void notify_switch(void *o)
{
        microkit_notify((microkit_channel)(uintptr_t)o);
}

static void nic_down(void *ctx)
{
        (void)ctx;
        microkit_dbg_puts("ward: a switch broke its port; that NIC's frames are dropped now\n");
}

static int nic_backend(unsigned k, union ward_backend *be, struct ward_device_params *p, char *err,
                       size_t errlen)
{
        struct ward_port_notify n = {notify_switch, (void *)(uintptr_t)net_ch[k]};
        memset(&nic[k], 0, offsetof(struct ward_net_port_client, rx)); /* a VM started again */
        if (ward_net_port_init(&nic[k].port, (void *)(net_vaddr + k * NET_PORT_BYTES),
                               NET_PORT_BYTES, NET_RING_BYTES, WARD_PORT_CLIENT, &n)) {
                ward_fmt(err, errlen, "NIC %u: its port does not fit its region", k);
                return -1;
        }
        nic[k].on_down = nic_down;
        be->net = ward_net_port_client_backend(&nic[k]);
        memcpy(p->mac, net_mac[k], sizeof(p->mac));
        return 0;
}

/* The devices exist: each NIC's port client learns its device. */
static void nics_attach(void)
{
        for (unsigned i = 0; i < vm.ndev; i++)
                if (vm.dev[i].type == &ward_virtio_net_type && vm.dev[i].index < GUEST_NETS)
                        nic[vm.dev[i].index].dev = vm.dev[i].state;
}

static void nics_notified(microkit_channel ch)
{
        if (state == VM_STOPPED)
                return; /* the frames wait in the port (the switch drops what does not fit) */
        for (unsigned k = 0; k < GUEST_NETS; k++)
                if (ch == net_ch[k])
                        ward_net_port_client_poll(&nic[k]);
}
#else
static int nic_backend(unsigned k, union ward_backend *be, struct ward_device_params *p, char *err,
                       size_t errlen)
{
        (void)be, (void)p;
        ward_fmt(err, errlen, "NIC %u: not in this PD's layout", k);
        return -1;
}

static void nics_attach(void)
{
}

static void nics_notified(microkit_channel ch)
{
        (void)ch;
}
#endif

static void console_out(void *host, unsigned con, const void *buf, uint32_t len)
{
        (void)host;
        if (con == 0) {
                ward_panic_watch_feed(&panic, buf, len);
                ward_sel4_serial_write(&serial, buf, len);
                return;
        }
#if GUEST_DOORBELLS > 0
        if (con <= GUEST_DOORBELLS && doorbell_out[con - 1])
                ward_console_port_write(&doorbell[con - 1], buf, len);
#endif
}

/*
 * Input (typed, or a doorbell's bytes) waits in its port's ring until the
 * guest has room for it (a free place in the UART's FIFO, a posted
 * virtio-console buffer): waiting[con] says bytes are left, and every trap
 * (the guest reading its UART, or notifying a queue) tries again while
 * there is room.
 */
#define NCONSOLES (1 + GUEST_DOORBELLS)
static bool waiting[NCONSOLES];

static uint32_t console_in(void *opaque, const void *buf, uint32_t len)
{
        unsigned con = (unsigned)(uintptr_t)opaque;
        if (state == VM_STOPPED || !vm.cfg)
                return len; /* typed into a VM that is not there: dropped */
        uint32_t took = ward_vm_console_input(&vm, con, buf, len);
        waiting[con] = took < len;
        return took;
}

static struct ward_console_port *input_port(unsigned con)
{
#if GUEST_DOORBELLS > 0
        if (con > 0)
                return &doorbell[con - 1];
#endif
        return con == 0 ? &serial : NULL;
}

static void poll_input(unsigned con)
{
        waiting[con] = false;
        ward_console_port_poll(input_port(con), console_in, (void *)(uintptr_t)con);
}

static void retry_input(void)
{
        if (state == VM_STOPPED || !vm.cfg)
                return;
        for (unsigned con = 0; con < NCONSOLES; con++)
                if (waiting[con] && ward_vm_console_room(&vm, con))
                        poll_input(con);
}

/* ---- what the VM core asks of this runner ---- */

static void *ram(void *host, unsigned i, uint64_t gpa, uint64_t size, char *err, size_t errlen)
{
        (void)host;
        if (i != 0 || gpa != GUEST_RAM_BASE || size != GUEST_RAM_SIZE) {
                ward_fmt(err, errlen, "RAM 0x%llx: not a region of the .system file",
                         (unsigned long long)gpa);
                return NULL;
        }
        return (void *)guest_ram_vaddr;
}

static void *shared(void *host, unsigned i, char *err, size_t errlen)
{
        (void)host;
        ward_fmt(err, errlen, "shared region %u: not built for seL4 yet", i);
        return NULL;
}

/* Device state, carved from a static pool: no free; a start of the VM empties it (boot_vm()). */
static uint8_t pool[384 * 1024] __attribute__((aligned(64)));
static size_t pool_used;

static void *alloc(void *host, size_t size)
{
        (void)host;
        size = (size + 63) & ~(size_t)63;
        if (size > sizeof(pool) - pool_used)
                return NULL;
        void *p = pool + pool_used;
        pool_used += size;
        return p; /* zero: static storage, never handed out twice */
}

static void notify_blk(void *o)
{
        (void)o;
        microkit_notify(CH_BLK);
}

static int backend(void *host, const struct ward_device_type *t, unsigned index,
                   union ward_backend *be, struct ward_device_params *p, char *err, size_t errlen)
{
        (void)host;
        if (t->cls == WARD_DEVICE_BLOCK && index == 0) {
                struct ward_port_notify bn = {notify_blk, NULL};
                struct ward_blk_port_config cfg = WARD_BLK_PORT_CONFIG_DEFAULT;
                cfg.nbufs = BLK_PORT_NBUFS;
                cfg.ring_slots = BLK_PORT_SLOTS;
                cfg.buf_bytes = BLK_PORT_BUF_BYTES;
                ward_blk_port_client_init(&blk_port, (void *)blk_port_vaddr, BLK_PORT_BYTES, &cfg,
                                          &bn);
                be->blk = ward_blk_port_client_backend(&blk_port);
                *p = (struct ward_device_params){.size_bytes = BLK_DISK_BYTES,
                                                 .id = "ward-sel4-disk0"};
                return 0;
        }
        if (t->cls == WARD_DEVICE_ENTROPY) {
                be->rng = ward_sel4_entropy(_guest_seed, (size_t)(_guest_seed_end - _guest_seed));
                return 0;
        }
        if (t->cls == WARD_DEVICE_NET)
                return nic_backend(index, be, p, err, errlen);
        ward_fmt(err, errlen, "device %s %u: no backend PD", t->name, index);
        return -1;
}

static const struct ward_vm_host_ops host_ops = {
    .ram = ram,
    .shared = shared,
    .alloc = alloc,
    .backend = backend,
    .console_out = console_out,
};

/* ---- boot images: linked in ---- */

static int load(void *host, unsigned which, void *dst, uint64_t len, char *err, size_t errlen)
{
        (void)host, (void)err, (void)errlen;
        memcpy(dst, which ? _guest_initrd : _guest_kernel, len);
        return 0;
}

static int write_dt(void *host, const void *dt, void *dst, size_t room, char *err, size_t errlen)
{
        (void)host, (void)dt; /* `ward dtb` wrote this blob from the same board */
        size_t len = (size_t)(_guest_dtb_end - _guest_dtb);
        if (len > room) {
                ward_fmt(err, errlen, "device tree: %u bytes do not fit", (unsigned)len);
                return -1;
        }
        memcpy(dst, _guest_dtb, len);
        return 0;
}

/*
 * The device tree is the blob `ward dtb` wrote on the build host from its
 * --virtio list; the VM core placed the devices from this config. Both
 * must agree window for window, or the guest drives the wrong device.
 */
static bool windows_match(void)
{
        static const uint64_t dt_windows[] = GUEST_VIRTIO_WINDOWS;
        static const char *const dt_types[] = GUEST_VIRTIO_TYPES;
        if (vm.ndev != GUEST_VIRTIO_COUNT)
                return false;
        for (unsigned i = 0; i < vm.ndev; i++) {
                const char *t = vm.dev[i].type->name;
                size_t n = strlen(t);
                if (vm.dev[i].base != dt_windows[i] || strlen(dt_types[i]) != n ||
                    memcmp(t, dt_types[i], n) != 0)
                        return false;
        }
        return true;
}

/* ---- entry points ---- */

static void stop(const char *why)
{
        state = VM_STOPPED;
        ward_microkit_stop_all(why);
        if (ward_sel4_serial_dropped)
                microkit_dbg_puts("ward: console bytes were lost (the serial PD was full)\n");
}

/*
 * The VM's life on seL4, driven by the guest (poweroff, a crash) and by the
 * admin PD (protected() below), as the supervisor drives a VMM process on
 * Linux: RUNNING, PAUSED (its vCPUs suspended where they are), STOPPED.
 * A start builds the VM afresh in place: device state from an empty pool,
 * guest RAM cleared, kernel, initrd and device tree copied in again. It
 * waits until the block port has no request in flight (the block PD would
 * otherwise complete one into the new VM's slots).
 */

#ifndef GUEST_AUTOSTART
#define GUEST_AUTOSTART 1
#endif
#ifndef GUEST_ON_FAILURE_RESTART
#define GUEST_ON_FAILURE_RESTART 0
#endif
#ifndef GUEST_MAX_RESTARTS
#define GUEST_MAX_RESTARTS 5
#endif
#ifndef GUEST_RESTART_BACKOFF_MS
#define GUEST_RESTART_BACKOFF_MS 1000
#endif

static bool backends_idle(void)
{
#ifdef GUEST_DISK
        return blk_port.nfree_slot == blk_port.cfg.ring_slots || blk_port.broken;
#else
        return true;
#endif
}

static void boot_vm(void)
{
        char err[160];
        struct ward_vm_images img = {
            .kernel_header = (const uint8_t *)_guest_kernel,
            .kernel_len = (uint64_t)(_guest_kernel_end - _guest_kernel),
            .initrd_len = (uint64_t)(_guest_initrd_end - _guest_initrd),
            .load = load,
            .write_dt = write_dt,
        };
        pool_used = 0;
        memset(pool, 0, sizeof(pool));
        panic = (struct ward_panic_watch){0};
        memset(&vm, 0, sizeof(vm));
        memset(waiting, 0, sizeof(waiting));
        /* The last guest's RAM, not the boot's: a first boot costs no 256 MiB clear. */
        static bool ran;
        if (ran)
                memset((void *)guest_ram_vaddr, 0, GUEST_RAM_SIZE);
        ran = true;
        doorbells_init();
        if (ward_vm_create(&vm, &config, &ward_hv_microkit, &host_ops, NULL, err, sizeof(err)))
                goto fail;
        nics_attach();
        if (!windows_match()) {
                ward_fmt(err, sizeof(err),
                         "the device tree and the VM place the virtio devices "
                         "differently (rebuild the image)");
                goto fail;
        }
        if (ward_vm_boot(&vm, &img, err, sizeof(err)))
                goto fail;
        ward_microkit_start(0);
        state = VM_RUNNING;
        microkit_dbg_puts("ward: guest started\n");
        return;
fail:
        state = VM_STOPPED;
        microkit_dbg_puts("ward: ");
        microkit_dbg_puts(err);
        microkit_dbg_puts("\n");
}

/* Starts the VM now, or as soon as the backends are idle. */
static void start_vm(void)
{
        start_pending = !backends_idle();
        if (!start_pending)
                boot_vm();
}

void init(void)
{
        microkit_dbg_puts("ward: seL4 Microkit VMM starting\n");
        struct ward_port_notify sn = {ward_sel4_serial_pending, NULL};
        ward_console_port_init(&serial, (void *)serial_port_vaddr, SERIAL_PORT_BYTES,
                               SERIAL_RING_BYTES, WARD_PORT_CLIENT, &sn);
        ward_microkit_use_timer(CH_TIMER);
        if (GUEST_AUTOSTART)
                boot_vm();
        else
                microkit_dbg_puts("ward: the VM waits for the admin PD's start\n");
}

void notified(microkit_channel ch)
{
        ward_microkit_count_notified(ch);
        if (ch == CH_SERIAL)
                poll_input(0);
        else if (ch == CH_BLK)
                ward_blk_port_client_poll(&blk_port);
        if (start_pending && backends_idle())
                start_vm();
        else if (ch == CH_TIMER) {
                ward_microkit_timer_fired();
                backoff_check();
        }
        nics_notified(ch);
#if GUEST_DOORBELLS > 0
        for (unsigned i = 0; i < GUEST_DOORBELLS; i++)
                if (ch == doorbell_ch[i] && !doorbell_out[i])
                        poll_input(1 + i);
#endif
        ward_sel4_serial_flush();
}

/* The failure policy (policy.on_failure): restart, up to the limit, or stay stopped. */
static void failed(void)
{
        if (!GUEST_ON_FAILURE_RESTART)
                return;
        if (restarts >= GUEST_MAX_RESTARTS) {
                microkit_dbg_puts(
                    "ward: the VM failed again; policy.max_restarts reached, it stays "
                    "stopped\n");
                return;
        }
        restarts++;
        microkit_dbg_puts("ward: the VM failed; policy.on_failure restarts it after "
                          "policy.restart_backoff_ms\n");
        backoff_deadline = ward_microkit_now() + ward_microkit_ticks(GUEST_RESTART_BACKOFF_MS);
        backoff_pending = !ward_microkit_wake_at(backoff_deadline);
        if (!backoff_pending)
                start_vm();
}

/* The timer PD's notification: the back-off may be over (or it was a vCPU's wake-up). */
static void backoff_check(void)
{
        if (!backoff_pending)
                return;
        if (ward_microkit_now() < backoff_deadline && !ward_microkit_wake_at(backoff_deadline))
                return;
        backoff_pending = false;
        start_vm();
}

/* The admin PD's call (ward/common/admin_call.h). */

static unsigned admin_op(unsigned op)
{
        switch (op) {
        case WARD_POLICY_PAUSE:
                if (state != VM_RUNNING)
                        return state == VM_PAUSED ? WARD_ADMIN_ALREADY : WARD_ADMIN_NOT_RUNNING;
                ward_microkit_pause();
                state = VM_PAUSED;
                return WARD_ADMIN_DONE;
        case WARD_POLICY_RESUME:
                if (state != VM_PAUSED)
                        return WARD_ADMIN_NOT_PAUSED;
                ward_microkit_resume();
                state = VM_RUNNING;
                return WARD_ADMIN_DONE;
        case WARD_POLICY_STOP:
                if (state == VM_STOPPED && !start_pending && !backoff_pending)
                        return WARD_ADMIN_ALREADY;
                start_pending = backoff_pending = false;
                if (state != VM_STOPPED)
                        stop("stopped by the admin PD");
                return WARD_ADMIN_DONE;
        case WARD_POLICY_START:
        case WARD_POLICY_RESTART:
                if (op == WARD_POLICY_START && (state != VM_STOPPED || start_pending))
                        return WARD_ADMIN_ALREADY;
                if (state != VM_STOPPED)
                        stop("restarted by the admin PD");
                restarts = 0;
                backoff_pending = false;
                start_vm();
                return start_pending ? WARD_ADMIN_STARTING : WARD_ADMIN_DONE;
        case WARD_ADMIN_CALL_STATUS:
                return WARD_ADMIN_DONE;
        default:
                return WARD_ADMIN_NOT_RUNNING;
        }
}

microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
        (void)msginfo;
        if (ch != CH_ADMIN)
                return microkit_msginfo_new(1, 0);
        unsigned r = admin_op((unsigned)microkit_mr_get(0));
        microkit_mr_set(0, r);
        microkit_mr_set(1, start_pending || backoff_pending ? WARD_ADMIN_STARTING_STATE
                                                            : (seL4_Word)state);
        microkit_mr_set(2, restarts);
        ward_sel4_serial_flush();
        return microkit_msginfo_new(0, 3);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply)
{
        struct ward_hv_exit ex = {.kind = WARD_HV_EXIT_KICKED};
        enum ward_microkit_fault_result r = ward_microkit_fault(&vm.bus, child, msginfo, &ex);
        retry_input();
        /* The UART's data (0) and line-status (5) registers are polled per byte. */
        if (ex.addr != WARD_ARM64_UART_BASE && ex.addr != WARD_ARM64_UART_BASE + 5)
                ward_sel4_serial_flush();
        if (r == WARD_MICROKIT_RESUME) {
                *reply = microkit_msginfo_new(0, 0);
                return seL4_True;
        }
        if (r == WARD_MICROKIT_EXIT) {
                switch (ward_vm_exit(&vm, child, &ex)) {
                case WARD_VM_POWEROFF:
                        stop("guest powered off");
                        break;
                case WARD_VM_REBOOT:
                        /* As on Linux: a reboot after a panic (panic=-1) is a failure,
                         * one the guest asked for an exit. */
                        if (panic.seen) {
                                stop("guest kernel panicked (and asked to reboot)");
                                failed();
                        } else {
                                stop("guest rebooted; ward stops the VM");
                        }
                        break;
                default: {
                        char why[200];
                        ward_fmt(why, sizeof(why), "vCPU %u: %s at pc 0x%llx", (unsigned)child,
                                 ex.reason, (unsigned long long)ex.pc);
                        stop(why);
                        failed();
                        break;
                }
                }
        }
        return seL4_False;
}
