/* SPDX-License-Identifier: BSD-2-Clause */
/* The virtual GICv2 distributor: registers, delivery, and hostile accesses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ward/arch/arm64/arm64_vgic.h"

#define NCPUS 4
#define LOG_MAX 512

#define CTLR 0x000
#define TYPER 0x004
#define IIDR 0x008
#define IGROUPR(n) (0x080 + 4 * (n))
#define ISENABLER(n) (0x100 + 4 * (n))
#define ICENABLER(n) (0x180 + 4 * (n))
#define ISPENDR(n) (0x200 + 4 * (n))
#define ICPENDR(n) (0x280 + 4 * (n))
#define ISACTIVER(n) (0x300 + 4 * (n))
#define ICACTIVER(n) (0x380 + 4 * (n))
#define IPRIORITYR(irq) (0x400 + (irq))
#define ITARGETSR(irq) (0x800 + (irq))
#define ICFGR(n) (0xc00 + 4 * (n))
#define SGIR 0xf00
#define CPENDSGIR(sgi) (0xf10 + (sgi))
#define SPENDSGIR(sgi) (0xf20 + (sgi))
#define PIDR2 0xfe8

struct inj {
        unsigned vcpu, irq;
        uint8_t priority;
};

struct ctx {
        struct ward_vgic g;
        unsigned ncpus;
        struct inj log[LOG_MAX]; /* accepted injections, in order */
        unsigned nlog;
        unsigned calls; /* inject() calls, accepted or not */
        unsigned free_lr[WARD_VGIC_MAX_CPUS];
        unsigned refuse_irq; /* inject() refuses this one whatever free_lr says */
};

static bool inject(void *opaque, unsigned vcpu, unsigned irq, uint8_t priority)
{
        struct ctx *x = opaque;
        /* Never a vCPU or an interrupt outside the VM, whatever the guest did. */
        assert_true(vcpu < x->ncpus);
        assert_true(irq < WARD_VGIC_NR_IRQS);
        x->calls++;
        if (x->free_lr[vcpu] == 0 || irq == x->refuse_irq)
                return false;
        x->free_lr[vcpu]--;
        assert_true(x->nlog < LOG_MAX);
        x->log[x->nlog++] = (struct inj){vcpu, irq, priority};
        return true;
}

static const struct ward_vgic_ops ops = {.inject = inject};

static void reinit(struct ctx *x, unsigned ncpus)
{
        memset(x, 0, sizeof(*x));
        x->ncpus = ncpus;
        x->refuse_irq = ~0u;
        for (unsigned i = 0; i < WARD_VGIC_MAX_CPUS; i++)
                x->free_lr[i] = 4;
        assert_int_equal(ward_vgic_init(&x->g, ncpus, &ops, x), WARD_OK);
}

static int setup(void **state)
{
        struct ctx *x = calloc(1, sizeof(*x));
        reinit(x, NCPUS);
        *state = x;
        return 0;
}

static int teardown(void **state)
{
        free(*state);
        return 0;
}

static uint64_t rd(struct ctx *x, unsigned cpu, uint64_t off, unsigned len)
{
        uint8_t buf[8];
        memset(buf, 0xa5, sizeof(buf));
        x->g.current_cpu = cpu;
        ward_vgic_dist_ops.read(&x->g, off, buf, len);
        for (unsigned i = len; i < 8; i++)
                assert_int_equal(buf[i], 0xa5); /* no write past len */
        uint64_t v = 0;
        for (unsigned i = 0; i < len; i++)
                v |= (uint64_t)buf[i] << (8 * i);
        return v;
}

static uint32_t rd32(struct ctx *x, unsigned cpu, uint64_t off)
{
        return (uint32_t)rd(x, cpu, off, 4);
}

static void wr(struct ctx *x, unsigned cpu, uint64_t off, uint64_t v, unsigned len)
{
        uint8_t buf[8];
        for (unsigned i = 0; i < 8; i++)
                buf[i] = (uint8_t)(v >> (8 * i));
        x->g.current_cpu = cpu;
        ward_vgic_dist_ops.write(&x->g, off, buf, len);
}

static void wr32(struct ctx *x, unsigned cpu, uint64_t off, uint32_t v)
{
        wr(x, cpu, off, v, 4);
}

static void assert_injected(struct ctx *x, unsigned i, unsigned vcpu, unsigned irq)
{
        assert_true(i < x->nlog);
        assert_int_equal(x->log[i].vcpu, vcpu);
        assert_int_equal(x->log[i].irq, irq);
}

/* Distributor on, SPI `irq` enabled and targeted at `targets`. */
static void spi_ready(struct ctx *x, unsigned irq, uint8_t targets)
{
        wr32(x, 0, CTLR, 1);
        wr(x, 0, ITARGETSR(irq), targets, 1);
        wr32(x, 0, ISENABLER(irq / 32), 1u << (irq % 32));
}

static void init_rejects_bad_cpu_counts(void **state)
{
        (void)state;
        struct ward_vgic g;
        struct ward_vgic_ops none = {0};
        assert_int_equal(ward_vgic_init(&g, 0, &ops, NULL), WARD_EINVAL);
        assert_int_equal(ward_vgic_init(&g, 9, &ops, NULL), WARD_EINVAL);
        assert_int_equal(ward_vgic_init(&g, 1, NULL, NULL), WARD_EINVAL);
        assert_int_equal(ward_vgic_init(&g, 1, &none, NULL), WARD_EINVAL);
        assert_int_equal(ward_vgic_init(&g, 1, &ops, NULL), WARD_OK);
        assert_int_equal(ward_vgic_init(&g, 8, &ops, NULL), WARD_OK);
        assert_int_equal(g.ncpus, 8);
}

