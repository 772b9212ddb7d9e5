/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMM PD's exit counters and debug printing (see exit_counts.h). */
#include "exit_counts.h"

#include "ward/arch/arm64/arm64_esr.h"
#include "ward/arch/arm64/arm64_map.h"
#include "ward/machine/uart16550.h"

#include <microkit.h>

void ward_mk_puts_hex(const char *what, uint64_t v)
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

void ward_mk_puts_dec(uint64_t v)
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

static uint64_t exits[EXIT_KINDS];
static uint64_t exits_notified[EXIT_CHANNELS];

unsigned ward_mk_vm_fault_kind(uint64_t addr, unsigned ncpus)
{
        if (addr - WARD_ARM64_UART_BASE < WARD_UART_MMIO_SIZE)
                return EXIT_VM_UART;
        if (addr - WARD_ARM64_VIRTIO_BASE < WARD_ARM64_VIRTIO_STRIDE * WARD_ARM64_MAX_VIRTIO)
                return EXIT_VM_VIRTIO;
        if (addr - WARD_ARM64_GIC_DIST_BASE < WARD_ARM64_GIC_DIST_SIZE ||
            addr - WARD_ARM64_GIC_REDIST_BASE < WARD_ARM64_GIC_REDIST_PER_CPU * ncpus)
                return EXIT_VM_GIC;
        return EXIT_VM_OTHER;
}

unsigned ward_mk_vcpu_fault_kind(uint32_t esr)
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
void ward_mk_print_exits(void)
{
        /* NULL: a kind with one counter, whose line has the number alone. */
        static const char *const names[EXIT_KINDS] = {
            "uart", "virtio", "gic",   "other", "wfx", "hvc",
            "smc",  "sysreg", "other", NULL,    NULL,  NULL,
        };
        static const struct {
                const char *kind;
                unsigned first, end;
        } groups[] = {
            {"vm-fault", EXIT_VM_UART, EXIT_VCPU_WFX},
            {"vcpu-fault", EXIT_VCPU_WFX, EXIT_MAINTENANCE},
            {"vgic-maintenance", EXIT_MAINTENANCE, EXIT_VPPI},
            {"vppi", EXIT_VPPI, EXIT_PARKED},
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
                        ward_mk_puts_dec(exits[k]);
                }
                microkit_dbg_puts("\n");
        }
        microkit_dbg_puts("ward: exits faults ");
        ward_mk_puts_dec(total);
        /* Not an exit of its own: how many of the WFIs parked their vCPU. */
        microkit_dbg_puts("\nward: wfi parked ");
        ward_mk_puts_dec(exits[EXIT_PARKED]);
        microkit_dbg_puts("\nward: exits notified");
        for (unsigned ch = 0; ch < EXIT_CHANNELS; ch++) {
                if (exits_notified[ch] == 0)
                        continue;
                microkit_dbg_puts(" ch");
                ward_mk_puts_dec(ch);
                microkit_dbg_puts("=");
                ward_mk_puts_dec(exits_notified[ch]);
        }
        microkit_dbg_puts("\n");
}

void ward_mk_count(unsigned kind)
{
        if (kind < EXIT_KINDS)
                exits[kind]++;
}

void ward_mk_count_notified(unsigned ch)
{
        if (ch < EXIT_CHANNELS)
                exits_notified[ch]++;
}
