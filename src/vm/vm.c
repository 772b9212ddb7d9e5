/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM core: assembles one VM from its config (memory, vCPUs, devices,
 * interrupt wiring, console routing) and dispatches its exits. The
 * architecture's part (address map, interrupt controller, boot) is in
 * src/arch/<isa>/vm_<isa>.c behind ward/vm/vm_arch.h, picked by the
 * hypervisor backend's architecture.
 */
#include "ward/vm/vm.h"

#include "ward/vm/vm_arch.h"

const char *const ward_ram_backing_names[3] = {"thp", "off", "hugetlb"};
const char *const ward_seccomp_mode_names[3] = {"on", "log", "off"};

const char *ward_default_cmdline(enum ward_console_kind console)
{
        return console == WARD_CONSOLE_VIRTIO ? "console=hvc0 earlycon panic=-1"
                                              : "console=ttyS0 earlycon panic=-1";
}

void ward_net_default_mac(unsigned index, uint8_t mac[6])
{
        static const uint8_t base[5] = {0x02, 0x77, 0x61, 0x72, 0x64};
        memcpy(mac, base, sizeof(base));
        mac[5] = (uint8_t)index;
}

const struct ward_vm_arch *ward_vm_arch_of(const struct ward_hv_ops *hv)
{
        static const struct ward_vm_arch *const arches[] = {&ward_vm_arch_arm64,
                                                            &ward_vm_arch_x86_64};
        for (size_t i = 0; i < WARD_ARRAY_SIZE(arches); i++)
                if (ward_hv_arch_is(hv, arches[i]->name))
                        return arches[i];
        return NULL;
}

int ward_vm_load_image(struct ward_vm *vm, const struct ward_vm_images *img, unsigned which,
                       uint64_t gpa, char *err, size_t errlen)
{
        uint64_t len = which ? img->initrd_len : img->kernel_len;
        if (len == 0)
                return 0;
        void *dst = ward_gmem_ptr(&vm->gm, gpa, len);
        if (!dst) {
                ward_fmt(err, errlen, "%s does not fit in guest RAM", which ? "initrd" : "kernel");
                return -1;
        }
        return img->load(vm->host, which, dst, len, err, errlen);
}

/* ---- memory ---- */

static int map(struct ward_vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
               unsigned flags, char *why, size_t whylen)
{
        why[0] = '\0';
        return vm->hv->map_memory(vm->hvm, slot, gpa, size, hva, flags, why, whylen);
}

static int add_ram(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        char why[128];
        vm->ram = vm->host_ops->ram(vm->host, 0, vm->ram_base, vm->ram_size, err, errlen);
        if (!vm->ram)
                return -1;
        ward_gmem_add(&vm->gm, vm->ram_base, vm->ram_size, vm->ram);
        if (map(vm, WARD_VM_SLOT_BOOT_RAM, vm->ram_base, vm->ram_size, vm->ram, 0, why,
                sizeof(why))) {
                ward_fmt(err, errlen, "cannot map guest RAM: %s", why);
                return -1;
        }
        for (unsigned i = 0; i < cfg->nram; i++) {
                const struct ward_ram_config *rc = &cfg->ram[i];
                void *p = vm->host_ops->ram(vm->host, 1 + i, rc->gpa, rc->size, err, errlen);
                if (!p)
                        return -1;
                vm->ram_extra[i] = p;
                if (ward_gmem_add(&vm->gm, rc->gpa, rc->size, p) ||
                    map(vm, WARD_VM_SLOT_RAM(i), rc->gpa, rc->size, p, 0, why, sizeof(why))) {
                        ward_fmt(err, errlen, "--ram 0x%llx: cannot map it into the guest: %s",
                                 (unsigned long long)rc->gpa, why[0] ? why : "overlap");
                        return -1;
                }
        }
        return 0;
}

/* Shared regions are guest memory too, but no device reads or writes them. */
static int add_shared(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        char why[128];
        for (unsigned i = 0; i < cfg->nshm; i++) {
                const struct ward_shm_config *sc = &cfg->shm[i];
                void *p = vm->host_ops->shared(vm->host, i, err, errlen);
                if (!p)
                        return -1;
                vm->shm[i] = p;
                if (map(vm, WARD_VM_SLOT_SHM(i), sc->gpa, sc->size, p,
                        sc->read_only ? WARD_HV_MEM_READONLY : 0, why, sizeof(why))) {
                        ward_fmt(err, errlen, "--shm %d: cannot map it into the guest%s: %s",
                                 sc->fd, sc->read_only ? " read-only" : "", why);
                        return -1;
                }
        }
        return 0;
}

