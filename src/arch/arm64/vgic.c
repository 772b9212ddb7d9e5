/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A virtual GICv2 distributor (IHI 0048B, 4.3).
 *
 * Model and simplifications:
 * - GICD_CTLR bit 0 enables forwarding of both groups; IGROUPR bits are
 *   stored and read back but do not change delivery (the guest sees a GIC
 *   without the Security Extensions).
 * - Priorities keep their top 5 bits (mask 0xf8), as a GIC with 32 priority
 *   levels would, matching the 5-bit priority field of the virtual CPU
 *   interface's list registers.
 * - An SPI goes to the lowest-numbered vCPU in its target bitmap (a
 *   deterministic stand-in for the 1-of-N model); an SPI with no target
 *   inside the VM is never delivered.
 * - SGIs are always enabled and edge-triggered; PPIs are level-triggered
 *   and their configuration is read-only (the timers rely on it).
 * - SGI pending state is a bitmap of source vCPUs per (target, SGI). The SGI
 *   is pending on its target while any source bit is set; one delivery
 *   takes all sources at once. inject() gets the interrupt number only:
 *   encoding a source CPU into the list register is the hypervisor's
 *   concern.
 * - For a level-sensitive interrupt, `pending` follows the line: a falling
 *   line clears it (also when it was set through ISPENDR), and ICPENDR
 *   cannot clear it while the line is high.
 * - An access from a g->current_cpu outside the VM is ignored (reads zero).
 *
 * Delivery: an interrupt is deliverable to vCPU v when the distributor and
 * the interrupt are enabled, it is pending and not active, and (SPIs) v is
 * its target. Each vCPU's queue is offered first, in order; then the other
 * deliverable interrupts, by priority (then by ID). inject() returning true
 * makes the interrupt active and not pending; false queues it (and
 * everything after it) at the end of that vCPU's queue. The queue only
 * orders: the distributor state stays the truth, and a queued entry that is
 * no longer deliverable when its turn comes is dropped. When the queue is
 * full, the interrupt simply stays pending and is picked up by a later
 * pass.
 *
 * ops.inject must not call back into the vGIC.
 */
#include "ward/arch/arm64/arm64_vgic.h"

enum {
        GICD_CTLR = 0x000,
        GICD_TYPER = 0x004,
        GICD_IIDR = 0x008,
        GICD_IGROUPR = 0x080,
        GICD_ICACTIVER_END = 0x400, /* bitmap registers: 0x080..0x3ff */
        GICD_IPRIORITYR = 0x400,
        GICD_ITARGETSR = 0x800,
        GICD_ICFGR = 0xc00,
        GICD_ICFGR_END = 0xd00,
        GICD_SGIR = 0xf00,
        GICD_CPENDSGIR = 0xf10,
        GICD_SPENDSGIR = 0xf20,
        GICD_SPENDSGIR_END = 0xf30,
        GICD_PIDR2 = 0xfe8,
};

/* The bitmap registers, by offset >> 7 (each bank is 0x80 bytes). */
enum bitmap_kind {
        B_GROUP = 1,   /* 0x080 IGROUPR */
        B_SENABLE = 2, /* 0x100 ISENABLER */
        B_CENABLE = 3, /* 0x180 ICENABLER */
        B_SPEND = 4,   /* 0x200 ISPENDR */
        B_CPEND = 5,   /* 0x280 ICPENDR */
        B_SACTIVE = 6, /* 0x300 ISACTIVER */
        B_CACTIVE = 7, /* 0x380 ICACTIVER */
};

#define CTLR_ENABLE 0x1u
#define IIDR_VALUE 0x57000000u /* ProductID 'W', no JEP106 implementer claimed */
#define PIDR2_VALUE 0x20u      /* ArchRev 2: GICv2 */
#define PRIO_MASK 0xf8u
#define NR_SGIS 16
#define NR_PRIV 32
#define NO_CPU WARD_VGIC_MAX_CPUS

_Static_assert(WARD_VGIC_NR_IRQS % 32 == 0 && WARD_VGIC_NR_IRQS <= 256,
               "IDs fit the 8-bit candidate list and whole bitmap registers");
