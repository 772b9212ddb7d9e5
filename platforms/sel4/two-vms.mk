# SPDX-License-Identifier: BSD-2-Clause
# The VMs of two-vms.system, in the format `ward system sel4` writes
# (vms.mk; docs/system-description.md): vm_a with 2 vCPUs, vm_b with 1,
# each with a copy of the known-content RAM disk.
VMS := vm_a:2 vm_b:1

vm_a_KERNEL := $(TESTHOST_KERNEL)
vm_a_INITRD := $(TESTHOST_INITRD)
vm_a_CMDLINE := $(VIRTIO_CMDLINE)
vm_a_MEM := 268435456
vm_a_RAM_GPA := 0x40000000
vm_a_CONSOLE := virtio
vm_a_DISK := $(KNOWN_DISK)
vm_a_DOORBELLS :=
vm_a_SHM :=

vm_b_KERNEL := $(TESTHOST_KERNEL)
vm_b_INITRD := $(TESTHOST_INITRD)
vm_b_CMDLINE := $(VIRTIO_CMDLINE)
vm_b_MEM := 268435456
vm_b_RAM_GPA := 0x40000000
vm_b_CONSOLE := virtio
vm_b_DISK := $(KNOWN_DISK)
vm_b_DOORBELLS :=
vm_b_SHM :=