/* ---- interrupts ---- */

static void device_irq(void *opaque, bool level)
{
        struct ward_vm_dev *d = opaque;
        struct ward_vm *vm = d->vm;
        if (!level)
                return; /* edge-triggered: only rising events matter */
        if (vm->host_ops->irq_edge && vm->host_ops->irq_edge(vm->host, d->line))
                return;
        vm->hv->irq_line(vm->hvm, d->line, true);
        vm->hv->irq_line(vm->hvm, d->line, false);
}

static void uart_irq(void *opaque, bool level)
{
        struct ward_vm *vm = opaque;
        vm->hv->irq_line(vm->hvm, vm->uart_at.line, level);
}

/* ---- consoles ---- */

/* Console output, tagged with the console's number: the runner routes it. */
static void console_out(void *opaque, const void *buf, uint32_t len)
{
        struct ward_vm_dev *d = opaque;
        d->vm->host_ops->console_out(d->vm->host, d->index, buf, len);
}

static void uart_out(void *opaque, const void *buf, uint32_t len)
{
        struct ward_vm *vm = opaque;
        vm->host_ops->console_out(vm->host, 0, buf, len);
}

unsigned ward_vm_consoles(const struct ward_vm *vm)
{
        return 1 + vm->cfg->ndoorbells;
}

uint32_t ward_vm_console_input(struct ward_vm *vm, unsigned con, const void *buf, uint32_t len)
{
        if (con >= ward_vm_consoles(vm))
                return 0;
        if (vm->console[con])
                return ward_vconsole_input(vm->console[con], buf, len);
        return con == 0 ? ward_uart_input(&vm->uart, buf, len) : 0;
}

uint32_t ward_vm_console_room(struct ward_vm *vm, unsigned con)
{
        if (con >= ward_vm_consoles(vm))
                return 0;
        if (vm->console[con])
                return ward_vconsole_input_room(vm->console[con]);
        return con == 0 ? ward_uart_rx_room(&vm->uart) : 0;
}

/* ---- devices ---- */

static int add_device(struct ward_vm *vm, const struct ward_device_type *t, unsigned index,
                      char *err, size_t errlen)
{
        if (vm->ndev == WARD_VM_MAX_DEVICES) {
                ward_fmt(err, errlen, "internal: too many devices");
                return -1;
        }
        struct ward_vm_dev *d = &vm->dev[vm->ndev];
        *d = (struct ward_vm_dev){.type = t, .index = index, .vm = vm};
        if (vm->arch->device_window(vm, &d->base, &d->line)) {
                ward_fmt(err, errlen, "internal: too many virtio devices");
                return -1;
        }
        d->state = vm->host_ops->alloc(vm->host, t->state_size);
        if (!d->state) {
                ward_fmt(err, errlen, "out of memory");
                return -1;
        }
        vm->ndev++;
        union ward_backend be;
        struct ward_device_params p = {0};
        memset(&be, 0, sizeof(be));
        if (t->cls == WARD_DEVICE_CONSOLE)
                be.console = (struct ward_console_backend){console_out, d};
        else if (vm->host_ops->backend(vm->host, t, index, &be, &p, err, errlen))
                return -1;
        d->v = t->setup(d->state, &be, &p);
        if (t->cls == WARD_DEVICE_CONSOLE && index < WARD_VM_MAX_CONSOLES)
                vm->console[index] = d->state;
        ward_virtio_init(d->v, &vm->gm, device_irq, d);
        if (ward_bus_register(&vm->bus, d->base, WARD_VIRTIO_MMIO_SIZE, &ward_virtio_mmio_ops,
                              d->v)) {
                ward_fmt(err, errlen, "internal: virtio window %u overlaps", vm->ndev - 1);
                return -1;
        }
        return 0;
}

/*
 * The devices a config asks for, in the order of their windows: the main
 * virtio console, the doorbells (so their hvc numbers are predictable),
 * the disks, entropy, the NICs, then vsock.
 */
