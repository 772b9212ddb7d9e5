/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward dtb`: writes the device tree and boot layout of an arm64 guest
 * without running it. An seL4 system image is put together on a build host,
 * so its guest's device tree must be made there; this command makes it with
 * the very code (platform, layout, libfdt generator) that `ward run` uses on
 * KVM, so both describe a guest alike.
 */
#include "ward/arch/arm64/arm64_boot.h"
#include "ward/arch/arm64/arm64_platform.h"
#include "ward/cli/cli_dtb.h"
#include "ward/virtio/device.h"
#include "ward/cli/run_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FDT_SIZE (64 * 1024)

const char ward_dtb_usage[] =
    "usage: ward dtb --kernel IMAGE --out FILE [options]\n"
    "\n"
    "Writes the device tree ward gives an arm64 guest, and prints where the kernel,\n"
    "initrd and device tree go in guest RAM (for building an seL4 system image).\n"
    "\n"
    "  --kernel IMAGE      arm64 Linux Image (its header decides the layout)\n"
    "  --initrd FILE       initial ramdisk (its size decides where it goes)\n"
    "  --cmdline STR       kernel command line (default: serial console)\n"
    "  --mem SIZE          guest RAM (default 512M)\n"
    "  --cpus N            vCPUs (default 1)\n"
    "  --gic 2|3           interrupt controller version (default 2, as seL4 uses)\n"
    "  --virtio LIST       comma-separated devices in window order: console, blk, rng\n"
    "  --psci hvc|smc      how the guest calls PSCI (default smc: seL4 traps SMC to the VMM)\n"
    "  --out FILE          where to write the DTB\n";

struct dtb_args {
        const char *kernel, *initrd, *cmdline, *out, *virtio, *psci;
        uint64_t mem;
        unsigned cpus;
        int gic;
};

static int file_len(const char *opt, const char *path, uint64_t *len, char *err, size_t errlen)
{
        struct stat st;
        if (stat(path, &st) != 0) {
                snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s %s: not a regular file", opt, path);
                return -1;
        }
        *len = (uint64_t)st.st_size;
        return 0;
}

enum { O_KERNEL = 256, O_INITRD, O_CMDLINE, O_MEM, O_CPUS, O_GIC, O_VIRTIO, O_OUT, O_PSCI };

/* An option that takes a value with a rule: --psci, --mem, --cpus, --gic.
 * Returns 0, or 2 with err. */
static int checked_option(int c, const char *v, struct dtb_args *a, char *err, size_t errlen)
{
        char *end;
        switch (c) {
        case O_PSCI:
                if (strcmp(v, "hvc") && strcmp(v, "smc")) {
                        snprintf(err, errlen, "--psci %s: must be hvc or smc", v);
                        return 2;
                }
                a->psci = v;
                return 0;
        case O_MEM:
                if (ward_parse_size(v, &a->mem)) {
                        snprintf(err, errlen, "--mem %s: not a size", v);
                        return 2;
                }
                return 0;
        case O_CPUS:
                a->cpus = (unsigned)strtoul(v, &end, 10);
                if (*end || a->cpus < 1 || a->cpus > WARD_ARM64_MAX_CPUS) {
                        snprintf(err, errlen, "--cpus %s: must be 1 to %d", v, WARD_ARM64_MAX_CPUS);
                        return 2;
                }
                return 0;
        case O_GIC:
                if (strcmp(v, "2") && strcmp(v, "3")) {
                        snprintf(err, errlen, "--gic %s: must be 2 or 3", v);
                        return 2;
                }
                a->gic = v[0] - '0';
                return 0;
        }
        return 2;
}

/* One option from getopt: 0, 1 for --help, or 2 with err. */
static int option(int c, char *const argv[], struct dtb_args *a, char *err, size_t errlen)
{
        switch (c) {
        case O_KERNEL:
                a->kernel = optarg;
                return 0;
        case O_INITRD:
                a->initrd = optarg;
                return 0;
        case O_CMDLINE:
                a->cmdline = optarg;
                return 0;
        case O_OUT:
                a->out = optarg;
                return 0;
        case O_VIRTIO:
                a->virtio = optarg;
                return 0;
        case O_PSCI:
        case O_MEM:
        case O_CPUS:
        case O_GIC:
                return checked_option(c, optarg, a, err, errlen);
        case 'h':
                return 1;
        case ':':
                snprintf(err, errlen, "%s: needs a value", argv[optind - 1]);
                return 2;
        default:
                snprintf(err, errlen, "%s: unknown option (see ward dtb --help)", argv[optind - 1]);
                return 2;
        }
}

static int parse(int argc, char *const argv[], struct dtb_args *a, char *err, size_t errlen)
{
        static const struct option opts[] = {
            {"kernel", required_argument, NULL, O_KERNEL},
            {"initrd", required_argument, NULL, O_INITRD},
            {"cmdline", required_argument, NULL, O_CMDLINE},
            {"mem", required_argument, NULL, O_MEM},
            {"cpus", required_argument, NULL, O_CPUS},
            {"gic", required_argument, NULL, O_GIC},
            {"virtio", required_argument, NULL, O_VIRTIO},
            {"out", required_argument, NULL, O_OUT},
            {"psci", required_argument, NULL, O_PSCI},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        memset(a, 0, sizeof(*a));
        a->mem = 512ull << 20;
        a->cpus = 1;
        a->gic = 2;
        a->psci = "smc";
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                int rc = option(c, argv, a, err, errlen);
                if (rc)
                        return rc;
        }
        if (optind < argc) {
                snprintf(err, errlen, "%s: unexpected argument", argv[optind]);
                return 2;
        }
        if (!a->kernel || !a->out) {
                snprintf(err, errlen, "%s: missing", a->kernel ? "--out" : "--kernel");
                return 2;
        }
        if (a->gic == 2 && a->cpus > 8) {
                snprintf(err, errlen, "--cpus %u: GICv2 has at most 8 CPUs", a->cpus);
                return 2;
        }
        return 0;
}

/* Adds the devices of LIST (registered types: console,blk,rng) to the platform, in order. */
static int add_devices(struct ward_arm64_platform *p, const char *list, FILE *info, char *err,
                       size_t errlen)
{
        if (!list || !*list)
                return 0;
        char buf[512];
        if (strlen(list) >= sizeof(buf)) {
                snprintf(err, errlen, "--virtio: list too long");
                return -1;
        }
        strcpy(buf, list);
        for (char *save = NULL, *dev = strtok_r(buf, ",", &save); dev;
             dev = strtok_r(NULL, ",", &save)) {
                if (!ward_device_type_find(dev)) {
                        char known[128] = "";
                        for (unsigned k = 0; ward_device_types[k]; k++)
                                snprintf(known + strlen(known), sizeof(known) - strlen(known),
                                         "%s%s", k ? ", " : "", ward_device_types[k]->name);
                        snprintf(err, errlen, "--virtio: unknown device '%s' (%s)", dev, known);
                        return -1;
                }
                int i = ward_arm64_platform_add_virtio(p);
                if (i < 0) {
                        snprintf(err, errlen, "--virtio: more than %d devices",
                                 WARD_ARM64_MAX_VIRTIO);
                        return -1;
                }
                fprintf(info, "virtio%d=%s base=0x%llx irq=%u\n", i, dev,
                        (unsigned long long)p->virtio[i].base, p->virtio[i].spi + 32);
        }
        return 0;
}

int ward_cli_dtb(int argc, char *const argv[], FILE *info, char *err, size_t errlen)
{
        struct dtb_args a;
        int rc = parse(argc, argv, &a, err, errlen);
        if (rc == 1) {
                fputs(ward_dtb_usage, info);
                return 0;
        }
        if (rc)
                return 2;
        uint64_t klen, ilen = 0;
        if (file_len("--kernel", a.kernel, &klen, err, errlen) ||
            (a.initrd && file_len("--initrd", a.initrd, &ilen, err, errlen)))
                return 2;
        uint8_t hdr[64] = {0};
        FILE *k = fopen(a.kernel, "rb");
        size_t got = k ? fread(hdr, 1, sizeof(hdr), k) : 0;
        if (k)
                fclose(k);
        struct ward_arm64_image img;
        if (got != sizeof(hdr) || ward_arm64_image_parse(hdr, klen, &img)) {
                snprintf(err, errlen, "--kernel %s: not an arm64 Linux Image", a.kernel);
                return 2;
        }
        struct ward_arm64_platform p;
        if (ward_arm64_platform_init(&p, a.mem, a.cpus)) {
                snprintf(err, errlen, "--mem/--cpus: does not fit the arm64 memory map");
                return 2;
        }
        p.gic.gic_version = a.gic;
        struct ward_arm64_layout lay;
        if (ward_arm64_layout(p.ram_base, p.ram_size, &img, klen, ilen, &lay)) {
                snprintf(err, errlen, "--mem: too small for this kernel and initrd");
                return 2;
        }
        if (add_devices(&p, a.virtio, info, err, errlen))
                return 2;
        /* Aff0 = vCPU index: the seL4 VMM programs each vCPU's VMPIDR to match. */
        uint64_t mpidr[WARD_ARM64_MAX_CPUS];
        for (unsigned i = 0; i < a.cpus; i++)
                mpidr[i] = i;
        struct ward_arm64_dt dt;
        ward_arm64_platform_dt(&p, mpidr, a.cmdline ? a.cmdline : "console=ttyS0 earlycon",
                               a.initrd ? lay.initrd_gpa : 0, a.initrd ? lay.initrd_gpa + ilen : 0,
                               0, NULL, &dt);
        dt.psci_method = a.psci;
        static uint8_t blob[FDT_SIZE];
        if (ward_arm64_fdt_build(blob, sizeof(blob), &dt) != 0) {
                snprintf(err, errlen, "device tree does not fit in %d bytes", FDT_SIZE);
                return 2;
        }
        /* The blob's real size is its header's totalsize (big-endian, offset 4). */
        uint32_t size =
            (uint32_t)blob[4] << 24 | (uint32_t)blob[5] << 16 | (uint32_t)blob[6] << 8 | blob[7];
        FILE *out = fopen(a.out, "wb");
        if (!out || fwrite(blob, 1, size, out) != size || fclose(out) != 0) {
                snprintf(err, errlen, "--out %s: cannot write: %s", a.out, strerror(errno));
                return 2;
        }
        fprintf(info, "ram_base=0x%llx\nram_size=0x%llx\nkernel=0x%llx\n",
                (unsigned long long)p.ram_base, (unsigned long long)p.ram_size,
                (unsigned long long)lay.kernel_gpa);
        if (a.initrd)
                fprintf(info, "initrd=0x%llx\ninitrd_size=0x%llx\n",
                        (unsigned long long)lay.initrd_gpa, (unsigned long long)ilen);
        fprintf(info, "dtb=0x%llx\ndtb_size=0x%x\n", (unsigned long long)lay.dtb_gpa, size);
        return 0;
}