_Static_assert(WARD_VGIC_MAX_CPUS <= 8, "ITARGETSR and SGI source maps are 8 bits wide");

static uint8_t cpu_mask(const struct ward_vgic *g)
{
        return (uint8_t)((1u << g->ncpus) - 1);
}

/* irq < WARD_VGIC_NR_IRQS and cpu < g->ncpus are the caller's checks. */
static struct ward_vgic_irq_state *irq_state(struct ward_vgic *g, unsigned cpu, unsigned irq)
{
        return irq < NR_PRIV ? &g->cpu[cpu].priv[irq] : &g->spi[irq - NR_PRIV];
}

static unsigned spi_target(const struct ward_vgic *g, const struct ward_vgic_irq_state *s)
{
        uint8_t t = s->targets & cpu_mask(g);
        for (unsigned c = 0; c < g->ncpus; c++)
                if (t & (1u << c))
                        return c;
        return NO_CPU;
}

static bool deliverable(struct ward_vgic *g, unsigned vcpu, unsigned irq)
{
        const struct ward_vgic_irq_state *s = irq_state(g, vcpu, irq);
        if (!g->enabled || !s->enabled || !s->pending || s->active)
                return false;
        return irq < NR_PRIV || spi_target(g, s) == vcpu;
}

/* Offers irq to vcpu; on success the virtual CPU interface owns it. */
static bool offer(struct ward_vgic *g, unsigned vcpu, unsigned irq)
{
        struct ward_vgic_irq_state *s = irq_state(g, vcpu, irq);
        if (!g->ops.inject(g->opaque, vcpu, irq, s->priority))
                return false;
        s->active = true;
        s->pending = false;
        if (irq < NR_SGIS)
                g->cpu[vcpu].sgi_sources[irq] = 0;
        return true;
}

/*
 * Offers the queue in order, dropping entries that are no longer
 * deliverable. Returns false when inject() refused one (the rest stays
 * queued behind it).
 */
static bool drain(struct ward_vgic *g, unsigned vcpu)
{
        struct ward_vgic_cpu *c = &g->cpu[vcpu];
        unsigned n = WARD_MIN(c->nqueue, (unsigned)WARD_VGIC_PENDING_MAX), keep = 0;
        bool open = true;
        for (unsigned i = 0; i < n; i++) {
                unsigned irq = c->queue[i];
                if (irq >= WARD_VGIC_NR_IRQS || !deliverable(g, vcpu, irq))
                        continue;
                if (open && offer(g, vcpu, irq))
                        continue;
                open = false;
                c->queue[keep++] = (uint16_t)irq;
        }
        c->nqueue = keep;
        return open;
}

static void update_cpu(struct ward_vgic *g, unsigned vcpu)
{
        struct ward_vgic_cpu *c = &g->cpu[vcpu];
        bool open = drain(g, vcpu);
        if (!g->enabled)
                return;

        uint32_t inq[WARD_VGIC_NR_IRQS / 32] = {0};
        for (unsigned i = 0; i < c->nqueue; i++) /* drain() left only valid IDs */
                inq[c->queue[i] / 32] |= 1u << (c->queue[i] % 32);

        /* Deliverable, not yet queued: sorted by (priority, ID). */
        uint8_t cand[WARD_VGIC_NR_IRQS];
        unsigned n = 0;
        for (unsigned irq = 0; irq < WARD_VGIC_NR_IRQS; irq++) {
                if ((inq[irq / 32] >> (irq % 32)) & 1 || !deliverable(g, vcpu, irq))
                        continue;
                uint8_t prio = irq_state(g, vcpu, irq)->priority;
                unsigned pos = n;
                while (pos > 0 && irq_state(g, vcpu, cand[pos - 1])->priority > prio) {
                        cand[pos] = cand[pos - 1];
                        pos--;
                }
                cand[pos] = (uint8_t)irq;
                n++;
        }

        for (unsigned i = 0; i < n; i++) {
                if (open && offer(g, vcpu, cand[i]))
                        continue;
                open = false;
                if (c->nqueue < WARD_VGIC_PENDING_MAX)
                        c->queue[c->nqueue++] = cand[i];
                /* else: stays pending; a later pass queues or offers it. */
        }
}