static int add_devices(struct ward_vm *vm, char *err, size_t errlen)
{
        const struct ward_vm_config *cfg = vm->cfg;
        ward_uart_init(&vm->uart, uart_out, vm, uart_irq, vm);
        /* On the port-I/O bus (x86: 8 ports, as on a PC) or in an MMIO page. */
        if (ward_bus_register(vm->uart_at.pio ? &vm->io : &vm->bus, vm->uart_at.base,
                              vm->uart_at.pio ? 8 : WARD_UART_MMIO_SIZE, &ward_uart_mmio_ops,
                              &vm->uart)) {
                ward_fmt(err, errlen, "internal: UART window");
                return -1;
        }
        if (vm->arch->board_devices && vm->arch->board_devices(vm, err, errlen))
                return -1;
        if (cfg->console == WARD_CONSOLE_VIRTIO &&
            add_device(vm, &ward_virtio_console_type, 0, err, errlen))
                return -1;
        for (unsigned i = 0; i < cfg->ndoorbells; i++)
                if (add_device(vm, &ward_virtio_console_type, 1 + i, err, errlen))
                        return -1;
        for (unsigned i = 0; i < cfg->ndisks; i++)
                if (add_device(vm, &ward_virtio_blk_type, i, err, errlen))
                        return -1;
        if (cfg->rng && add_device(vm, &ward_virtio_rng_type, 0, err, errlen))
                return -1;
        for (unsigned i = 0; i < cfg->nnets; i++)
                if (add_device(vm, &ward_virtio_net_type, i, err, errlen))
                        return -1;
        if (cfg->vsock.cid && add_device(vm, &ward_virtio_vsock_type, 0, err, errlen))
                return -1;
        return 0;
}

/* How many virtio devices add_devices() will add for cfg. */
static unsigned device_count(const struct ward_vm_config *cfg)
{
        return (cfg->console == WARD_CONSOLE_VIRTIO) + cfg->ndoorbells + cfg->ndisks +
               (cfg->rng ? 1u : 0u) + cfg->nnets + (cfg->vsock.cid ? 1u : 0u);
}

/* ---- life cycle ---- */

static int add_vcpus(struct ward_vm *vm, char *err, size_t errlen)
{
        unsigned n = vm->cfg->cpus;
        vm->vcpu = vm->host_ops->alloc(vm->host, n * sizeof(*vm->vcpu));
        if (!vm->vcpu) {
                ward_fmt(err, errlen, "out of memory");
                return -1;
        }
        for (unsigned i = 0; i < n; i++)
                if (vm->hv->vcpu_create(vm->hvm, i, &vm->vcpu[i], err, errlen))
                        return -1;
        return 0;
}

/* The counts a config may hold: an integrator's config is checked like ward run's. */
static int check_counts(const struct ward_vm_config *cfg, char *err, size_t errlen)
{
        if (cfg->ndisks > WARD_MAX_DISKS || cfg->ndoorbells > WARD_MAX_DOORBELLS ||
            cfg->nshm > WARD_MAX_SHM || cfg->nram > WARD_MAX_RAM_EXTRA ||
            cfg->nnets > WARD_MAX_NETS) {
                ward_fmt(err, errlen,
                         "config: at most %d disks, %d doorbells, %d shared regions, %d more "
                         "RAM regions and %d NICs",
                         WARD_MAX_DISKS, WARD_MAX_DOORBELLS, WARD_MAX_SHM, WARD_MAX_RAM_EXTRA,
                         WARD_MAX_NETS);
                return -1;
        }
        return 0;
}

