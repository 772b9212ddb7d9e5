# SPDX-License-Identifier: BSD-2-Clause
#
# The single-VM scenarios every architecture's test host runs (sourced by
# run-all.sh): boots with 1 and 2 vCPUs, both consoles,
# disks, entropy, reboot, panic and bad arguments. Each boots the test
# host's guest kernel (/guest/Image: an arm64 Image or an x86_64 bzImage).

# --- boots to userland, 1 and 2 vCPUs, poweroff gives status 0 ---------------
for n in 1 2; do
	name=boot_${n}cpu
	initrd=$(guest_initrd "$name" <<'G'
echo "guest-cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "guest-online=$(cat /sys/devices/system/cpu/online)"
G
)
	run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --cpus "$n" --mem 256M
	if [ "$RC" != 0 ]; then
		note_fail "$name" "ward exited with $RC, expected 0 after poweroff"
	elif ! has "$name" "ward-guest: init reached"; then
		note_fail "$name" "the guest's init did not start"
	elif ! has "$name" "guest-cpus=$n"; then
		note_fail "$name" "the guest does not see $n CPUs"
	elif ! has "$name" "guest powered off"; then
		note_fail "$name" "ward did not report the guest's poweroff"
	else
		pass "$name"
	fi
done

# --- console input and output on the UART (ttyS0) -----------------------------
console_io() {
	name=$1
	shift
	initrd=$(guest_initrd "$name" <<'G'
echo "console-is=$(readlink /proc/self/fd/0)"
echo "READY-FOR-INPUT"
read -r line
echo "guest-got:[$line]"
G
)
	rm -f "$WORK/$name.in" "$WORK/$name.out"
	mkfifo "$WORK/$name.in"
	: >"$WORK/$name.out"
	# The writer waits for the guest's prompt so the line is not lost while
	# the guest's driver is still starting (it clears the FIFO on open).
	(wait_for "$WORK/$name.out" READY-FOR-INPUT $T && printf 'hello ward 42\n' && sleep 60) \
		>"$WORK/$name.in" &
	writer=$!
	timeout $T ward run --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M "$@" \
		<"$WORK/$name.in" >"$WORK/$name.out" 2>&1
	RC=$?
	kill "$writer" 2>/dev/null
	echo "[$name] ward exit status $RC"
	if [ "$RC" != 0 ]; then
		note_fail "$name" "ward exited with $RC"
	elif ! has "$name" "guest-got:\[hello ward 42\]"; then
		note_fail "$name" "the guest did not read the line typed on the host"
	else
		pass "$name"
	fi
}
console_io console_uart
console_io console_virtio --console virtio
if has console_virtio "console-is=/dev/hvc0"; then
	pass console_virtio_is_hvc0
else
	note_fail console_virtio_is_hvc0 "the guest's console is not hvc0"
fi