static void update(struct ward_vgic *g)
{
        for (unsigned v = 0; v < g->ncpus; v++)
                update_cpu(g, v);
}

int ward_vgic_init(struct ward_vgic *g, unsigned ncpus, const struct ward_vgic_ops *ops,
                   void *opaque)
{
        if (ncpus < 1 || ncpus > WARD_VGIC_MAX_CPUS || ops == NULL || ops->inject == NULL)
                return WARD_EINVAL;
        memset(g, 0, sizeof(*g));
        g->ncpus = ncpus;
        g->ops = *ops;
        g->opaque = opaque;
        for (unsigned c = 0; c < WARD_VGIC_MAX_CPUS; c++) {
                for (unsigned i = 0; i < NR_SGIS; i++) {
                        g->cpu[c].priv[i].enabled = true;
                        g->cpu[c].priv[i].edge = true;
                }
        }
        return WARD_OK;
}

/* ---- Register decode. `cpu` is the accessing vCPU, already checked. ---- */

static uint32_t bitmap_read(struct ward_vgic *g, unsigned cpu, enum bitmap_kind kind, unsigned n)
{
        uint32_t v = 0;
        if (n >= WARD_VGIC_NR_IRQS / 32)
                return 0;
        for (unsigned i = 0; i < 32; i++) {
                const struct ward_vgic_irq_state *s = irq_state(g, cpu, 32 * n + i);
                bool bit = false;
                switch (kind) {
                case B_GROUP:
                        bit = s->group1;
                        break;
                case B_SENABLE:
                case B_CENABLE:
                        bit = s->enabled;
                        break;
                case B_SPEND:
                case B_CPEND:
                        bit = s->pending;
                        break;
                case B_SACTIVE:
                case B_CACTIVE:
                        bit = s->active;
                        break;
                }
                v |= (uint32_t)bit << i;
        }
        return v;
}

static void bitmap_write(struct ward_vgic *g, unsigned cpu, enum bitmap_kind kind, unsigned n,
                         uint32_t v)
{
        if (n >= WARD_VGIC_NR_IRQS / 32)
                return;
        for (unsigned i = 0; i < 32; i++) {
                unsigned irq = 32 * n + i;
                struct ward_vgic_irq_state *s = irq_state(g, cpu, irq);
                bool bit = (v >> i) & 1;
                if (kind == B_GROUP) {
                        s->group1 = bit;
                        continue;
                }
                if (!bit)
                        continue;
                switch (kind) {
                case B_GROUP:
                        break;
                case B_SENABLE:
                        s->enabled = true;
                        break;
                case B_CENABLE:
                        if (irq >= NR_SGIS) /* SGIs are always enabled */
                                s->enabled = false;
                        break;
                case B_SPEND:
                        if (irq >= NR_SGIS) /* SGIs: GICD_SPENDSGIRn */
                                s->pending = true;
                        break;
                case B_CPEND:
                        if (irq >= NR_SGIS) /* a high level line keeps it pending */
                                s->pending = !s->edge && s->level_high;
                        break;
                case B_SACTIVE:
                        s->active = true;
                        break;
                case B_CACTIVE:
                        s->active = false;
                        break;
                }
        }
}

static uint32_t icfgr_read(struct ward_vgic *g, unsigned cpu, unsigned n)
{
        uint32_t v = 0;
        for (unsigned i = 0; i < 16; i++) {
                unsigned irq = 16 * n + i;
                if (irq >= WARD_VGIC_NR_IRQS)
                        break;
                if (irq_state(g, cpu, irq)->edge)
                        v |= 2u << (2 * i);
        }
        return v;
}

static void icfgr_write(struct ward_vgic *g, unsigned n, uint32_t v)
{
        for (unsigned i = 0; i < 16; i++) {
                unsigned irq = 16 * n + i;
                if (irq < NR_PRIV) /* SGIs and PPIs: read-only */
                        continue;
                if (irq >= WARD_VGIC_NR_IRQS)
                        break;
                struct ward_vgic_irq_state *s = &g->spi[irq - NR_PRIV];
                s->edge = (v >> (2 * i + 1)) & 1;
                if (!s->edge && s->level_high)
                        s->pending = true;
        }
}

