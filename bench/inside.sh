# SPDX-License-Identifier: BSD-2-Clause
#
# The benchmark's test host side (busybox sh), started by tools/bench:
#   tools/testhost run --add build/bench/extra bench/inside.sh
# /extra holds vmmstat, ward (a plain Release build), qemu-root (Debian's
# QEMU and its libraries), quiet.cpio.gz (the quiet guest's initramfs), lkvm
# (a static kvmtool, when the user gave one) and bench.conf (N=, NQ=, ND=,
# DENSITY=, ARCH=). Each run prints one "BENCH key=value..." line (or a
# BENCHFAIL line) for tools/bench's tables. With ARCH=x86_64 (the x86_64
# test host, tools/bench --arch x86_64) only the default guest's boot and
# disk runs of ward and QEMU (-M microvm) take place.

ARCH=arm64
# shellcheck source=/dev/null # written by tools/bench
. /extra/bench.conf
MEM=256 # MiB: the guest RAM mapping is the one mapping of this size
MARKER="ward-guest: init reached"
T=600 # seconds per VMM run at most (TCG inside TCG is slow)
W=/tmp/bench
Q=/extra/qemu-root
# QEMU for the default guest: loader, binary, machine options (words
# without spaces) and console. QEMU starts through its root's own loader
# (the test host has no libc).
case $ARCH in
x86_64)
	# microvm: no PCI, no firmware tables but ACPI's (acpi=auto is on),
	# which describe its virtio-mmio slots to the guest (the kernel has no
	# virtio_mmio.device= parsing); qboot as its firmware, from -L. Its
	# 16550 at 0x3f8 is ttyS0, as ward's.
	QEMU_LD=$Q/lib/ld-linux-x86-64.so.2
	QEMU_BIN=$Q/bin/qemu-system-x86_64
	QEMU_MACHINE="-L $Q/share -M microvm -no-user-config"
	QEMU_CONSOLE=ttyS0
	;;
*)
	QEMU_LD=$Q/lib/ld-linux-aarch64.so.1
	QEMU_BIN=$Q/bin/qemu-system-aarch64
	QEMU_MACHINE=-M\ virt,gic-version=3
	QEMU_CONSOLE=ttyAMA0
	;;
esac
mkdir -p "$W"

# A guest initramfs: the default one plus /scenario.sh from stdin (cpio
# archives concatenate; the guest's /init runs it, then powers off).
guest_initrd() {
	d=$W/$1.d
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/scenario.sh"
	(cd "$d" && echo scenario.sh | cpio -o -H newc 2>/dev/null | gzip) >"$W/$1.extra.gz"
	cat /guest/initramfs.cpio.gz "$W/$1.extra.gz" >"$W/$1.cpio.gz"
	echo "$W/$1.cpio.gz"
}

# Boot: nothing to do, the guest powers off right after the marker.
boot_initrd=$(echo true | guest_initrd boot)
# Disk: sequential read of the whole disk, then a sequential write of it,
# both O_DIRECT so the guest's page cache (as big as the disk) stays out;
# the write ends with a flush (fsync). /proc/uptime has 10 ms steps.
disk_initrd=$(guest_initrd disk <<'G'
up() { cut -d' ' -f1 /proc/uptime; }
echo "bench-disk-sectors=$(cat /sys/block/vda/size)"
t0=$(up)
dd if=/dev/vda of=/dev/null bs=1M iflag=direct || echo "bench-io-failed read"
t1=$(up)
dd if=/dev/zero of=/dev/vda bs=1M count=256 oflag=direct conv=fsync || echo "bench-io-failed write"
t2=$(up)
echo "bench-io t0=$t0 t1=$t1 t2=$t2"
G
)
DISK=$W/disk.img
dd if=/dev/zero of="$DISK" bs=1M count=$MEM 2>/dev/null

echo "BENCHNOTE Test host: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo) RAM; $(/extra/ward version 2>&1 | head -n 1)."

