/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest's ACPI tables; see include/ward/arch/x86_64/acpi.h. */
#include "ward/arch/x86_64/acpi.h"
#include "ward/util/util.h"

#define HDR 36 /* every table's header, all but the RSDP */
#define RSDP_LEN 36
#define FADT_LEN 276 /* ACPI 6.x */
#define FADT_FLAG_HW_REDUCED (1u << 20)
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define ACPI_RESET_VALUE 1
#define MADT_LAPIC 0
#define MADT_IOAPIC 1

/* ---- bytes ---- */

/* An output that counts what did not fit instead of writing past its end. */
struct out {
        uint8_t *b;
        size_t len, room;
        bool full;
};

static void put(struct out *o, const void *p, size_t n)
{
        if (o->full || n > o->room - o->len) {
                o->full = true;
                return;
        }
        memcpy(o->b + o->len, p, n);
        o->len += n;
}

static void put8(struct out *o, uint8_t v)
{
        put(o, &v, 1);
}

static void put16(struct out *o, uint16_t v)
{
        uint8_t b[2];
        ward_put_le16(b, v);
        put(o, b, sizeof(b));
}

static void put32(struct out *o, uint32_t v)
{
        uint8_t b[4];
        ward_put_le32(b, v);
        put(o, b, sizeof(b));
}

static void put64(struct out *o, uint64_t v)
{
        uint8_t b[8];
        ward_put_le64(b, v);
        put(o, b, sizeof(b));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
        uint8_t s = 0;
        for (size_t i = 0; i < n; i++)
                s = (uint8_t)(s + p[i]);
        return s;
}

/* ---- tables ---- */

/* The common header; its length and checksum are set by end_table(). */
static size_t begin_table(struct out *o, const char *sig, uint8_t revision)
{
        size_t at = o->len;
        put(o, sig, 4);
        put32(o, 0);
        put8(o, revision);
        put8(o, 0);
        put(o, "WARD  ", 6);
        put(o, "WARDVMM ", 8);
        put32(o, 1);
        put(o, "WARD", 4);
        put32(o, 1);
        return at;
}

static void end_table(struct out *o, size_t at)
{
        if (o->full)
                return;
        uint8_t *t = o->b + at;
        ward_put_le32(t + 4, (uint32_t)(o->len - at));
        t[9] = 0;
        t[9] = (uint8_t)(0 - sum(t, o->len - at));
}

/* Tables start on 16-byte boundaries. */
static void align16(struct out *o)
{
        while (!o->full && o->len % 16)
                put8(o, 0);
}

/* A Generic Address Structure for an 8-bit I/O port. */
static void gas_io8(struct out *o, uint16_t port)
{
        put8(o, 1); /* system I/O */
        put8(o, 8); /* register bit width */
        put8(o, 0); /* bit offset */
        put8(o, 1); /* byte access */
        put64(o, port);
}

static void fadt(struct out *o, const struct ward_acpi_platform *p, uint64_t dsdt)
{
        size_t at = begin_table(o, "FACP", 6);
        uint8_t body[FADT_LEN - HDR];
        memset(body, 0, sizeof(body));
        struct out b = {body, 0, sizeof(body), false};
        b.len = 40 - HDR;
        put32(&b, dsdt < (1ull << 32) ? (uint32_t)dsdt : 0); /* DSDT */
        b.len = 109 - HDR;
        put16(&b, 1u << 2); /* IAPC_BOOT_ARCH: no VGA */
        b.len = 112 - HDR;
        /* no PM timer, no PM1 blocks: hardware-reduced */
        put32(&b, FADT_FLAG_HW_REDUCED | (p->reset_port ? FADT_FLAG_RESET_REG_SUP : 0));
        if (p->reset_port) {
                gas_io8(&b, p->reset_port); /* RESET_REG */
                put8(&b, ACPI_RESET_VALUE); /* RESET_VALUE */
        }
        b.len = 131 - HDR;
        put8(&b, 3); /* FADT minor version: 6.3 */
        b.len = 140 - HDR;
        put64(&b, dsdt); /* X_DSDT */
        b.len = 244 - HDR;
        gas_io8(&b, p->sleep_control_port); /* SLEEP_CONTROL_REG: a poweroff writes S5 */
        gas_io8(&b, p->sleep_status_port);  /* SLEEP_STATUS_REG */
        put(&b, "WARDVMM ", 8);             /* hypervisor vendor identity */
        put(o, body, sizeof(body));
        end_table(o, at);
}

