# SPDX-License-Identifier: BSD-2-Clause
# The VMs of blkdrv.system, in the format `ward system sel4` writes (vms.mk;
# docs/system-description.md), plus what the block driver PD needs: each
# VM's disk is a range of the board's virtio-blk device (DISK_RANGE:
# FIRST_SECTOR:SECTORS) instead of a RAM disk, on a device of
# BLK_DEVICE_SECTORS (make writes the file QEMU serves: each range starts
# with the known content).
BLK_DEVICE_SECTORS := 65536
VMS := vm_a:1 vm_b:1

vm_a_KERNEL := $(TESTHOST_KERNEL)
vm_a_INITRD := $(TESTHOST_INITRD)
vm_a_CMDLINE := $(VIRTIO_CMDLINE)
vm_a_MEM := 201326592
vm_a_RAM_GPA := 0x40000000
vm_a_CONSOLE := virtio
vm_a_DISK :=
vm_a_DISK_RANGE := 0:32768
vm_a_DOORBELLS :=
vm_a_SHM :=

vm_b_KERNEL := $(TESTHOST_KERNEL)
vm_b_INITRD := $(TESTHOST_INITRD)
vm_b_CMDLINE := $(VIRTIO_CMDLINE)
vm_b_MEM := 201326592
vm_b_RAM_GPA := 0x40000000
vm_b_CONSOLE := virtio
vm_b_DISK :=
vm_b_DISK_RANGE := 32768:32768
vm_b_DOORBELLS :=
vm_b_SHM :=