static void id_registers(void **state)
{
        struct ctx *x = *state;
        /* ITLinesNumber 3 (128 IDs), CPUNumber 3 (4 CPUs). */
        assert_int_equal(rd32(x, 0, TYPER), 0x63);
        assert_int_equal(rd32(x, 0, PIDR2), 0x20);
        assert_int_equal((rd32(x, 0, PIDR2) >> 4) & 0xf, 2);
        assert_int_equal(rd32(x, 0, IIDR), 0x57000000);
        /* Read-only. */
        wr32(x, 0, TYPER, 0xffffffff);
        wr32(x, 0, IIDR, 0);
        wr32(x, 0, PIDR2, 0);
        assert_int_equal(rd32(x, 0, TYPER), 0x63);
        assert_int_equal(rd32(x, 0, IIDR), 0x57000000);
        assert_int_equal(rd32(x, 0, PIDR2), 0x20);
        /* Word registers answer 32-bit aligned accesses only. */
        assert_int_equal(rd(x, 0, TYPER, 1), 0);
        assert_int_equal(rd(x, 0, TYPER, 2), 0);
        assert_int_equal(rd(x, 0, TYPER, 8), 0);
        assert_int_equal(rd(x, 0, TYPER + 1, 1), 0);
        /* SGIR is write-only; reserved space reads as zero. */
        assert_int_equal(rd32(x, 0, SGIR), 0);
        assert_int_equal(rd32(x, 0, 0x00c), 0);
        assert_int_equal(rd32(x, 0, 0xffc), 0);

        reinit(x, 1);
        assert_int_equal(rd32(x, 0, TYPER), 0x03);
        reinit(x, 8);
        assert_int_equal(rd32(x, 7, TYPER), 0xe3);
}

static void ctlr_enable_bit(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(rd32(x, 0, CTLR), 0);
        wr32(x, 0, CTLR, 0xffffffff);
        assert_int_equal(rd32(x, 0, CTLR), 1);
        wr(x, 0, CTLR, 0, 1); /* byte access: ignored */
        assert_int_equal(rd32(x, 0, CTLR), 1);
        wr32(x, 1, CTLR, 0);
        assert_int_equal(rd32(x, 0, CTLR), 0);
}

static void enable_bitmaps(void **state)
{
        struct ctx *x = *state;
        /* SGIs read as enabled and cannot be disabled. */
        assert_int_equal(rd32(x, 0, ISENABLER(0)), 0x0000ffff);
        assert_int_equal(rd32(x, 0, ICENABLER(0)), 0x0000ffff);
        wr32(x, 0, ICENABLER(0), 0xffffffff);
        assert_int_equal(rd32(x, 0, ISENABLER(0)), 0x0000ffff);
        /* PPIs are banked. */
        wr32(x, 0, ISENABLER(0), 0x08010000);
        assert_int_equal(rd32(x, 0, ISENABLER(0)), 0x0801ffff);
        assert_int_equal(rd32(x, 1, ISENABLER(0)), 0x0000ffff);
        wr32(x, 0, ICENABLER(0), 0x00010000);
        assert_int_equal(rd32(x, 0, ICENABLER(0)), 0x0800ffff);
        /* SPIs are shared. */
        wr32(x, 0, ISENABLER(1), 0x00000005);
        assert_int_equal(rd32(x, 2, ISENABLER(1)), 0x00000005);
        assert_int_equal(rd32(x, 2, ICENABLER(1)), 0x00000005);
        wr32(x, 3, ICENABLER(1), 0x00000001);
        assert_int_equal(rd32(x, 0, ISENABLER(1)), 0x00000004);
        assert_true(x->g.spi[34 - 32].enabled);
        assert_false(x->g.spi[32 - 32].enabled);
        /* The last implemented bank, and none beyond. */
        wr32(x, 0, ISENABLER(3), 0xffffffff);
        assert_int_equal(rd32(x, 0, ISENABLER(3)), 0xffffffff);
        wr32(x, 0, ISENABLER(4), 0xffffffff);
        assert_int_equal(rd32(x, 0, ISENABLER(4)), 0);
        assert_int_equal(rd32(x, 0, ISENABLER(31)), 0);
        /* Non-word accesses are ignored. */
        wr(x, 0, ISENABLER(2), 0xff, 1);
        wr(x, 0, ISENABLER(2), 0xffff, 2);
        wr(x, 0, ISENABLER(2), 0xffffffffffffffffull, 8);
        assert_int_equal(rd32(x, 0, ISENABLER(2)), 0);
        assert_int_equal(x->nlog, 0);
}

static void groups_read_back(void **state)
{
        struct ctx *x = *state;
        wr32(x, 1, IGROUPR(0), 0x80000001);
        wr32(x, 1, IGROUPR(2), 0x12345678);
        assert_int_equal(rd32(x, 1, IGROUPR(0)), 0x80000001);
        assert_int_equal(rd32(x, 0, IGROUPR(0)), 0);
        assert_int_equal(rd32(x, 0, IGROUPR(2)), 0x12345678);
        wr32(x, 1, IGROUPR(2), 0);
        assert_int_equal(rd32(x, 3, IGROUPR(2)), 0);
        wr32(x, 0, IGROUPR(4), 0xffffffff);
        assert_int_equal(rd32(x, 0, IGROUPR(4)), 0);
}