# field LINE KEY: the value of KEY=value in a vmmstat line.
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# run VMM KIND ITER: one measured run; prints its BENCH or BENCHFAIL line.
run() {
	vmm=$1 kind=$2 i=$3 disk='' initrd=$boot_initrd
	if [ "$kind" = disk ]; then
		disk=$DISK initrd=$disk_initrd
	fi
	logf=$W/$vmm-$kind-$i.log
	case $vmm in
	ward*)
		set -- /extra/ward run --kernel /guest/Image --initrd "$initrd" --mem ${MEM}M --cpus 1
		[ -z "$disk" ] || set -- "$@" --disk "$disk"
		# The hardening table: ward without its allow-list, and ward jailed.
		[ "$vmm" != ward-open ] || set -- "$@" --seccomp off
		[ "$vmm" != ward-jail ] || set -- "$@" --jail 64000
		;;
	*)
		# virtio-rng matches ward's default set of devices.
		# shellcheck disable=SC2086 # QEMU_MACHINE is words
		set -- "$QEMU_LD" --library-path "$Q/lib" \
			"$QEMU_BIN" $QEMU_MACHINE -enable-kvm -cpu host \
			-m ${MEM}M -smp 1 -nodefaults -display none -serial stdio \
			-device virtio-rng-device -kernel /guest/Image -initrd "$initrd" \
			-append "console=$QEMU_CONSOLE earlycon panic=-1"
		[ -z "$disk" ] || set -- "$@" -drive "file=$disk,format=raw,if=none,id=d0" \
			-device virtio-blk-device,drive=d0
		;;
	esac
	res=$(/extra/vmmstat --marker "$MARKER" --exclude-size $((MEM << 20)) --log "$logf" \
		--stamp --smaps-copy "$W/$vmm-$kind.smaps" --timeout $T -- "$@")
	echo "[$vmm $kind $i] $res"
	# The first iteration's consoles, each line stamped with its arrival
	# (ms since the VMM's start), and the VMM's mappings of 1 MiB RSS or
	# more at the marker: they show where the time and the memory go.
	if [ "$i" = 1 ]; then
		tr -d '\r' <"$logf" | sed "s/^/LOG $vmm-$kind /"
		awk -v tag="SMAPS $vmm-$kind" '
			$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { map = $0 }
			$1 == "Rss:" && $2 >= 1024 { printf "%s %8d kB  %s\n", tag, $2, map }
		' "$W/$vmm-$kind.smaps"
	fi
	status=$(field "$res" status)
	marker_ms=$(field "$res" marker_ms)
	if [ "$status" != 0 ] || [ "$marker_ms" = -1.0 ]; then
		echo "BENCHFAIL vmm=$vmm kind=$kind iter=$i status=$status marker_ms=$marker_ms"
		echo "---- last lines of $logf ----"
		tail -n 20 "$logf"
		echo "----"
		return
	fi
	if [ "$kind" = boot ]; then
		up=$(echo "$res" | sed -n 's/.*marker_line=.*(uptime \([0-9.]*\) s).*/\1/p')
		# The guest kernel's printk clock (sched_clock) when it starts
		# /init. /proc/uptime lags it: it advances with jiffies until the
		# arch timer clocksource takes over, and ticks get lost here.
		kinit=$(sed -n 's/.*\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$logf" | head -n 1)
		# Console cost: wall time per character over runs of kernel lines
		# printed back to back with no work between them (printk writes
		# to the UART synchronously, a few MMIO exits per character).
		cpc=$(tr -d '\r' <"$logf" | awk '{
			t = $1 + 0; text = substr($0, index($0, "| ") + 2)
			cur = text ~ /^\[ *[0-9.]+\] (CPU features: detected|HugeTLB: |evm: )/
			if (cur && prev) { s += t - pt; c += plen }
			prev = cur; pt = t; plen = length(text) + 2
		} END { if (c) printf "%.3f", s / c; else print -1 }')
		echo "$res" | awk -v vmm="$vmm" -v i="$i" -v up="${up:--1}" -v kinit="${kinit:--1}" -v cpc="$cpc" '{
			for (k = 2; k <= NF; k++) { split($k, p, "="); v[p[1]] = p[2] }
			printf "BENCH vmm=%s kind=boot iter=%s first_out_s=%.3f marker_s=%.3f exit_s=%.3f", vmm, i, v["first_out_ms"] / 1000, v["marker_ms"] / 1000, v["exit_ms"] / 1000
			printf " guest_up_s=%s kernel_init_s=%s console_ms_per_char=%s peak_rss_mib=%.2f rss_out_mib=%.2f anon_out_mib=%.2f", up, kinit, cpc, v["peak_rss_kb"] / 1024, v["rss_outside_kb"] / 1024, v["anon_outside_kb"] / 1024
			printf " guest_rss_mib=%.2f rss_mib=%.2f ram_maps=%s\n", v["excluded_rss_kb"] / 1024, v["rss_kb"] / 1024, v["excluded_maps"]
		}'
	else
		tr -d '\r' <"$logf" | sed 's/^ *[0-9.]*| //' | awk -v vmm="$vmm" -v i="$i" -v mib=$MEM '
			/^bench-disk-sectors=/ { split($0, s, "="); sectors = s[2] }
			/^bench-io-failed/ { bad = 1 }
			/^bench-io / { for (k = 2; k <= NF; k++) { split($k, p, "="); t[p[1]] = p[2] } }
			END {
				# + 0: busybox awk compares split() results as strings.
				if (bad || sectors + 0 != mib * 2048 || !("t2" in t)) {
					printf "BENCHFAIL vmm=%s kind=disk iter=%s sectors=%s io-failed=%d\n", vmm, i, sectors, bad
					exit
				}
				r = t["t1"] - t["t0"]; w = t["t2"] - t["t1"]
				rm = r > 0 ? mib / r : -1; wm = w > 0 ? mib / w : -1
				printf "BENCH vmm=%s kind=disk iter=%s blk_read_mibs=%.1f blk_write_mibs=%.1f read_s=%.2f write_s=%.2f\n", vmm, i, rm, wm, r, w
			}'
	fi
}

