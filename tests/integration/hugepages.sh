# SPDX-License-Identifier: BSD-2-Clause
#
# Guest RAM on huge pages (sourced by run-all.sh): with THP (the default)
# the RAM mapping holds transparent huge pages and KVM maps it in blocks,
# so the guest's boot costs far fewer exits than with --hugepages off (one
# stage-2 fault per 4K page); hugetlb boots from reserved pages and refuses,
# with a clear error, more than the host has.

mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# The probe guest's RAM: 64M, but Debian's amd64 kernel needs about 80M to
# boot (ward says so), so 128M on x86_64; the hugetlb pages reserved for it
# and the larger guest that they are too few for.
probe_mb=64 reserve=40 short_mb=128 ram_at=0x40000000
[ "$ARCH" != x86_64 ] || probe_mb=128 reserve=72 short_mb=192 ram_at=0x0

# ram_probe NAME ARGS...: boots a probe_mb guest with ARGS; when its init is
# up, sets RAM_THP_KB and RAM_HUGETLB_KB (from ward's smaps, the RAM
# mapping) and EXITS (KVM's exit count for the VM so far, from debugfs; -1
# if none).
ram_probe() {
	name=$1
	shift
	initrd=$(guest_initrd "$name" <<'G'
echo RAM-PROBE-READY
sleep 2
G
)
	: >"$WORK/$name.out"
	ward run --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem ${probe_mb}M --no-rng "$@" \
		</dev/null >"$WORK/$name.out" 2>&1 &
	pid=$!
	RAM_THP_KB=-1 RAM_HUGETLB_KB=-1 EXITS=-1
	if wait_for "$WORK/$name.out" RAM-PROBE-READY $T; then
		EXITS=$(cat /sys/kernel/debug/kvm/"$pid"-*/exits 2>/dev/null | head -n 1)
		EXITS=${EXITS:--1}
		set -- $(awk -v kb=$((probe_mb * 1024)) '
			$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { ram = 0 }
			$1 == "Size:" && $2 == kb { ram = 1 }
			ram && $1 == "AnonHugePages:" { thp = $2 }
			ram && $1 == "Private_Hugetlb:" { htlb = $2 }
			END { print thp + 0, htlb + 0 }' "/proc/$pid/smaps")
		RAM_THP_KB=$1 RAM_HUGETLB_KB=$2
	fi
	wait "$pid"
	RC=$?
	echo "[$name] ward exit status $RC; RAM: AnonHugePages ${RAM_THP_KB} kB, Private_Hugetlb ${RAM_HUGETLB_KB} kB; KVM exits to init: $EXITS"
}

ram_probe ram_off --hugepages off
off_exits=$EXITS off_thp=$RAM_THP_KB off_rc=$RC
ram_probe ram_thp
if [ "$RC" != 0 ] || ! has ram_thp "ward-guest: init reached"; then
	note_fail ram_thp "ward exited with $RC before or after the guest's init"
elif [ "$RAM_THP_KB" -le 0 ]; then
	note_fail ram_thp "no transparent huge pages in the guest RAM mapping ($RAM_THP_KB kB)"
elif [ "$off_rc" != 0 ] || [ "$off_thp" != 0 ]; then
	note_fail ram_thp "--hugepages off: status $off_rc, $off_thp kB of huge pages (expected none)"
elif [ "$EXITS" -lt 0 ] || [ "$off_exits" -lt 0 ]; then
	note_fail ram_thp "no KVM exit counts in debugfs"
elif [ $((off_exits - EXITS)) -lt 8192 ]; then
	# 64M in 4K pages is 16384 stage-2 faults; in 2M blocks, 32.
	note_fail ram_thp "$EXITS exits to init with THP against $off_exits with 4K pages (expected 8192 fewer at least)"
else
	pass ram_thp
fi

echo $reserve >/proc/sys/vm/nr_hugepages
ram_probe ram_hugetlb --hugepages hugetlb
if [ "$RC" != 0 ] || ! has ram_hugetlb "ward-guest: init reached"; then
	note_fail ram_hugetlb "ward exited with $RC before or after the guest's init"
elif [ "$RAM_HUGETLB_KB" -le 0 ]; then
	note_fail ram_hugetlb "the guest RAM is not on hugetlb pages ($RAM_HUGETLB_KB kB)"
else
	pass ram_hugetlb
fi
# 40 pages of 2M are 80M: a 128M guest needs 64 and is refused at start
# (x86_64: 72 pages, a 192M guest needs 96). Its boot RAM is at 1G on
# arm64, at 0 on x86_64.
name=ram_hugetlb_short
run_ward "$name" $T --kernel "$GUEST_KERNEL" --mem ${short_mb}M --hugepages hugetlb
if [ "$RC" != 1 ]; then
	note_fail "$name" "ward exited with $RC, expected 1"
elif ! has "$name" "hugetlb: cannot get $((short_mb / 2)) free 2M huge pages for RAM at $ram_at"; then
	note_fail "$name" "no clear error for too few huge pages"
else
	pass "$name"
fi
echo 0 >/proc/sys/vm/nr_hugepages