static void spi_reaches_inject_only_when_enabled(void **state)
{
        struct ctx *x = *state;
        wr(x, 0, ITARGETSR(40), 0x04, 1); /* vCPU 2 */
        ward_vgic_set_spi(&x->g, 40, true);
        assert_int_equal(x->calls, 0);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 1u << 8);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->calls, 0); /* interrupt still disabled */
        wr32(x, 0, ISENABLER(1), 1u << 8);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 2, 40);
        /* Now active, not pending. */
        assert_int_equal(rd32(x, 0, ISACTIVER(1)), 1u << 8);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 0);

        /* Disabled distributor: a new SPI waits until it is enabled. */
        wr32(x, 0, CTLR, 0);
        wr(x, 0, ITARGETSR(41), 0x06, 1); /* vCPUs 1 and 2: the lowest wins */
        wr32(x, 0, ISENABLER(1), 1u << 9);
        ward_vgic_set_spi(&x->g, 41, true);
        assert_int_equal(x->nlog, 1);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 2);
        assert_injected(x, 1, 1, 41);
}

static void spi_without_valid_target_is_not_delivered(void **state)
{
        struct ctx *x = *state;
        spi_ready(x, 50, 0x00);
        ward_vgic_set_spi(&x->g, 50, true);
        assert_int_equal(x->calls, 0);
        /* Targets beyond ncpus are masked off when written. */
        wr(x, 0, ITARGETSR(50), 0xf0, 1);
        assert_int_equal(rd(x, 0, ITARGETSR(50), 1), 0);
        assert_int_equal(x->calls, 0);
        /* A targets change re-evaluates delivery. */
        wr(x, 0, ITARGETSR(50), 0xf8, 1);
        assert_int_equal(rd(x, 0, ITARGETSR(50), 1), 0x08);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 3, 50);
}

static void set_spi_ignores_private_and_out_of_range(void **state)
{
        struct ctx *x = *state;
        struct ward_vgic before;
        memcpy(&before, &x->g, sizeof(before));
        ward_vgic_set_spi(&x->g, 0, true);
        ward_vgic_set_spi(&x->g, 31, true);
        ward_vgic_set_spi(&x->g, 128, true);
        ward_vgic_set_spi(&x->g, 0xffffffff, true);
        ward_vgic_set_ppi(&x->g, 0, 15, true);
        ward_vgic_set_ppi(&x->g, 0, 32, true);
        ward_vgic_set_ppi(&x->g, NCPUS, 27, true);
        ward_vgic_eoi(&x->g, NCPUS, 40);
        ward_vgic_eoi(&x->g, 0, 1023);
        assert_memory_equal(&before, &x->g, sizeof(before));
}

static void level_repends_while_high(void **state)
{
        struct ctx *x = *state;
        spi_ready(x, 33, 0x01);
        assert_int_equal(rd32(x, 0, ICFGR(2)) & (2u << 2), 0); /* level by default */
        ward_vgic_set_spi(&x->g, 33, true);
        assert_int_equal(x->nlog, 1);
        ward_vgic_set_spi(&x->g, 33, true); /* still high, still active */
        assert_int_equal(x->nlog, 1);
        ward_vgic_eoi(&x->g, 0, 33);
        assert_int_equal(x->nlog, 2); /* line still high: again */
        assert_injected(x, 1, 0, 33);
        ward_vgic_set_spi(&x->g, 33, false);
        ward_vgic_eoi(&x->g, 0, 33);
        assert_int_equal(x->nlog, 2);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 0);
        assert_int_equal(rd32(x, 0, ISACTIVER(1)), 0);

        /* A level line that falls before delivery is no longer pending. */
        wr32(x, 0, CTLR, 0);
        ward_vgic_set_spi(&x->g, 33, true);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 2);
        ward_vgic_set_spi(&x->g, 33, false);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 0);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 2);
}

static void edge_does_not_repend(void **state)
{
        struct ctx *x = *state;
        spi_ready(x, 34, 0x02);
        wr32(x, 0, ICFGR(2), 2u << 4); /* ID 34 is field 2 of ICFGR2 */
        assert_int_equal(rd32(x, 0, ICFGR(2)), 2u << 4);
        ward_vgic_set_spi(&x->g, 34, true);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 1, 34);
        ward_vgic_eoi(&x->g, 1, 34);
        assert_int_equal(x->nlog, 1); /* line high, but no new edge */
        ward_vgic_set_spi(&x->g, 34, true);
        assert_int_equal(x->nlog, 1);
        /* An edge while active stays pending until the EOI. */
        ward_vgic_set_spi(&x->g, 34, false);
        ward_vgic_set_spi(&x->g, 34, true);
        assert_int_equal(x->nlog, 2);
        ward_vgic_set_spi(&x->g, 34, false);
        ward_vgic_set_spi(&x->g, 34, true);
        assert_int_equal(x->nlog, 2);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), 1u << 2);
        assert_int_equal(rd32(x, 0, ISACTIVER(1)), 1u << 2);
        ward_vgic_eoi(&x->g, 1, 34);
        assert_int_equal(x->nlog, 3);
        assert_injected(x, 2, 1, 34);
        ward_vgic_eoi(&x->g, 1, 34);
        assert_int_equal(x->nlog, 3);
}