# ---- quiet guest and density: ward, kvmtool and QEMU ----
# The guest prints nothing but the marker: "quiet", an /init that prints it
# at once and powers off, 64M, 1 vCPU, no disk, no rng, no network. What is
# left is the VMM's set-up, the kernel's boot and the exits it costs.
QMEM=64
QINITRD=/extra/quiet.cpio.gz
QUIET_VMMS="ward qemu"
if [ -x /extra/lkvm ]; then
	QUIET_VMMS="ward kvmtool qemu"
	echo "BENCHKVMTOOL $(/extra/lkvm version 2>&1 | head -n 1)"
fi
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# kvmtool keeps its control sockets under $HOME/.lkvm.
export HOME=/tmp/bench-home
mkdir -p "$HOME"

# quiet_cmd VMM: sets "$@" to the VMM's command line for the quiet guest.
quiet_cmd() {
	case $1 in
	ward)
		set -- /extra/ward run --kernel /guest/Image --initrd "$QINITRD" --mem ${QMEM}M \
			--cpus 1 --no-rng --cmdline "console=ttyS0 quiet panic=-1"
		;;
	kvmtool)
		set -- /extra/lkvm run --nodefaults -k /guest/Image -i "$QINITRD" -m $QMEM -c 1 \
			--console serial -n mode=none -p "quiet panic=-1"
		;;
	qemu)
		set -- "$Q/lib/ld-linux-aarch64.so.1" --library-path "$Q/lib" \
			"$Q/bin/qemu-system-aarch64" -M virt,gic-version=3 -enable-kvm -cpu host \
			-m ${QMEM}M -smp 1 -nodefaults -display none -serial stdio \
			-kernel /guest/Image -initrd "$QINITRD" -append "console=ttyAMA0 quiet panic=-1"
		;;
	esac
	QCMD=$(printf '%s\n' "$@")
}

# quiet_stat VMM LOG: runs the quiet guest under vmmstat; prints its line.
# Guest RAM is the one mapping of 64M, or 64M plus kvmtool's 2M of slack.
quiet_stat() {
	quiet_cmd "$1"
	# shellcheck disable=SC2086 # one argument per line, none with newlines
	(IFS='
'
	exec /extra/vmmstat --marker "$MARKER" --exclude-size $((QMEM << 20)) \
		--exclude-size $(((QMEM + 2) << 20)) --log "$2" --timeout $T -- $QCMD)
}