static void madt(struct out *o, const struct ward_acpi_platform *p)
{
        size_t at = begin_table(o, "APIC", 5);
        put32(o, p->lapic_base);
        put32(o, 0); /* no legacy 8259s to mask */
        for (unsigned i = 0; i < p->ncpus; i++) {
                put8(o, MADT_LAPIC);
                put8(o, 8);
                put8(o, (uint8_t)i); /* ACPI processor UID */
                put8(o, (uint8_t)i); /* APIC id */
                put32(o, 1);         /* enabled */
        }
        put8(o, MADT_IOAPIC);
        put8(o, 12);
        put8(o, p->ioapic_id);
        put8(o, 0);
        put32(o, p->ioapic_base);
        put32(o, 0); /* its first GSI */
        end_table(o, at);
}

/* ---- the DSDT's AML ---- */

/* PkgLength: the package's length, counting these bytes, in 1 to 4 bytes. */
static void pkg_length(struct out *o, size_t body)
{
        size_t n = body + 1;
        if (n < 0x40) {
                put8(o, (uint8_t)n);
                return;
        }
        unsigned extra = body + 2 < (1u << 12) ? 1 : body + 3 < (1u << 20) ? 2 : 3;
        n = body + 1 + extra;
        put8(o, (uint8_t)(extra << 6 | (n & 0x0f)));
        for (unsigned i = 0; i < extra; i++)
                put8(o, (uint8_t)(n >> (4 + 8 * i)));
}

static void aml_integer(struct out *o, uint32_t v)
{
        if (v <= 1) {
                put8(o, (uint8_t)v); /* ZeroOp, OneOp */
        } else if (v <= 0xff) {
                put8(o, 0x0a);
                put8(o, (uint8_t)v);
        } else if (v <= 0xffff) {
                put8(o, 0x0b);
                put16(o, (uint16_t)v);
        } else {
                put8(o, 0x0c);
                put32(o, v);
        }
}

/* Name(NAME, "string") */
static void aml_name_string(struct out *o, const char *name, const char *s)
{
        put8(o, 0x08);
        put(o, name, 4);
        put8(o, 0x0d);
        put(o, s, strlen(s) + 1);
}

/* Name(NAME, integer) */
static void aml_name_integer(struct out *o, const char *name, uint32_t v)
{
        put8(o, 0x08);
        put(o, name, 4);
        aml_integer(o, v);
}

/* Name(_CRS, Buffer() {resources, EndTag}) */
static void aml_crs(struct out *o, const uint8_t *res, size_t n)
{
        uint8_t size[5];
        struct out s = {size, 0, sizeof(size), false};
        aml_integer(&s, (uint32_t)(n + 2));
        put8(o, 0x08);
        put(o, "_CRS", 4);
        put8(o, 0x11); /* BufferOp */
        pkg_length(o, s.len + n + 2);
        put(o, size, s.len);
        put(o, res, n);
        put8(o, 0x79); /* EndTag, checksum 0: none */
        put8(o, 0x00);
}

/* Device(NAME) { body }: op, PkgLength, name, body. */
static void aml_device(struct out *o, const char *name, const uint8_t *body, size_t n)
{
        put8(o, 0x5b);
        put8(o, 0x82);
        pkg_length(o, 4 + n);
        put(o, name, 4);
        put(o, body, n);
}