static void software_pending_and_active(void **state)
{
        struct ctx *x = *state;
        wr32(x, 0, ISENABLER(2), 1u << 0); /* ID 64 */
        wr(x, 0, ITARGETSR(64), 0x01, 1);
        wr32(x, 0, ISPENDR(2), 1u << 0);
        assert_int_equal(rd32(x, 0, ICPENDR(2)), 1);
        wr32(x, 0, ICPENDR(2), 1u << 0);
        assert_int_equal(rd32(x, 0, ISPENDR(2)), 0);
        /* Active blocks delivery; clearing active re-evaluates it. */
        wr32(x, 0, ISACTIVER(2), 1u << 0);
        wr32(x, 0, ISPENDR(2), 1u << 0);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->calls, 0);
        wr32(x, 0, ICACTIVER(2), 1u << 0);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 0, 64);
        /* SGI pending bits are not writable through ISPENDR/ICPENDR. */
        wr32(x, 0, ISPENDR(0), 0xffff);
        assert_int_equal(rd32(x, 0, ISPENDR(0)), 0);
        assert_int_equal(x->nlog, 1);
        /* A level line that is high stays pending through ICPENDR. */
        wr32(x, 0, CTLR, 0);
        ward_vgic_set_spi(&x->g, 65, true);
        wr32(x, 0, ICPENDR(2), 1u << 1);
        assert_int_equal(rd32(x, 0, ISPENDR(2)), 1u << 1);
}

static void refused_inject_queues_and_eoi_offers(void **state)
{
        struct ctx *x = *state;
        x->free_lr[0] = 1;
        spi_ready(x, 40, 0x01);
        spi_ready(x, 41, 0x01);
        spi_ready(x, 42, 0x01);
        ward_vgic_set_spi(&x->g, 40, true);
        assert_int_equal(x->nlog, 1);
        ward_vgic_set_spi(&x->g, 41, true);
        assert_int_equal(x->nlog, 1);
        assert_int_equal(x->g.cpu[0].nqueue, 1);
        assert_int_equal(x->g.cpu[0].queue[0], 41);
        /* Queued behind 41, no duplicates. */
        ward_vgic_set_spi(&x->g, 42, true);
        wr32(x, 0, ISPENDR(1), 1u << 9);
        assert_int_equal(x->g.cpu[0].nqueue, 2);
        assert_int_equal(x->g.cpu[0].queue[0], 41);
        assert_int_equal(x->g.cpu[0].queue[1], 42);
        assert_int_equal(rd32(x, 0, ISPENDR(1)), (1u << 9) | (1u << 10));

        x->free_lr[0] = 1; /* the guest finished 40 */
        ward_vgic_eoi(&x->g, 0, 40);
        assert_int_equal(x->nlog, 2);
        assert_injected(x, 1, 0, 41);
        assert_int_equal(x->g.cpu[0].nqueue, 2); /* 42 refused, 40 re-pended */
        assert_int_equal(x->g.cpu[0].queue[0], 42);
        assert_int_equal(x->g.cpu[0].queue[1], 40);

        x->free_lr[0] = 4;
        ward_vgic_eoi(&x->g, 0, 41);
        assert_int_equal(x->nlog, 5);
        assert_injected(x, 2, 0, 42);
        assert_injected(x, 3, 0, 40);
        assert_injected(x, 4, 0, 41);
        assert_int_equal(x->g.cpu[0].nqueue, 0);
}

static void queue_order_is_kept_after_a_refusal(void **state)
{
        struct ctx *x = *state;
        x->free_lr[0] = 0;
        spi_ready(x, 40, 0x01);
        spi_ready(x, 41, 0x01);
        ward_vgic_set_spi(&x->g, 40, true);
        ward_vgic_set_spi(&x->g, 41, true);
        assert_int_equal(x->g.cpu[0].nqueue, 2);
        /* 40 is refused again: 41 waits behind it rather than overtaking. */
        x->free_lr[0] = 4;
        x->refuse_irq = 40;
        unsigned calls = x->calls;
        ward_vgic_eoi(&x->g, 0, 50);
        assert_int_equal(x->calls, calls + 1);
        assert_int_equal(x->nlog, 0);
        assert_int_equal(x->g.cpu[0].nqueue, 2);
        assert_int_equal(x->g.cpu[0].queue[0], 40);
        assert_int_equal(x->g.cpu[0].queue[1], 41);
        x->refuse_irq = ~0u;
        ward_vgic_eoi(&x->g, 0, 50);
        assert_int_equal(x->nlog, 2);
        assert_injected(x, 0, 0, 40);
        assert_injected(x, 1, 0, 41);
}

static void disabled_distributor_holds_back_the_queue(void **state)
{
        struct ctx *x = *state;
        x->free_lr[2] = 0;
        spi_ready(x, 90, 0x04);
        ward_vgic_set_spi(&x->g, 90, true);
        assert_int_equal(x->g.cpu[2].nqueue, 1);
        wr32(x, 0, CTLR, 0);
        x->free_lr[2] = 4;
        ward_vgic_eoi(&x->g, 2, 90);
        assert_int_equal(x->nlog, 0);
        assert_int_equal(rd32(x, 0, ISPENDR(2)), 1u << 26); /* still pending */
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 2, 90);
}

static void stale_queue_entries_are_dropped(void **state)
{
        struct ctx *x = *state;
        x->free_lr[0] = 0;
        spi_ready(x, 40, 0x01);
        wr32(x, 0, ICFGR(2), 2u << 16); /* 40 edge */
        ward_vgic_set_spi(&x->g, 40, true);
        assert_int_equal(x->g.cpu[0].nqueue, 1);
        wr32(x, 0, ICPENDR(1), 1u << 8);
        x->free_lr[0] = 4;
        ward_vgic_eoi(&x->g, 0, 40);
        assert_int_equal(x->nlog, 0);
        assert_int_equal(x->g.cpu[0].nqueue, 0);
        /* Retargeted while queued: delivered to the new target, once. */
        x->free_lr[0] = 0;
        ward_vgic_set_spi(&x->g, 40, false);
        ward_vgic_set_spi(&x->g, 40, true);
        assert_int_equal(x->g.cpu[0].nqueue, 1);
        wr(x, 0, ITARGETSR(40), 0x02, 1);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 1, 40);
        x->free_lr[0] = 4;
        ward_vgic_eoi(&x->g, 0, 33);
        assert_int_equal(x->nlog, 1);
        assert_int_equal(x->g.cpu[0].nqueue, 0);
}