int ward_vm_create(struct ward_vm *vm, const struct ward_vm_config *cfg,
                   const struct ward_hv_ops *hv, const struct ward_vm_host_ops *host_ops,
                   void *host, char *err, size_t errlen)
{
        memset(vm, 0, sizeof(*vm));
        vm->cfg = cfg;
        vm->hv = hv;
        vm->host_ops = host_ops;
        vm->host = host;
        vm->bootargs = cfg->cmdline ? cfg->cmdline : ward_default_cmdline(cfg->console);
        ward_gmem_init(&vm->gm);
        ward_bus_init(&vm->bus, vm->windows, WARD_ARRAY_SIZE(vm->windows));
        ward_bus_init(&vm->io, vm->io_windows, WARD_ARRAY_SIZE(vm->io_windows));
        vm->arch = ward_vm_arch_of(hv);
        if (!vm->arch) {
                ward_fmt(err, errlen,
                         "hypervisor backend %s is for %s, which ward has no machine for", hv->name,
                         hv->arch ? hv->arch : "no architecture");
                return -1;
        }
        if (check_counts(cfg, err, errlen) || vm->arch->board(vm, err, errlen))
                return -1;
        if (device_count(cfg) > vm->arch->max_devices) {
                ward_fmt(err, errlen,
                         "%u virtio devices (consoles, doorbells, disks, entropy, NICs, vsock): "
                         "ward's %s board has room for %u (%s)",
                         device_count(cfg), vm->arch->name, vm->arch->max_devices,
                         vm->arch->device_limit);
                return -1;
        }
        if (hv->vm_create(&vm->hvm, cfg->cpus, err, errlen))
                return -1;
        if (add_ram(vm, err, errlen) || add_shared(vm, err, errlen))
                return -1;
        if (vm->arch->irqchip(vm, err, errlen) || add_vcpus(vm, err, errlen) ||
            vm->arch->irqchip_finalize(vm, err, errlen))
                return -1;
        if (add_devices(vm, err, errlen))
                return -1;
        /*
         * The UART's transmit register (offset 0) takes one byte per trapped
         * write; letting the hypervisor queue those writes halves the exits
         * per byte of console output. Its other registers still trap, and
         * every exit replays the queue first, so the guest sees the same
         * order. (A UART on port I/O is not queued.)
         */
        if (!vm->uart_at.pio && hv->mmio_coalesce &&
            hv->mmio_coalesce(vm->hvm, vm->uart_at.base, 1) == 0)
                vm->coalesced = true;
        return 0;
}

int ward_vm_boot(struct ward_vm *vm, const struct ward_vm_images *img, char *err, size_t errlen)
{
        return vm->arch->boot(vm, img, err, errlen);
}

static void replay_write(void *opaque, uint64_t addr, const void *data, unsigned len)
{
        struct ward_vm *vm = opaque;
        uint8_t buf[8] = {0};
        memcpy(buf, data, len < sizeof(buf) ? len : sizeof(buf));
        ward_bus_access(&vm->bus, addr, true, buf, len);
}

void ward_vm_drain(struct ward_vm *vm)
{
        if (vm->coalesced)
                vm->hv->mmio_drain(vm->hvm, replay_write, vm);
}

enum ward_vm_event ward_vm_exit(struct ward_vm *vm, unsigned vcpu, struct ward_hv_exit *ex)
{
        (void)vcpu;
        /* Queued UART writes came first: replay them before this exit. */
        ward_vm_drain(vm);
        switch (ex->kind) {
        case WARD_HV_EXIT_MMIO:
                ward_bus_access(&vm->bus, ex->addr, ex->is_write, ex->data, ex->len);
                return WARD_VM_RUNNING;
        case WARD_HV_EXIT_IO:
                ward_bus_access(&vm->io, ex->addr, ex->is_write, ex->data, ex->len);
                return vm->stop; /* a power port may have ended the VM */
        case WARD_HV_EXIT_KICKED:
                return WARD_VM_RUNNING;
        case WARD_HV_EXIT_SHUTDOWN:
                return WARD_VM_POWEROFF;
        case WARD_HV_EXIT_RESET:
                return WARD_VM_REBOOT;
        case WARD_HV_EXIT_ERROR:
                return WARD_VM_FAILED;
        }
        return WARD_VM_FAILED;
}

void ward_vm_destroy(struct ward_vm *vm)
{
        if (vm->vcpu) {
                for (unsigned i = 0; i < vm->cfg->cpus; i++)
                        if (vm->vcpu[i])
                                vm->hv->vcpu_destroy(vm->vcpu[i]);
        }
        if (vm->hvm)
                vm->hv->vm_destroy(vm->hvm);
        vm->hvm = NULL;
        if (vm->host_ops->free) {
                for (unsigned i = 0; i < vm->ndev; i++)
                        vm->host_ops->free(vm->host, vm->dev[i].state);
                vm->host_ops->free(vm->host, vm->vcpu);
        }
        vm->ndev = 0;
        vm->vcpu = NULL;
}
