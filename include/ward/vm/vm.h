/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VM core: one virtual machine, assembled in exactly one place from one
 * struct ward_vm_config. It owns the guest-physical address map, the
 * devices (built from the registry, ward/virtio/device.h), interrupt wiring,
 * console routing and the boot state, and dispatches every exit. It is
 * freestanding: what it needs from the world arrives through the
 * hypervisor seam (ward/hv/hv.h) and through struct ward_vm_host_ops, which a
 * runner fills in: the Linux VMM process (src/host/linux/vmm.c), the seL4
 * protection domain (src/hv/microkit/vmm_pd.c), or an integrator's own VMM.
 *
 * Order of calls: ward_vm_create() (memory, interrupt controller, vCPUs,
 * devices), then ward_vm_boot() (images, device tree, boot registers),
 * then run: every exit of a run-loop backend goes to ward_vm_exit(); a
 * fault-driven backend (seL4) decodes MMIO onto vm->bus itself and hands
 * ward_vm_exit() the rest. ward_vm_destroy() at the
 * end, also after a failed create. The runner serialises calls (one lock).
 */
#ifndef WARD_VM_H
#define WARD_VM_H

#include "ward/arch/arm64/arm64_platform.h"
#include "ward/arch/x86_64/x86_platform.h"
#include "ward/machine/bus.h"
#include "ward/virtio/device.h"
#include "ward/machine/gmem.h"
#include "ward/hv/hv.h"
#include "ward/machine/uart16550.h"
#include "ward/vm/vm_config.h"

#define WARD_VM_MAX_DEVICES (WARD_MAX_DISKS + WARD_MAX_DOORBELLS + WARD_MAX_NETS + 3)
#define WARD_VM_MAX_CONSOLES (1 + WARD_MAX_DOORBELLS) /* 0: the main console */

/* Memory slots: the boot RAM, the shared regions, then the other RAM. */
#define WARD_VM_SLOT_BOOT_RAM 0u
#define WARD_VM_SLOT_SHM(i) (1u + (i))
#define WARD_VM_SLOT_RAM(i) (1u + WARD_MAX_SHM + (i))

struct ward_vm;

/* What a runner brings. Every function gets the runner's `host` pointer. */
struct ward_vm_host_ops {
        /*
         * Host memory for guest RAM: region 0 is the boot RAM, i >= 1 is
         * cfg->ram[i - 1]. NULL on failure, with err filled.
         */
        void *(*ram)(void *host, unsigned i, uint64_t gpa, uint64_t size, char *err, size_t errlen);
        /* Host memory for the shared region cfg->shm[i]; NULL with err on failure. */
        void *(*shared)(void *host, unsigned i, char *err, size_t errlen);
        /* Zeroed storage that lives until free (NULL: out of memory). */
        void *(*alloc)(void *host, size_t size);
        void (*free)(void *host, void *p); /* optional */
        /*
         * The backend of a block or entropy device: device `index` of its
         * class (disk i is cfg->disks[i]). Fills be and p. A backend never
         * sees the device: it gets requests through be and completes them
         * by id. Consoles are routed by the VM: see console_out.
         */
        int (*backend)(void *host, const struct ward_device_type *t, unsigned index,
                       union ward_backend *be, struct ward_device_params *p, char *err,
                       size_t errlen);
        /* Guest output on console con: 0 the main one, 1 + i doorbell i. */
        void (*console_out)(void *host, unsigned con, const void *buf, uint32_t len);
        /*
         * Optional: raises an edge on interrupt line `line` faster than
         * hv->irq_line (an irqfd); returns false to fall back to irq_line.
         */
        bool (*irq_edge)(void *host, unsigned line);
};

/* One device of the VM, in the order of its window and interrupt line. */
struct ward_vm_dev {
        const struct ward_device_type *type;
        unsigned index; /* within its class: disk number, console number */
        struct ward_virtio *v;
        void *state;
        uint64_t base; /* its MMIO window */
        unsigned line; /* its interrupt line */
        struct ward_vm *vm;
};

/* How much of the kernel's start ward_vm_images.kernel_header holds (an x86 bzImage's setup header
 * ends near 0x290). */
#define WARD_VM_KERNEL_HEADER 1024u