static void full_queue_leaves_it_pending(void **state)
{
        struct ctx *x = *state;
        x->free_lr[0] = 0;
        wr32(x, 0, CTLR, 1);
        for (unsigned irq = 32; irq < 32 + WARD_VGIC_PENDING_MAX + 2; irq++)
                wr(x, 0, ITARGETSR(irq), 0x01, 1);
        wr32(x, 0, ISENABLER(1), 0xffffffff);
        wr32(x, 0, ISENABLER(2), 0xffffffff);
        for (unsigned irq = 32; irq < 32 + WARD_VGIC_PENDING_MAX + 2; irq++)
                ward_vgic_set_spi(&x->g, irq, true);
        assert_int_equal(x->nlog, 0);
        assert_int_equal(x->g.cpu[0].nqueue, WARD_VGIC_PENDING_MAX);
        /* The two that did not fit are still pending. */
        assert_int_equal(rd32(x, 0, ISPENDR(2)), 0x3);
        x->free_lr[0] = 100;
        ward_vgic_eoi(&x->g, 0, 40); /* not active: harmless, offers the queue */
        assert_int_equal(x->nlog, WARD_VGIC_PENDING_MAX + 2);
        for (unsigned i = 0; i < x->nlog; i++)
                assert_injected(x, i, 0, 32 + i);
        assert_int_equal(x->g.cpu[0].nqueue, 0);
}

static void priority_orders_delivery(void **state)
{
        struct ctx *x = *state;
        x->free_lr[0] = 1;
        spi_ready(x, 40, 0x01);
        spi_ready(x, 41, 0x01);
        spi_ready(x, 42, 0x01);
        wr(x, 0, IPRIORITYR(40), 0xa0, 1);
        wr(x, 0, IPRIORITYR(41), 0xa0, 1);
        wr(x, 0, IPRIORITYR(42), 0x10, 1);
        wr32(x, 0, CTLR, 0);
        ward_vgic_set_spi(&x->g, 40, true);
        ward_vgic_set_spi(&x->g, 41, true);
        ward_vgic_set_spi(&x->g, 42, true);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 0, 42);
        assert_int_equal(x->log[0].priority, 0x10); /* for the list register */
        assert_int_equal(x->g.cpu[0].nqueue, 2);
        assert_int_equal(x->g.cpu[0].queue[0], 40);
        assert_int_equal(x->g.cpu[0].queue[1], 41);
}

static void priority_bytes_and_words(void **state)
{
        struct ctx *x = *state;
        wr(x, 0, IPRIORITYR(40), 0xff, 1);
        assert_int_equal(rd(x, 0, IPRIORITYR(40), 1), 0xf8);
        wr32(x, 0, IPRIORITYR(44), 0x12345678);
        assert_int_equal(rd32(x, 0, IPRIORITYR(44)), 0x10305078);
        assert_int_equal(rd(x, 3, IPRIORITYR(45), 1), 0x50);
        wr(x, 0, IPRIORITYR(47), 0x88, 1);
        assert_int_equal(rd32(x, 2, IPRIORITYR(44)), 0x88305078);
        /* Banked for private interrupts. */
        wr32(x, 1, IPRIORITYR(24), 0xa0a0a0a0);
        wr(x, 2, IPRIORITYR(5), 0x40, 1);
        assert_int_equal(rd32(x, 1, IPRIORITYR(24)), 0xa0a0a0a0);
        assert_int_equal(rd32(x, 0, IPRIORITYR(24)), 0);
        assert_int_equal(rd(x, 2, IPRIORITYR(5), 1), 0x40);
        assert_int_equal(rd(x, 1, IPRIORITYR(5), 1), 0);
        /* Halfwords, unaligned words and doublewords are ignored. */
        wr(x, 0, IPRIORITYR(48), 0xffff, 2);
        wr(x, 0, IPRIORITYR(49), 0xffffffff, 4);
        wr(x, 0, IPRIORITYR(48), 0xffffffffffffffffull, 8);
        assert_int_equal(rd32(x, 0, IPRIORITYR(48)), 0);
        assert_int_equal(rd32(x, 0, IPRIORITYR(52)), 0);
        assert_int_equal(rd(x, 0, IPRIORITYR(44), 2), 0);
        assert_int_equal(rd(x, 0, IPRIORITYR(45), 4), 0);
        /* IDs beyond the last one. */
        wr32(x, 0, IPRIORITYR(128), 0xffffffff);
        wr(x, 0, IPRIORITYR(200), 0xff, 1);
        assert_int_equal(rd32(x, 0, IPRIORITYR(128)), 0);
        assert_int_equal(rd(x, 0, IPRIORITYR(200), 1), 0);
}