# --- disks -------------------------------------------------------------------
# Guest writes a pattern, syncs; the host image must hold the same bytes.
name=disk_write
dd if=/dev/zero of="$WORK/write.img" bs=1M count=8 2>/dev/null
initrd=$(guest_initrd "$name" <<'G'
yes ward-disk-pattern | head -c 1048576 >/tmp/pattern
dd if=/tmp/pattern of=/dev/vda bs=65536 2>/dev/null && sync
echo "guest-wrote=$(sha256sum </tmp/pattern | cut -d' ' -f1)"
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M --disk "$WORK/write.img"
want=$(yes ward-disk-pattern | head -c 1048576 | sha256sum | cut -d' ' -f1)
got=$(head -c 1048576 "$WORK/write.img" | sha256sum | cut -d' ' -f1)
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! has "$name" "guest-wrote=$want"; then
	note_fail "$name" "the guest did not write the pattern"
elif [ "$got" != "$want" ]; then
	note_fail "$name" "host image holds $got, guest wrote $want"
else
	pass "$name"
fi

# Host prepares an image; the guest must read identical bytes.
name=disk_read
dd if=/dev/urandom of="$WORK/read.img" bs=1M count=4 2>/dev/null
want=$(sha256sum <"$WORK/read.img" | cut -d' ' -f1)
initrd=$(guest_initrd "$name" <<'G'
echo "guest-size=$(cat /sys/block/vda/size)"
echo "guest-read=$(sha256sum </dev/vda | cut -d' ' -f1)"
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M --disk "$WORK/read.img,ro"
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! has "$name" "guest-size=8192"; then
	note_fail "$name" "the guest sees the wrong disk size"
elif ! has "$name" "guest-read=$want"; then
	note_fail "$name" "the guest read different bytes than the host image holds"
else
	pass "$name"
fi

# A read-only disk refuses writes, and the image stays as it was.
name=disk_readonly
before=$(sha256sum <"$WORK/read.img" | cut -d' ' -f1)
initrd=$(guest_initrd "$name" <<'G'
echo "guest-ro=$(cat /sys/block/vda/ro)"
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; then
	echo "guest-write=accepted"
else
	echo "guest-write=refused"
fi
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M --disk "$WORK/read.img,ro"
after=$(sha256sum <"$WORK/read.img" | cut -d' ' -f1)
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! has "$name" "guest-ro=1"; then
	note_fail "$name" "the guest does not see the disk as read-only"
elif ! has "$name" "guest-write=refused"; then
	note_fail "$name" "a write to the read-only disk was accepted"
elif [ "$before" != "$after" ]; then
	note_fail "$name" "the read-only image changed"
else
	pass "$name"
fi

# --- entropy -------------------------------------------------------------------
name=hwrng
initrd=$(guest_initrd "$name" <<'G'
echo "guest-rng=$(cat /sys/class/misc/hw_random/rng_current)"
echo "guest-rng-bytes=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c)"
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC"
elif ! has "$name" "guest-rng=virtio_rng"; then
	note_fail "$name" "virtio-rng is not the guest's current hwrng"
elif ! has "$name" "guest-rng-bytes=256"; then
	note_fail "$name" "/dev/hwrng did not yield 256 bytes"
else
	pass "$name"
fi

# --- reboot is a stop, with status 0 -------------------------------------------
name=reboot_stops
initrd=$(guest_initrd "$name" <<'G'
reboot -f
G
)
run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC after a guest reboot"
elif ! has "$name" "guest rebooted"; then
	note_fail "$name" "ward did not report the reboot"
else
	pass "$name"
fi

# --- a guest kernel panic is a failure (status 1) ------------------------------
name=panic_fails
initrd=$(guest_initrd "$name" <<'G'
echo c >/proc/sysrq-trigger
G
)
EXPECT_PANIC=1 run_ward "$name" $T --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M
unset EXPECT_PANIC
if [ "$RC" != 1 ]; then
	note_fail "$name" "ward exited with $RC after a guest panic, expected 1"
elif ! has "$name" "guest kernel panicked"; then
	note_fail "$name" "ward did not name the panic"
else
	pass "$name"
fi

# --- bad arguments: one line, status 2, nothing left behind ------------------
name=bad_arguments
ok=1
for args in "--kernel /nonexistent" "--kernel $GUEST_KERNEL --mem lots" \
	"--kernel $GUEST_KERNEL --mem 100000G" "--kernel $GUEST_KERNEL --bogus" \
	"--kernel $GUEST_KERNEL --disk /nonexistent.img"; do
	# shellcheck disable=SC2086 # word splitting of args is intended
	ward run $args >"$WORK/bad.out" 2>&1
	rc=$?
	lines=$(wc -l <"$WORK/bad.out")
	if [ "$rc" != 2 ] || [ "$lines" != 1 ]; then
		ok=0
		echo "[$name] 'ward run $args' gave status $rc and $lines lines:"
		cat "$WORK/bad.out"
	fi
done
if [ "$ok" = 1 ]; then pass "$name"; else note_fail "$name" "see above"; fi