/* The images ward_vm_boot() places in guest RAM. */
struct ward_vm_images {
        /* The kernel's first WARD_VM_KERNEL_HEADER bytes (all of it when it is shorter). */
        const uint8_t *kernel_header;
        uint64_t kernel_len;
        uint64_t initrd_len; /* 0: no initrd */
        /* Copies image `which` (0 kernel, 1 initrd), len bytes, to dst. */
        int (*load)(void *host, unsigned which, void *dst, uint64_t len, char *err, size_t errlen);
        /*
         * Writes the device tree that dt (struct ward_arm64_dt on arm64)
         * describes into dst, at most room bytes: libfdt on Linux, the blob
         * `ward dtb` wrote at build time on seL4. Not called on x86_64,
         * whose ACPI tables the VM core writes itself.
         */
        int (*write_dt)(void *host, const void *dt, void *dst, size_t room, char *err,
                        size_t errlen);
        uint64_t kaslr_seed;
        const uint8_t *rng_seed; /* 32 bytes, or NULL */
};

/* Why the VM stops, from ward_vm_exit(). */
enum ward_vm_event {
        WARD_VM_RUNNING,  /* go on */
        WARD_VM_POWEROFF, /* the guest powered off */
        WARD_VM_REBOOT,   /* the guest asked to reboot: ward stops the VM */
        WARD_VM_FAILED,   /* the vCPU cannot go on: ex->reason says why */
};

struct ward_vm {
        const struct ward_vm_config *cfg;
        const struct ward_hv_ops *hv;
        struct ward_hv_vm *hvm;
        const struct ward_vm_host_ops *host_ops;
        void *host;

        const struct ward_vm_arch *arch; /* picked by hv->arch (vm_arch.h) */
        uint64_t ram_base, ram_size;     /* the boot RAM, as the arch's board placed it */
        struct {
                uint64_t base; /* MMIO address, or I/O port when pio */
                unsigned line;
                bool pio;
        } uart_at;
        union {
                struct ward_arm64_platform arm64;
                struct ward_x86_platform x86;
        } board;                 /* the arch's address map */
        enum ward_vm_event stop; /* set by a board device (x86: the power ports); RUNNING: none */
        uint8_t *ram;            /* the boot RAM */
        void *ram_extra[WARD_MAX_RAM_EXTRA];
        void *shm[WARD_MAX_SHM];
        struct ward_gmem gm;
        struct ward_bus bus;
        struct ward_bus_window windows[WARD_VM_MAX_DEVICES + 4];
        struct ward_bus io; /* port I/O (x86); empty on arm64 */
        struct ward_bus_window io_windows[4];

        struct ward_uart uart;
        struct ward_vm_dev dev[WARD_VM_MAX_DEVICES];
        unsigned ndev;
        struct ward_vconsole *console[WARD_VM_MAX_CONSOLES]; /* NULL: on the UART / none */

        struct ward_hv_vcpu **vcpu; /* cfg->cpus entries */
        const char *bootargs;       /* the kernel command line: cfg's, or the default */
        bool coalesced;             /* UART transmit writes are queued by the hypervisor */
};

/*
 * Builds the VM from cfg on hv: guest memory, the interrupt controller, the
 * vCPUs, the UART and every device with its backend. err gets one line
 * that names what failed. cfg and host must outlive the VM.
 */
int ward_vm_create(struct ward_vm *vm, const struct ward_vm_config *cfg,
                   const struct ward_hv_ops *hv, const struct ward_vm_host_ops *host_ops,
                   void *host, char *err, size_t errlen);
/* Places kernel, initrd and device tree and sets the boot vCPU's registers. */
int ward_vm_boot(struct ward_vm *vm, const struct ward_vm_images *img, char *err, size_t errlen);
/*
 * Handles one exit of vCPU `vcpu` (from vcpu_run, or a fault turned into
 * an exit). MMIO and I/O reads are completed in ex->data.
 */
enum ward_vm_event ward_vm_exit(struct ward_vm *vm, unsigned vcpu, struct ward_hv_exit *ex);
/* Replays guest writes the hypervisor queued; call now and then between exits. */
void ward_vm_drain(struct ward_vm *vm);
/* Host input for console con; returns the bytes the guest could take. */
uint32_t ward_vm_console_input(struct ward_vm *vm, unsigned con, const void *buf, uint32_t len);
/* How many bytes console con can take now (0: wait, back-pressure). */
uint32_t ward_vm_console_room(struct ward_vm *vm, unsigned con);
/* Number of consoles: the main one plus the doorbells. */
unsigned ward_vm_consoles(const struct ward_vm *vm);
/* Releases the vCPUs, the hypervisor VM and the devices' storage. */
void ward_vm_destroy(struct ward_vm *vm);

#endif