quiet_run() {
	vmm=$1 i=$2
	res=$(quiet_stat "$vmm" "$W/$vmm-quiet-$i.log")
	echo "[$vmm quiet $i] $res"
	if [ "$(field "$res" status)" != 0 ] || [ "$(field "$res" marker_ms)" = -1.0 ]; then
		echo "BENCHFAIL vmm=$vmm kind=quiet iter=$i status=$(field "$res" status)"
		tail -n 20 "$W/$vmm-quiet-$i.log"
		return
	fi
	echo "$res" | awk -v vmm="$vmm" -v i="$i" '{
		for (k = 2; k <= NF; k++) { split($k, p, "="); v[p[1]] = p[2] }
		printf "BENCH vmm=%s kind=quiet iter=%s q_marker_s=%.3f q_cpu_ticks=%s q_exits=%s q_rss_out_mib=%.2f\n", vmm, i, v["marker_ms"] / 1000, v["cpu_ticks"], v["kvm_exits"], v["rss_outside_kb"] / 1024
	}'
}

# DENSITY guests at once under one VMM: the time from the first start to
# the last marker, and the totals of memory outside guest RAM, CPU and exits
# at each VMM's marker. A guest powers off after its marker, as above.
density_run() {
	vmm=$1 i=$2 k=1
	while [ "$k" -le "$DENSITY" ]; do
		quiet_stat "$vmm" "$W/$vmm-density-$i-$k.log" >"$W/density-$k.res" &
		k=$((k + 1))
	done
	wait
	cat "$W"/density-*.res | sed "s/^/[$vmm density $i] /"
	cat "$W"/density-*.res | awk -v vmm="$vmm" -v i="$i" -v n="$DENSITY" '
		{
			delete v
			for (k = 2; k <= NF; k++) { split($k, p, "="); v[p[1]] = p[2] }
			if (v["status"] != "0" || v["marker_ms"] + 0 < 0) { bad++; next }
			s = v["start_abs_ms"] + 0; e = s + v["marker_ms"]
			if (!ok++ || s < first) first = s
			if (e > last) last = e
			out += v["rss_outside_kb"]; cpu += v["cpu_ticks"]; ex += v["kvm_exits"]
		}
		END {
			if (bad || ok != n) { printf "BENCHFAIL vmm=%s kind=density iter=%s up=%d of %d\n", vmm, i, ok, n; exit }
			printf "BENCH vmm=%s kind=density iter=%s d_all_up_s=%.3f d_out_mib=%.2f d_cpu_ticks=%d d_exits=%d\n", vmm, i, (last - first) / 1000, out / 1024, cpu, ex
		}'
	rm -f "$W"/density-*.res
}

# Alternating, with the order rotated each iteration.
rotate() {
	first=${1%% *}
	rest=${1#* }
	[ "$rest" = "$1" ] && echo "$1" || echo "$rest $first"
}
# rounds COUNT FN: COUNT rounds of FN VMM ITER over every VMM.
rounds() {
	r=1
	while [ "$r" -le "$1" ]; do
		for vmm in $order; do "$2" "$vmm" "$r"; done
		order=$(rotate "$order")
		r=$((r + 1))
	done
}
if [ "$ARCH" = x86_64 ]; then
	# x86_64: the default guest's rows only, ward against QEMU.
	order="ward qemu"
else
	order=$QUIET_VMMS
	rounds "$NQ" quiet_run
	rounds "$ND" density_run
	order="ward qemu ward-open ward-jail"
fi

# ---- the default guest: ward against QEMU, and ward's hardening ----
# ward-open is ward with --seccomp off, ward-jail ward with --jail: they
# only enter the hardening table.
i=1
while [ "$i" -le "$N" ]; do
	# Rotate who goes first, so warm-up and drift hit all alike.
	for kind in boot disk; do
		for vmm in $order; do
			run "$vmm" "$kind" "$i"
		done
	done
	order=$(rotate "$order")
	i=$((i + 1))
done
echo "bench: done"