static void private_targets_read_only(void **state)
{
        struct ctx *x = *state;
        for (unsigned cpu = 0; cpu < NCPUS; cpu++) {
                uint32_t own = 0x01010101u << cpu;
                for (unsigned n = 0; n < 32; n += 4) {
                        wr32(x, cpu, ITARGETSR(n), 0xffffffff);
                        assert_int_equal(rd32(x, cpu, ITARGETSR(n)), own);
                }
                wr(x, cpu, ITARGETSR(27), 0x00, 1);
                assert_int_equal(rd(x, cpu, ITARGETSR(27), 1), 1u << cpu);
        }
        /* SPIs: writable, masked to the VM's CPUs. */
        wr32(x, 0, ITARGETSR(32), 0xff0f0201);
        assert_int_equal(rd32(x, 1, ITARGETSR(32)), 0x0f0f0201);
        wr32(x, 0, ITARGETSR(128), 0x01010101);
        assert_int_equal(rd32(x, 0, ITARGETSR(128)), 0);
}

static void icfgr_fields(void **state)
{
        struct ctx *x = *state;
        assert_int_equal(rd32(x, 0, ICFGR(0)), 0xaaaaaaaa); /* SGIs: edge */
        assert_int_equal(rd32(x, 0, ICFGR(1)), 0);          /* PPIs: level */
        wr32(x, 0, ICFGR(0), 0);
        wr32(x, 0, ICFGR(1), 0xffffffff);
        assert_int_equal(rd32(x, 0, ICFGR(0)), 0xaaaaaaaa);
        assert_int_equal(rd32(x, 0, ICFGR(1)), 0);
        /* SPIs: bit 1 of each field; bit 0 reads as zero. */
        wr32(x, 0, ICFGR(2), 0xffffffff);
        assert_int_equal(rd32(x, 1, ICFGR(2)), 0xaaaaaaaa);
        wr32(x, 0, ICFGR(7), 0x80000002);
        assert_int_equal(rd32(x, 0, ICFGR(7)), 0x80000002);
        assert_true(x->g.spi[112 - 32].edge);
        assert_true(x->g.spi[127 - 32].edge);
        assert_false(x->g.spi[113 - 32].edge);
        wr32(x, 0, ICFGR(8), 0xffffffff);
        assert_int_equal(rd32(x, 0, ICFGR(8)), 0);
        assert_int_equal(rd32(x, 0, ICFGR(63)), 0);
}

static void sgir_filters(void **state)
{
        struct ctx *x = *state;
        /* Distributor off: the SGI only becomes pending. */
        wr32(x, 1, SGIR, (0u << 24) | (0x05u << 16) | 3);
        assert_int_equal(x->calls, 0);
        assert_int_equal(rd32(x, 0, SPENDSGIR(0)), 0x02000000); /* source vCPU 1 */
        assert_int_equal(rd(x, 2, CPENDSGIR(3), 1), 0x02);
        assert_int_equal(rd32(x, 1, SPENDSGIR(0)), 0);
        assert_int_equal(rd32(x, 3, SPENDSGIR(0)), 0);
        assert_int_equal(rd32(x, 0, ISPENDR(0)), 1u << 3);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 2);
        assert_injected(x, 0, 0, 3);
        assert_injected(x, 1, 2, 3);
        assert_int_equal(rd32(x, 0, SPENDSGIR(0)), 0);
        assert_int_equal(rd32(x, 0, ISACTIVER(0)), 1u << 3);

        /* All but self. */
        x->nlog = 0;
        wr32(x, 1, SGIR, (1u << 24) | (0xffu << 16) | 5);
        assert_int_equal(x->nlog, 3);
        assert_injected(x, 0, 0, 5);
        assert_injected(x, 1, 2, 5);
        assert_injected(x, 2, 3, 5);

        /* Self only, whatever the list says; SGI ID is bits [3:0]. */
        x->nlog = 0;
        wr32(x, 2, SGIR, (2u << 24) | (0x01u << 16) | 0x7f0 | 9);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 2, 9);

        /* Reserved filter: nothing. */
        x->nlog = 0;
        wr32(x, 0, SGIR, (3u << 24) | (0xffu << 16) | 1);
        assert_int_equal(x->nlog, 0);
        assert_int_equal(rd32(x, 0, ISPENDR(0)) | rd32(x, 1, ISPENDR(0)), 0);

        /* Targets beyond ncpus are dropped. */
        wr32(x, 0, SGIR, (0u << 24) | (0xf0u << 16) | 1);
        assert_int_equal(x->calls, 6);
        wr32(x, 0, SGIR, (0u << 24) | (0xffu << 16) | 2);
        assert_int_equal(x->nlog, 4);
        for (unsigned i = 0; i < 4; i++)
                assert_injected(x, i, i, 2);
        for (unsigned c = NCPUS; c < WARD_VGIC_MAX_CPUS; c++)
                for (unsigned s = 0; s < 16; s++)
                        assert_int_equal(x->g.cpu[c].sgi_sources[s], 0);

        /* Non-word SGIR writes are ignored. */
        wr(x, 0, SGIR, (2u << 24) | 4, 8);
        wr(x, 0, SGIR, 4, 1);
        assert_int_equal(x->calls, 10);

        /* EOI of an SGI frees it for the next one. */
        x->nlog = 0;
        wr32(x, 0, SGIR, (2u << 24) | 3);
        assert_int_equal(x->nlog, 0); /* SGI 3 still active on vCPU 0 */
        ward_vgic_eoi(&x->g, 0, 3);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 0, 3);
        ward_vgic_eoi(&x->g, 0, 3);
        assert_int_equal(x->nlog, 1); /* edge: not again */
}

