# SPDX-License-Identifier: BSD-2-Clause
# The VMs of ward.system, in the format `ward system sel4` writes (vms.mk;
# docs/system-description.md): one VM booting the test host's guest, with
# the known-content RAM disk.
VMS := vm:1

vm_KERNEL := $(TESTHOST_KERNEL)
vm_INITRD := $(TESTHOST_INITRD)
vm_CMDLINE := $(VIRTIO_CMDLINE)
vm_MEM := 268435456
vm_RAM_GPA := 0x40000000
vm_CONSOLE := virtio
vm_DISK := $(KNOWN_DISK)
vm_DOORBELLS :=
vm_SHM :=