static void sgir_write(struct ward_vgic *g, unsigned cpu, uint32_t v)
{
        unsigned sgi = v & 0xf;
        uint8_t targets;
        switch ((v >> 24) & 3) {
        case 0:
                targets = (uint8_t)(v >> 16);
                break;
        case 1:
                targets = (uint8_t) ~(1u << cpu);
                break;
        case 2:
                targets = (uint8_t)(1u << cpu);
                break;
        default:
                return; /* reserved filter */
        }
        targets &= cpu_mask(g);
        for (unsigned t = 0; t < g->ncpus; t++) {
                if (!(targets & (1u << t)))
                        continue;
                g->cpu[t].sgi_sources[sgi] |= (uint8_t)(1u << cpu);
                g->cpu[t].priv[sgi].pending = true;
        }
}

/* Byte-wide registers: one byte at a time, at any offset in their range. */
static uint8_t byte_read(struct ward_vgic *g, unsigned cpu, uint64_t off)
{
        if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + WARD_VGIC_NR_IRQS)
                return irq_state(g, cpu, (unsigned)(off - GICD_IPRIORITYR))->priority;
        if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + WARD_VGIC_NR_IRQS) {
                unsigned irq = (unsigned)(off - GICD_ITARGETSR);
                if (irq < NR_PRIV)
                        return (uint8_t)(1u << cpu);
                return g->spi[irq - NR_PRIV].targets;
        }
        if (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR_END)
                return g->cpu[cpu].sgi_sources[(off - GICD_CPENDSGIR) % NR_SGIS];
        return 0;
}

static void byte_write(struct ward_vgic *g, unsigned cpu, uint64_t off, uint8_t v)
{
        if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + WARD_VGIC_NR_IRQS) {
                irq_state(g, cpu, (unsigned)(off - GICD_IPRIORITYR))->priority =
                    (uint8_t)(v & PRIO_MASK);
        } else if (off >= GICD_ITARGETSR + NR_PRIV && off < GICD_ITARGETSR + WARD_VGIC_NR_IRQS) {
                g->spi[off - GICD_ITARGETSR - NR_PRIV].targets = v & cpu_mask(g);
        } else if (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR_END) {
                struct ward_vgic_cpu *c = &g->cpu[cpu];
                unsigned sgi = (unsigned)(off - GICD_CPENDSGIR) % NR_SGIS;
                if (off >= GICD_SPENDSGIR)
                        c->sgi_sources[sgi] |= v & cpu_mask(g);
                else
                        c->sgi_sources[sgi] &= (uint8_t)~v;
                c->priv[sgi].pending = c->sgi_sources[sgi] != 0;
        }
}

static bool is_byte_reg(uint64_t off)
{
        return (off >= GICD_IPRIORITYR && off < GICD_ICFGR) ||
               (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR_END);
}

/*
 * The one gate for guest accesses: a vCPU of this VM, inside the window,
 * 32-bit aligned words everywhere, and single bytes where the architecture
 * allows them.
 */
static bool access_ok(const struct ward_vgic *g, uint64_t off, unsigned len)
{
        if (g->current_cpu >= g->ncpus || off >= WARD_VGIC_DIST_SIZE ||
            len > WARD_VGIC_DIST_SIZE - off)
                return false;
        if (len == 4)
                return (off & 3) == 0;
        return len == 1 && is_byte_reg(off);
}

static uint32_t word_read(struct ward_vgic *g, unsigned cpu, uint64_t off)
{
        if (off == GICD_CTLR)
                return g->enabled ? CTLR_ENABLE : 0;
        if (off == GICD_TYPER)
                return (WARD_VGIC_NR_IRQS / 32 - 1) | ((g->ncpus - 1) << 5);
        if (off == GICD_IIDR)
                return IIDR_VALUE;
        if (off == GICD_PIDR2)
                return PIDR2_VALUE;
        if (off >= GICD_IGROUPR && off < GICD_ICACTIVER_END)
                return bitmap_read(g, cpu, (enum bitmap_kind)(off >> 7),
                                   (unsigned)(off & 0x7f) / 4);
        if (off >= GICD_ICFGR && off < GICD_ICFGR_END)
                return icfgr_read(g, cpu, (unsigned)(off - GICD_ICFGR) / 4);
        return 0;
}

