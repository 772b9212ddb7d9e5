# SPDX-License-Identifier: BSD-2-Clause
#
# Nothing flushed is lost when a VMM is killed. The guest writes numbered
# records to its disk, one sector each, and reports each record only after
# fsync on the disk returned (a virtio-blk flush, which ward completes only
# after fdatasync on the image). The host kills the VMM with SIGKILL at a
# random moment while the guest writes, six times per disk kind, and after
# each kill checks that the image holds every record the guest reported.
# Kinds: the image served by the VMM itself (io_uring), and by a backend
# process of its own (--disk PATH,process), whose VMM is the one killed.
# Sourced by run-all.sh (uses lib.sh and note_fail).

CC=$WORK/crash
rm -rf "$CC"
mkdir -p "$CC"
# Boot B writes records at sectors B*1000+1, B*1000+2, ... (B from the
# kernel command line), so every boot's records stay apart.
cc_initrd=$(guest_initrd crash_guest <<'G'
b=$(sed -n 's/.*ward_boot=\([0-9]*\).*/\1/p' /proc/cmdline)
i=1
while [ $i -le 900 ]; do
	printf 'ward-rec boot %s rec %s\n' "$b" "$i" |
		dd of=/dev/vda bs=512 seek=$((b * 1000 + i)) conv=sync,fsync 2>/dev/null ||
		{ echo "REC-FAILED $b $i"; break; }
	echo "REC $b $i"
	i=$((i + 1))
done
sleep 600
G
)

# crash_kind NAME SUFFIX: six boots of a VM whose disk is IMG$SUFFIX, each
# killed; prints nothing when every reported record is on the image, else why.
crash_kind() {
	local img=$CC/$1.img reported=0 b pid out i got
	dd if=/dev/zero of="$img" bs=1M count=8 2>/dev/null
	for b in 1 2 3 4 5 6; do
		out=$CC/$1.$b.out
		ward run --kernel "$GUEST_KERNEL" --initrd "$cc_initrd" --mem 128M \
			--cmdline "console=ttyS0 panic=-1 ward_boot=$b" --disk "$img$2" \
			</dev/null >"$out" 2>&1 &
		pid=$!
		if ! wait_for "$out" "REC $b 1" $T; then
			kill -9 $pid 2>/dev/null
			echo "boot $b wrote no record: $(tail -3 "$out")"
			return
		fi
		# Somewhere in the next 0.1 to 3 s of writing.
		usleep $(((RANDOM % 2900 + 100) * 1000))
		kill -9 $pid
		wait $pid 2>/dev/null
		usleep 200000 # a backend process sees its VMM gone and exits
		for i in $(tr -d '\r' <"$out" | sed -n "s/^REC $b \([0-9]*\)$/\1/p"); do
			got=$(dd if="$img" bs=512 skip=$((b * 1000 + i)) count=1 2>/dev/null | head -n 1)
			if [ "$got" != "ward-rec boot $b rec $i" ]; then
				echo "boot $b: record $i was reported flushed but the image has [$got]"
				return
			fi
			reported=$((reported + 1))
		done
	done
	echo "[$1] $reported flushed records checked after 6 kills" >&2
}

for kind in crash_consistency_file: crash_consistency_process:,process; do
	name=${kind%%:*}
	why=$(crash_kind "$name" "${kind#*:}" 2>"$CC/$name.note")
	cat "$CC/$name.note"
	if [ -n "$why" ]; then
		note_fail "$name" "$why"
	else
		pass "$name"
	fi
done