static void sgi_pending_bytes(void **state)
{
        struct ctx *x = *state;
        /* Source bits beyond ncpus are dropped. */
        wr(x, 1, SPENDSGIR(7), 0xf5, 1);
        assert_int_equal(rd(x, 1, SPENDSGIR(7), 1), 0x05);
        assert_int_equal(rd32(x, 1, CPENDSGIR(4)), 0x05000000);
        assert_int_equal(rd32(x, 1, ISPENDR(0)), 1u << 7);
        assert_int_equal(rd32(x, 0, ISPENDR(0)), 0);
        wr32(x, 1, CPENDSGIR(4), 0x01000000);
        assert_int_equal(rd(x, 1, SPENDSGIR(7), 1), 0x04);
        wr(x, 1, CPENDSGIR(7), 0xff, 1);
        assert_int_equal(rd32(x, 1, ISPENDR(0)), 0);
        /* Set through SPENDSGIR, delivered when the distributor is enabled. */
        wr32(x, 3, SPENDSGIR(12), 0x00000100);
        wr32(x, 0, CTLR, 1);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 3, 13);
        /* Halfwords are ignored. */
        wr(x, 2, SPENDSGIR(0), 0xffff, 2);
        assert_int_equal(rd32(x, 2, SPENDSGIR(0)), 0);
}

static void ppi_is_banked_and_level(void **state)
{
        struct ctx *x = *state;
        wr32(x, 0, CTLR, 1);
        ward_vgic_set_ppi(&x->g, 1, 27, true);
        assert_int_equal(x->calls, 0);
        wr32(x, 0, ISENABLER(0), 1u << 27); /* enables it on vCPU 0 only */
        assert_int_equal(x->calls, 0);
        wr32(x, 1, ISENABLER(0), 1u << 27);
        assert_int_equal(x->nlog, 1);
        assert_injected(x, 0, 1, 27);
        ward_vgic_eoi(&x->g, 0, 27); /* the wrong vCPU: nothing */
        assert_int_equal(x->nlog, 1);
        ward_vgic_eoi(&x->g, 1, 27);
        assert_int_equal(x->nlog, 2);
        ward_vgic_set_ppi(&x->g, 1, 27, false);
        ward_vgic_eoi(&x->g, 1, 27);
        assert_int_equal(x->nlog, 2);
        ward_vgic_set_ppi(&x->g, 0, 27, true);
        assert_int_equal(x->nlog, 3);
        assert_injected(x, 2, 0, 27);
}

static void current_cpu_out_of_range_is_ignored(void **state)
{
        struct ctx *x = *state;
        struct ward_vgic before;
        memcpy(&before, &x->g, sizeof(before));
        for (unsigned cpu = NCPUS; cpu < 12; cpu++) {
                wr32(x, cpu, CTLR, 1);
                wr32(x, cpu, ISENABLER(0), 0xffffffff);
                wr32(x, cpu, ISENABLER(1), 0xffffffff);
                wr32(x, cpu, IPRIORITYR(0), 0xffffffff);
                wr(x, cpu, ITARGETSR(40), 0x01, 1);
                wr32(x, cpu, SGIR, (2u << 24) | 1);
                wr32(x, cpu, SGIR, (0u << 24) | (0x0fu << 16) | 1);
                wr(x, cpu, SPENDSGIR(1), 0xff, 1);
                assert_int_equal(rd32(x, cpu, TYPER), 0);
                assert_int_equal(rd32(x, cpu, ITARGETSR(0)), 0);
                assert_int_equal(rd(x, cpu, IPRIORITYR(0), 1), 0);
        }
        x->g.current_cpu = before.current_cpu;
        assert_memory_equal(&before, &x->g, sizeof(before));
        assert_int_equal(x->calls, 0);
}

static void check_confined(struct ctx *x, const struct ward_vgic *fresh)
{
        const struct ward_vgic *g = &x->g;
        uint8_t mask = (uint8_t)((1u << x->ncpus) - 1);
        assert_int_equal(g->ncpus, x->ncpus);
        for (unsigned i = 0; i < WARD_VGIC_NR_IRQS - 32; i++) {
                assert_int_equal(g->spi[i].targets & ~mask, 0);
                assert_int_equal(g->spi[i].priority & 0x07, 0);
        }
        for (unsigned c = 0; c < WARD_VGIC_MAX_CPUS; c++) {
                const struct ward_vgic_cpu *vc = &g->cpu[c];
                if (c >= x->ncpus) {
                        /* vCPUs outside the VM are never touched. */
                        assert_memory_equal(vc, &fresh->cpu[c], sizeof(*vc));
                        continue;
                }
                assert_true(vc->nqueue <= WARD_VGIC_PENDING_MAX);
                for (unsigned i = 0; i < vc->nqueue; i++)
                        assert_true(vc->queue[i] < WARD_VGIC_NR_IRQS);
                for (unsigned s = 0; s < 16; s++) {
                        assert_int_equal(vc->sgi_sources[s] & ~mask, 0);
                        assert_true(vc->priv[s].enabled);
                        assert_true(vc->priv[s].edge);
                }
                for (unsigned p = 16; p < 32; p++)
                        assert_false(vc->priv[p].edge);
        }
        /* The registers that describe the VM are unchanged. */
        assert_int_equal(rd32(x, 0, TYPER), ((x->ncpus - 1) << 5) | 3);
        assert_int_equal(rd32(x, 0, PIDR2), 0x20);
        assert_int_equal(rd32(x, 0, ICFGR(0)), 0xaaaaaaaa);
        assert_int_equal(rd32(x, 0, ISENABLER(4)), 0);
        assert_int_equal(rd32(x, 0, IPRIORITYR(128)), 0);
        assert_int_equal(rd32(x, 0, ITARGETSR(128)), 0);
}

