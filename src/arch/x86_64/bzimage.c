/* SPDX-License-Identifier: BSD-2-Clause */
/* The x86 boot protocol's setup header and zero page; see ward/arch/x86_64/x86_boot.h. */
#include "ward/arch/x86_64/x86_boot.h"
#include "ward/util/util.h"

/* Offsets in the file and in the zero page (struct boot_params). */
#define OFF_SETUP_SECTS 0x1f1
#define OFF_VID_MODE 0x1fa
#define OFF_BOOT_FLAG 0x1fe
#define OFF_JUMP_END 0x201 /* the setup header ends at 0x202 + this byte */
#define OFF_HEADER 0x202
#define OFF_VERSION 0x206
#define OFF_TYPE_OF_LOADER 0x210
#define OFF_LOADFLAGS 0x211
#define OFF_RAMDISK_IMAGE 0x218
#define OFF_RAMDISK_SIZE 0x21c
#define OFF_HEAP_END_PTR 0x224
#define OFF_CMD_LINE_PTR 0x228
#define OFF_INITRD_ADDR_MAX 0x22c
#define OFF_KERNEL_ALIGNMENT 0x230
#define OFF_RELOCATABLE 0x234
#define OFF_XLOADFLAGS 0x236
#define OFF_CMDLINE_SIZE 0x238
#define OFF_PREF_ADDRESS 0x258
#define OFF_INIT_SIZE 0x260
#define HEADER_MIN_END 0x264 /* through init_size: protocol 2.12's header */
#define HEADER_MAX_END 0x290 /* struct boot_params has room to here */
#define OFF_ACPI_RSDP 0x070
#define OFF_EXT_RAMDISK_IMAGE 0x0c0
#define OFF_EXT_RAMDISK_SIZE 0x0c4
#define OFF_EXT_CMD_LINE_PTR 0x0c8
#define OFF_E820_ENTRIES 0x1e8
#define OFF_E820_TABLE 0x2d0

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x0001
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x0002

int ward_bzimage_parse(const uint8_t *img, uint64_t len, struct ward_bzimage *bz, char *err,
                       size_t errlen)
{
        *bz = (struct ward_bzimage){0};
        if (len < HEADER_MIN_END || ward_le16(img + OFF_BOOT_FLAG) != 0xaa55 ||
            ward_le32(img + OFF_HEADER) != 0x53726448 /* "HdrS" */) {
                ward_fmt(err, errlen,
                         "not a bzImage (no boot sector flag 0xaa55 and \"HdrS\" "
                         "header)");
                return -1;
        }
        bz->version = ward_le16(img + OFF_VERSION);
        if (bz->version < WARD_X86_MIN_BOOT_PROTOCOL) {
                unsigned minor = bz->version & 0xff;
                ward_fmt(err, errlen,
                         "boot protocol %u.%s%u: ward needs 2.12 or later (a 64-bit entry)",
                         (unsigned)(bz->version >> 8), minor < 10 ? "0" : "", minor);
                return -1;
        }
        bz->header_end = OFF_HEADER + img[OFF_JUMP_END];
        if (bz->header_end < HEADER_MIN_END || bz->header_end > HEADER_MAX_END ||
            bz->header_end > len) {
                ward_fmt(err, errlen,
                         "the setup header claims to end at 0x%x: outside 0x%x-0x%x or the file",
                         bz->header_end, HEADER_MIN_END, HEADER_MAX_END);
                return -1;
        }
        bz->xloadflags = ward_le16(img + OFF_XLOADFLAGS);
        if (!(bz->xloadflags & XLF_KERNEL_64)) {
                ward_fmt(err, errlen, "the kernel has no 64-bit entry (xloadflags 0x%x)",
                         (unsigned)bz->xloadflags);
                return -1;
        }
        if (!(img[OFF_LOADFLAGS] & LOADED_HIGH)) {
                ward_fmt(err, errlen, "a zImage loaded low: ward loads bzImages only");
                return -1;
        }
        unsigned sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
        bz->setup_bytes = (sects + 1) * 512u;
        if (bz->setup_bytes >= len) {
                ward_fmt(err, errlen,
                         "setup_sects %u puts the kernel at byte %u, past the file's %llu", sects,
                         bz->setup_bytes, (unsigned long long)len);
                return -1;
        }
        bz->kernel_offset = bz->setup_bytes;
        bz->kernel_size = len - bz->setup_bytes;
        bz->kernel_alignment = ward_le32(img + OFF_KERNEL_ALIGNMENT);
        if (!bz->kernel_alignment || (bz->kernel_alignment & (bz->kernel_alignment - 1))) {
                ward_fmt(err, errlen, "kernel_alignment 0x%x is not a power of two",
                         bz->kernel_alignment);
                return -1;
        }
        bz->relocatable = img[OFF_RELOCATABLE] != 0;
        bz->init_size = ward_le32(img + OFF_INIT_SIZE);
        if (bz->init_size < bz->kernel_size) {
                ward_fmt(err, errlen,
                         "init_size 0x%x is smaller than the kernel's 0x%llx bytes in the file",
                         bz->init_size, (unsigned long long)bz->kernel_size);
                return -1;
        }
        bz->pref_address = ward_le64(img + OFF_PREF_ADDRESS);
        if (bz->pref_address > UINT64_MAX - bz->init_size) {
                ward_fmt(err, errlen, "pref_address 0x%llx + init_size runs past 2^64",
                         (unsigned long long)bz->pref_address);
                return -1;
        }
        bz->cmdline_size = ward_le32(img + OFF_CMDLINE_SIZE);
        bz->initrd_addr_max = ward_le32(img + OFF_INITRD_ADDR_MAX);
        return 0;
}

