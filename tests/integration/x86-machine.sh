# SPDX-License-Identifier: BSD-2-Clause
#
# Scenarios of the x86_64 machine itself (sourced by run-all.sh on x86_64): RAM
# above 4 GiB next to the boot RAM, the guest's view of its firmware
# tables, and a triple fault as a failure with its reason.

# --- a second RAM region above 4G is the guest's memory too -------------------
name=x86_ram_above_4g
initrd=$(guest_initrd "$name" <<'G'
grep -H . /sys/firmware/memmap/*/start /sys/firmware/memmap/*/end /sys/firmware/memmap/*/type
echo "guest-memtotal-kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M \
	--ram 0x100000000:256M
total=$(sed -n 's/^guest-memtotal-kb=\([0-9]*\).*/\1/p' "$WORK/$name.out" | tr -d '\r' | tail -n 1)
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! grep -q "0x100000000" "$WORK/$name.out"; then
	note_fail "$name" "the guest's e820 map has no region at 4G"
elif [ -z "$total" ] || [ "$total" -lt 400000 ]; then
	note_fail "$name" "the guest has ${total:-no} kB of RAM, expected more than 400000 (256M + 256M)"
else
	pass "$name"
fi

# --- ACPI: the devices come from ward's DSDT, the vCPUs from its MADT ---------
name=x86_acpi_devices
initrd=$(guest_initrd "$name" <<'G'
echo "acpi-virtio=$(ls -d /sys/bus/acpi/devices/LNRO0005:* 2>/dev/null | wc -l)"
echo "acpi-uart=$(ls -d /sys/bus/acpi/devices/PNP0501:* 2>/dev/null | wc -l)"
echo "virtio-bound=$(ls -d /sys/bus/virtio/devices/virtio* 2>/dev/null | wc -l)"
echo "guest-cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
G
)
{ yes ward-x86-disk || true; } | head -c 1048576 >"$WORK/$name.img"
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M --cpus 2 \
	--disk "$WORK/$name.img" --console virtio
# virtio console, disk, entropy: three LNRO0005 devices, all bound to a virtio driver.
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! has "$name" "acpi-virtio=3"; then
	note_fail "$name" "the guest does not see 3 LNRO0005 devices in the DSDT"
elif ! has "$name" "virtio-bound=3"; then
	note_fail "$name" "virtio_mmio did not bind the 3 devices"
elif ! has "$name" "acpi-uart=1"; then
	note_fail "$name" "the guest does not see the 16550 (PNP0501)"
elif ! has "$name" "guest-cpus=2"; then
	note_fail "$name" "the guest does not see its 2 vCPUs"
elif ! has "$name" "clocksource=kvm-clock"; then
	note_fail "$name" "the guest's clock source is not kvm-clock"
else
	pass "$name"
fi

# --- a triple fault is a failure, with the vCPU, its RIP and the reason --------
# reboot=t makes Linux reboot by a triple fault (an empty IDT and int3).
name=x86_triple_fault_fails
initrd=$(guest_initrd "$name" <<'G'
reboot -f
G
)
EXPECT_PANIC=1 run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M \
	--cmdline "console=ttyS0 panic=-1 reboot=t"
unset EXPECT_PANIC
if [ "$RC" != 1 ]; then
	note_fail "$name" "ward exited with $RC after a triple fault, expected 1"
elif ! has "$name" "ward: vCPU 0: the vCPU shut down (x86: a triple fault) at pc 0x"; then
	note_fail "$name" "ward did not name the triple fault with the vCPU and its RIP"
else
	pass "$name"
fi