static void sweep(struct ctx *x, unsigned cpu, uint64_t value, bool with_eoi)
{
        static const unsigned widths[] = {1, 2, 4, 8};
        for (uint64_t off = 0; off <= WARD_VGIC_DIST_SIZE; off++) {
                for (unsigned w = 0; w < 4; w++) {
                        unsigned len = widths[w];
                        bool byte_reg =
                            (off >= 0x400 && off < 0xc00) || (off >= 0xf10 && off < 0xf30);
                        bool refused = cpu >= x->ncpus || off + len > WARD_VGIC_DIST_SIZE ||
                                       (len == 4 ? (off & 3) != 0 : !(len == 1 && byte_reg));
                        uint64_t v = rd(x, cpu, off, len);
                        if (refused)
                                assert_int_equal(v, 0);
                        wr(x, cpu, off, value, len);
                }
                if (with_eoi && off % 8 == 0)
                        ward_vgic_eoi(&x->g, cpu, (unsigned)(off % WARD_VGIC_NR_IRQS));
        }
}

static void hostile_accesses_stay_inside(void **state)
{
        struct ctx *x = *state;
        static const unsigned counts[] = {1, 3, 8};
        for (unsigned k = 0; k < 3; k++) {
                reinit(x, counts[k]);
                struct ward_vgic fresh;
                memcpy(&fresh, &x->g, sizeof(fresh));
                for (unsigned i = 0; i < WARD_VGIC_MAX_CPUS; i++)
                        x->free_lr[i] = (i & 1) ? 1000000 : 0; /* some vCPUs queue */
                for (unsigned cpu = 0; cpu < x->ncpus + 2; cpu++) {
                        sweep(x, cpu, 0xffffffffu, false);
                        sweep(x, cpu, 0xffffffffffffffffull, true);
                }
                for (unsigned irq = 0; irq < 300; irq++) {
                        ward_vgic_set_spi(&x->g, irq, true);
                        ward_vgic_set_ppi(&x->g, irq % 12, irq, true);
                        ward_vgic_eoi(&x->g, irq % 12, irq);
                }
                check_confined(x, &fresh);
                /* ICENABLER is written after ISENABLER: only SGIs stay enabled. */
                assert_int_equal(rd32(x, 0, CTLR), 1);
                assert_int_equal(rd32(x, 0, ISENABLER(0)), 0x0000ffff);
                assert_int_equal(rd32(x, 0, ISENABLER(3)), 0);
                assert_int_equal(rd(x, 0, ITARGETSR(100), 1), (1u << x->ncpus) - 1);
                assert_int_equal(rd(x, 0, IPRIORITYR(100), 1), 0xf8);

                /* A pseudo-random sweep of values too. */
                uint64_t seed = 0x9e3779b97f4a7c15ull * (k + 1);
                for (unsigned cpu = 0; cpu < x->ncpus + 1; cpu++) {
                        for (uint64_t off = 0; off < WARD_VGIC_DIST_SIZE; off += 4) {
                                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                                wr(x, cpu, off, seed >> 13, 4);
                                wr(x, cpu, off + (seed & 3), seed >> 7, 1);
                                ward_vgic_eoi(&x->g, cpu, (unsigned)(seed >> 40) % 140);
                        }
                }
                check_confined(x, &fresh);
        }
}

static void through_the_bus(void **state)
{
        struct ctx *x = *state;
        struct ward_bus_window win[1];
        struct ward_bus bus;
        ward_bus_init(&bus, win, 1);
        assert_int_equal(
            ward_bus_register(&bus, 0x08000000, WARD_VGIC_DIST_SIZE, &ward_vgic_dist_ops, &x->g),
            WARD_OK);
        uint8_t buf[8] = {0};
        x->g.current_cpu = 2;
        assert_int_equal(ward_bus_access(&bus, 0x08000004, false, buf, 4), WARD_BUS_HANDLED);
        assert_int_equal(ward_le32(buf), 0x63);
        assert_int_equal(ward_bus_access(&bus, 0x08000800, false, buf, 4), WARD_BUS_HANDLED);
        assert_int_equal(ward_le32(buf), 0x04040404);
        ward_put_le32(buf, 1);
        assert_int_equal(ward_bus_access(&bus, 0x08000000, true, buf, 4), WARD_BUS_HANDLED);
        assert_true(x->g.enabled);
        assert_int_equal(ward_bus_access(&bus, 0x08000ffe, false, buf, 4), WARD_BUS_BAD_ACCESS);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(init_rejects_bad_cpu_counts),
            T(id_registers),
            T(ctlr_enable_bit),
            T(enable_bitmaps),
            T(groups_read_back),
            T(spi_reaches_inject_only_when_enabled),
            T(spi_without_valid_target_is_not_delivered),
            T(set_spi_ignores_private_and_out_of_range),
            T(level_repends_while_high),
            T(edge_does_not_repend),
            T(software_pending_and_active),
            T(refused_inject_queues_and_eoi_offers),
            T(queue_order_is_kept_after_a_refusal),
            T(disabled_distributor_holds_back_the_queue),
            T(stale_queue_entries_are_dropped),
            T(full_queue_leaves_it_pending),
            T(priority_orders_delivery),
            T(priority_bytes_and_words),
            T(private_targets_read_only),
            T(icfgr_fields),
            T(sgir_filters),
            T(sgi_pending_bytes),
            T(ppi_is_banked_and_level),
            T(current_cpu_out_of_range_is_ignored),
            T(hostile_accesses_stay_inside),
            T(through_the_bus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