int ward_x86_zero_page(uint8_t zp[WARD_X86_ZERO_PAGE_SIZE], const uint8_t *img,
                       const struct ward_bzimage *bz, const struct ward_x86_boot_layout *l,
                       char *err, size_t errlen)
{
        if (l->cmdline_len > bz->cmdline_size) {
                ward_fmt(err, errlen, "the command line has %u bytes; the kernel takes at most %u",
                         l->cmdline_len, bz->cmdline_size);
                return -1;
        }
        if (l->ne820 > WARD_X86_E820_MAX) {
                ward_fmt(err, errlen, "%u e820 entries, at most %u", l->ne820, WARD_X86_E820_MAX);
                return -1;
        }
        bool above_4g = bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
        if (l->initrd_size &&
            (l->initrd_gpa > UINT64_MAX - l->initrd_size ||
             (!above_4g && l->initrd_gpa + l->initrd_size - 1 > bz->initrd_addr_max))) {
                ward_fmt(err, errlen, "the initrd at 0x%llx is beyond what the kernel reaches",
                         (unsigned long long)l->initrd_gpa);
                return -1;
        }
        memset(zp, 0, WARD_X86_ZERO_PAGE_SIZE);
        memcpy(zp + OFF_SETUP_SECTS, img + OFF_SETUP_SECTS, bz->header_end - OFF_SETUP_SECTS);
        ward_put_le16(zp + OFF_VID_MODE, 0xffff); /* "normal": no mode to set */
        zp[OFF_TYPE_OF_LOADER] = 0xff;            /* undefined loader */
        zp[OFF_LOADFLAGS] = (uint8_t)((zp[OFF_LOADFLAGS] | LOADED_HIGH) & ~CAN_USE_HEAP);
        ward_put_le16(zp + OFF_HEAP_END_PTR, 0);
        ward_put_le32(zp + OFF_CMD_LINE_PTR, (uint32_t)l->cmdline_gpa);
        ward_put_le32(zp + OFF_EXT_CMD_LINE_PTR, (uint32_t)(l->cmdline_gpa >> 32));
        ward_put_le32(zp + OFF_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
        ward_put_le32(zp + OFF_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd_gpa >> 32));
        ward_put_le32(zp + OFF_RAMDISK_SIZE, (uint32_t)l->initrd_size);
        ward_put_le32(zp + OFF_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_size >> 32));
        ward_put_le64(zp + OFF_ACPI_RSDP, l->rsdp_gpa);
        zp[OFF_E820_ENTRIES] = (uint8_t)l->ne820;
        for (unsigned i = 0; i < l->ne820; i++) {
                uint8_t *e = zp + OFF_E820_TABLE + 20 * i;
                ward_put_le64(e, l->e820[i].addr);
                ward_put_le64(e + 8, l->e820[i].size);
                ward_put_le32(e + 16, l->e820[i].type);
        }
        return 0;
}