/* Returns true when the write may have made an interrupt deliverable. */
static bool word_write(struct ward_vgic *g, unsigned cpu, uint64_t off, uint32_t v)
{
        if (off == GICD_CTLR) {
                g->enabled = v & CTLR_ENABLE;
                return true;
        }
        if (off >= GICD_IGROUPR && off < GICD_ICACTIVER_END) {
                enum bitmap_kind kind = (enum bitmap_kind)(off >> 7);
                bitmap_write(g, cpu, kind, (unsigned)(off & 0x7f) / 4, v);
                return kind == B_SENABLE || kind == B_SPEND || kind == B_CACTIVE;
        }
        if (off >= GICD_ICFGR && off < GICD_ICFGR_END) {
                icfgr_write(g, (unsigned)(off - GICD_ICFGR) / 4, v);
                return true;
        }
        if (off == GICD_SGIR) {
                sgir_write(g, cpu, v);
                return true;
        }
        return false; /* read-only, reserved or unknown */
}

static void dist_read(void *dev, uint64_t off, void *data, unsigned len)
{
        struct ward_vgic *g = dev;
        memset(data, 0, len);
        if (!access_ok(g, off, len))
                return;
        unsigned cpu = g->current_cpu;
        uint32_t v;
        if (is_byte_reg(off)) {
                v = 0;
                for (unsigned i = 0; i < len; i++)
                        v |= (uint32_t)byte_read(g, cpu, off + i) << (8 * i);
        } else {
                v = word_read(g, cpu, off);
        }
        ward_store_len(data, v, len);
}

static void dist_write(void *dev, uint64_t off, const void *data, unsigned len)
{
        struct ward_vgic *g = dev;
        if (!access_ok(g, off, len))
                return;
        unsigned cpu = g->current_cpu;
        uint32_t v = (uint32_t)ward_load_len(data, len);
        bool changed;
        if (is_byte_reg(off)) {
                for (unsigned i = 0; i < len; i++)
                        byte_write(g, cpu, off + i, (uint8_t)(v >> (8 * i)));
                /* Priorities reorder; targets and SGI pends can deliver. */
                changed = off >= GICD_ITARGETSR;
        } else {
                changed = word_write(g, cpu, off, v);
        }
        if (changed)
                update(g);
}

const struct ward_mmio_ops ward_vgic_dist_ops = {
    .read = dist_read,
    .write = dist_write,
};

/* A line changed: level lines are pending while high, edges on rising. */
static void set_line(struct ward_vgic *g, struct ward_vgic_irq_state *s, bool level)
{
        bool rising = level && !s->level_high;
        s->level_high = level;
        if (s->edge) {
                if (rising)
                        s->pending = true;
        } else {
                s->pending = level;
        }
        update(g);
}

void ward_vgic_set_spi(struct ward_vgic *g, unsigned irq, bool level)
{
        if (irq < NR_PRIV || irq >= WARD_VGIC_NR_IRQS)
                return;
        set_line(g, &g->spi[irq - NR_PRIV], level);
}

void ward_vgic_set_ppi(struct ward_vgic *g, unsigned vcpu, unsigned irq, bool level)
{
        if (vcpu >= g->ncpus || irq < NR_SGIS || irq >= NR_PRIV)
                return;
        set_line(g, &g->cpu[vcpu].priv[irq], level);
}

void ward_vgic_eoi(struct ward_vgic *g, unsigned vcpu, unsigned irq)
{
        if (vcpu >= g->ncpus || irq >= WARD_VGIC_NR_IRQS)
                return;
        struct ward_vgic_irq_state *s = irq_state(g, vcpu, irq);
        s->active = false;
        if (!s->edge && s->level_high)
                s->pending = true;
        update(g);
}