static void virtio_device(struct out *o, unsigned i, const struct ward_acpi_virtio *v)
{
        uint8_t body[96], res[24];
        struct out r = {res, 0, sizeof(res), false};
        put8(&r, 0x86); /* Memory32Fixed(ReadWrite, base, size) */
        put16(&r, 9);
        put8(&r, 1);
        put32(&r, (uint32_t)v->base);
        put32(&r, v->size);
        put8(&r, 0x89); /* Interrupt(ResourceConsumer, Edge or Level, ActiveHigh, Exclusive) */
        put16(&r, 6);
        put8(&r, (uint8_t)(1u | (v->level ? 0 : 2u)));
        put8(&r, 1);
        put32(&r, v->gsi);
        struct out b = {body, 0, sizeof(body), false};
        aml_name_string(&b, "_HID", "LNRO0005");
        aml_name_integer(&b, "_UID", i);
        aml_crs(&b, res, r.len);
        char name[5] = {'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0};
        if (b.full || r.full)
                o->full = true;
        aml_device(o, name, body, b.len);
}

static void uart_device(struct out *o, unsigned i, const struct ward_acpi_uart *u)
{
        uint8_t body[64], res[16];
        struct out r = {res, 0, sizeof(res), false};
        put8(&r, 0x47); /* IO(Decode16, port, port, 1, 8) */
        put8(&r, 1);
        put16(&r, u->port);
        put16(&r, u->port);
        put8(&r, 1);
        put8(&r, 8);
        put8(&r, 0x22); /* IRQNoFlags() {irq} */
        put16(&r, (uint16_t)(1u << (u->irq & 15)));
        struct out b = {body, 0, sizeof(body), false};
        aml_name_string(&b, "_HID", "PNP0501");
        aml_name_integer(&b, "_UID", i);
        aml_crs(&b, res, r.len);
        char name[5] = {'C', 'O', 'M', (char)('1' + i), 0};
        if (b.full || r.full)
                o->full = true;
        aml_device(o, name, body, b.len);
}

static void dsdt(struct out *o, const struct ward_acpi_platform *p)
{
        size_t at = begin_table(o, "DSDT", 2);
        /* Scope(\_SB) { the devices }: built first, for its length. */
        static uint8_t scope[WARD_ACPI_MAX_DEVICES * 128 + 4 * 96];
        struct out s = {scope, 0, sizeof(scope), false};
        put8(&s, 0x5c);
        put(&s, "_SB_", 4);
        for (unsigned i = 0; i < p->nuart; i++)
                uart_device(&s, i, &p->uart[i]);
        for (unsigned i = 0; i < p->nvirtio; i++)
                virtio_device(&s, i, &p->virtio[i]);
        if (s.full)
                o->full = true;
        put8(o, 0x10); /* ScopeOp */
        pkg_length(o, s.len);
        put(o, scope, s.len);
        /* Name(\_S5, Package() {5, 0}): SLP_TYP for S5; the device takes any. */
        put8(o, 0x08);
        put(o, "\\_S5_", 5);
        put8(o, 0x12); /* PackageOp */
        pkg_length(o, 4);
        put8(o, 2); /* NumElements */
        aml_integer(o, 5);
        aml_integer(o, 0);
        end_table(o, at);
}

int ward_acpi_build(const struct ward_acpi_platform *p, uint8_t *buf, size_t room, uint64_t gpa,
                    struct ward_acpi_out *out, char *err, size_t errlen)
{
        *out = (struct ward_acpi_out){0};
        if (p->ncpus < 1 || p->ncpus > WARD_ACPI_MAX_CPUS || p->ioapic_id < p->ncpus) {
                ward_fmt(err, errlen,
                         "%u vCPUs and I/O APIC id %u: 1 to %u vCPUs, the I/O APIC "
                         "after them",
                         p->ncpus, (unsigned)p->ioapic_id, WARD_ACPI_MAX_CPUS);
                return -1;
        }
        if (p->nvirtio > WARD_ACPI_MAX_DEVICES || p->nuart > 4) {
                ward_fmt(err, errlen, "%u virtio devices and %u UARTs: at most %u and 4",
                         p->nvirtio, p->nuart, WARD_ACPI_MAX_DEVICES);
                return -1;
        }
        for (unsigned i = 0; i < p->nvirtio; i++)
                if (p->virtio[i].base > UINT32_MAX - p->virtio[i].size || p->virtio[i].gsi > 23 ||
                    !p->virtio[i].size) {
                        ward_fmt(err, errlen,
                                 "virtio device %u: window 0x%llx+0x%x or GSI %u is not one the "
                                 "tables can say (below 4 GiB, GSI 0 to 23)",
                                 i, (unsigned long long)p->virtio[i].base, p->virtio[i].size,
                                 p->virtio[i].gsi);
                        return -1;
                }
        if (gpa % 16 || gpa > UINT64_MAX - room) {
                ward_fmt(err, errlen, "tables at 0x%llx: not 16-byte aligned",
                         (unsigned long long)gpa);
                return -1;
        }
        struct out o = {buf, 0, room, false};
        /* The order below: RSDP, XSDT, FADT, MADT, DSDT; each one's address is known
         * before it is written, so the pointers to it are written first. */
        size_t rsdp = o.len;
        uint8_t r[RSDP_LEN] = {0};
        put(&o, r, sizeof(r));
        align16(&o);
        size_t xsdt = o.len;
        size_t x = begin_table(&o, "XSDT", 1);
        size_t xsdt_entries = o.len;
        put64(&o, 0);
        put64(&o, 0);
        end_table(&o, x);
        align16(&o);
        size_t fadt_at = o.len;
        /* The DSDT follows the FADT and MADT: its address, for the FADT. */
        size_t madt_at = fadt_at + FADT_LEN;
        madt_at = (madt_at + 15) & ~(size_t)15;
        size_t madt_len = HDR + 8 + 8 * p->ncpus + 12;
        size_t dsdt_at = (madt_at + madt_len + 15) & ~(size_t)15;
        fadt(&o, p, gpa + dsdt_at);
        align16(&o);
        madt(&o, p);
        align16(&o);
        dsdt(&o, p);
        if (o.full || o.len > room) {
                ward_fmt(err, errlen, "the ACPI tables do not fit in %llu bytes",
                         (unsigned long long)room);
                return -1;
        }
        /* The XSDT's entries, then its checksum again. */
        struct out e = {buf + xsdt_entries, 0, 16, false};
        put64(&e, gpa + fadt_at);
        put64(&e, gpa + madt_at);
        end_table(&(struct out){buf, xsdt_entries + 16, room, false}, x);
        /* The RSDP (ACPI 2.0+): checksum over its first 20 bytes, then over all 36. */
        struct out rp = {buf + rsdp, 0, RSDP_LEN, false};
        put(&rp, "RSD PTR ", 8);
        put8(&rp, 0);
        put(&rp, "WARD  ", 6);
        put8(&rp, 2);
        put32(&rp, 0); /* no RSDT: the XSDT only */
        put32(&rp, RSDP_LEN);
        put64(&rp, gpa + xsdt);
        put8(&rp, 0);
        buf[rsdp + 8] = (uint8_t)(0 - sum(buf + rsdp, 20));
        buf[rsdp + 32] = (uint8_t)(0 - sum(buf + rsdp, RSDP_LEN));
        out->rsdp_gpa = gpa + rsdp;
        out->used = (uint32_t)o.len;
        const size_t at[5] = {rsdp, xsdt, fadt_at, madt_at, dsdt_at};
        static const char *const sig[5] = {"RSDP", "XSDT", "FACP", "APIC", "DSDT"};
        for (int i = 0; i < 5; i++) {
                memcpy(out->table[i].sig, sig[i], 5);
                out->table[i].gpa = gpa + at[i];
                out->table[i].len = i == 0 ? RSDP_LEN : ward_le32(buf + at[i] + 4);
        }
        return 0;
}
