# SPDX-License-Identifier: BSD-2-Clause
#
# The network benchmark's test host side (busybox sh), started by
# tools/bench --net:
#   tools/testhost run --add build/bench/net-extra bench/net-inside.sh
# /extra holds ward (a plain Release build), qemu-root (Debian's QEMU and
# its libraries), iperf-root (Debian's iperf3 and its libraries, started
# through that root's own loader), guest-iperf.cpio.gz (the same root as
# /opt/iperf, appended to the guests' initramfs), mods/ (the test host
# kernel's llc, stp and bridge modules) and net.conf (N=, SECS=). Each run
# prints one "BENCH key=value..." line (or a BENCHFAIL line) for
# tools/bench's table; consoles go out as LOG lines (to the log only).

# shellcheck source=/dev/null # written by tools/bench
. /extra/net.conf
MEM=256
T=$((SECS * 4 + 360)) # seconds per run at most (TCG inside TCG is slow)
W=/tmp/netbench
Q=/extra/qemu-root
I=/extra/iperf-root
mkdir -p "$W"

iperf_host() {
	"$I/lib/ld-linux-aarch64.so.1" --library-path "$I/lib" "$I/bin/iperf3" "$@"
}

# guest_initrd NAME: the default guest's initramfs, then iperf3 as
# /opt/iperf, then /scenario.sh from stdin (cpio archives concatenate; the
# guest's /init runs /scenario.sh, then powers off). The scenario starts
# with SECS and two helpers.
guest_initrd() {
	d=$W/$1.d
	rm -rf "$d"
	mkdir -p "$d"
	{
		echo "SECS=$SECS"
		cat <<'G'
iperf() {
	/opt/iperf/lib/ld-linux-aarch64.so.1 --library-path /opt/iperf/lib /opt/iperf/bin/iperf3 "$@"
}
# mbps FILE: the receiver's rate in an iperf3 -f k summary, in Mbit/s.
mbps() {
	awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Kbits/sec") printf "%.1f", $(i - 1) / 1000 }' "$1"
}
# up IP PEER: addresses eth0, then waits until PEER answers a ping.
up() {
	ip link set lo up
	ip addr add "$1/24" dev eth0
	ip link set eth0 up
	i=0
	until ping -c 1 -W 1 "$2" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 120 ] || break
	done
	echo "net-link tries=$i"
}
G
		cat
	} >"$d/scenario.sh"
	(cd "$d" && echo scenario.sh | cpio -o -H newc 2>/dev/null | gzip) >"$W/$1.extra.gz"
	cat /guest/initramfs.cpio.gz /extra/guest-iperf.cpio.gz "$W/$1.extra.gz" >"$W/$1.cpio.gz"
	echo "$W/$1.cpio.gz"
}

# Guest and test host over a tap: the round trip first, on an idle link,
# then TCP out of the guest and into it (-R: the test host sends).
tap_initrd=$(guest_initrd tap <<'G'
up 10.9.0.2 10.9.0.1
ping -c 100 -i 0.05 10.9.0.1 >/tmp/ping.txt 2>&1
sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' /tmp/ping.txt | sort -n >/tmp/rtt.txt
# Median, and p99 by nearest rank (the 99th of 100 sorted).
awk '{ t[NR] = $1 } END {
	if (NR) printf "net-rtt n=%d med=%.3f p99=%.3f\n", NR, NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2, t[int(NR * 0.99 + 0.999)]
}' /tmp/rtt.txt
iperf -c 10.9.0.1 -t "$SECS" -i 0 -f k >/tmp/g2h.txt 2>&1
echo "net-g2h mbps=$(mbps /tmp/g2h.txt)"
grep -q receiver /tmp/g2h.txt || tail -n 5 /tmp/g2h.txt
iperf -c 10.9.0.1 -t "$SECS" -i 0 -f k -R >/tmp/h2g.txt 2>&1
echo "net-h2g mbps=$(mbps /tmp/h2g.txt)"
grep -q receiver /tmp/h2g.txt || tail -n 5 /tmp/h2g.txt
G
)
# VM to VM: a receives (iperf3 -s for one test), b sends. a stays up a
# little after its server ends, so that b's summary arrives whole.
vva_initrd=$(guest_initrd vva <<'G'
up 10.2.0.1 10.2.0.2
iperf -s -1 -i 0 -f k >/tmp/s.txt 2>&1
echo "net-vv-server-done"
sleep 5
G
)
vvb_initrd=$(guest_initrd vvb <<'G'
up 10.2.0.2 10.2.0.1
# a's server may not listen yet: try again until a test completes.
k=0
until iperf -c 10.2.0.1 -t "$SECS" -i 0 -f k >/tmp/vv.txt 2>&1 && grep -q receiver /tmp/vv.txt; do
	k=$((k + 1))
	[ $k -lt 30 ] || break
	sleep 1
done
echo "net-vv mbps=$(mbps /tmp/vv.txt) retries=$k"
grep -q receiver /tmp/vv.txt || tail -n 5 /tmp/vv.txt
echo "net-vv-done"
G
)

echo "BENCHNOTE Test host: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo) RAM; $(/extra/ward version 2>&1 | head -n 1); $(iperf_host --version 2>&1 | head -n 1 | cut -d' ' -f1-2)."

# The bridge for QEMU's VM-to-VM runs. STP off (the default; busybox's
# brctl here has no stp command): a port forwards as soon as it is up.
for m in llc stp bridge; do
	insmod "/extra/mods/$m.ko" || echo "net-inside: insmod $m failed"
done
if brctl addbr br0 && echo 0 >/sys/class/net/br0/bridge/stp_state && ip link set br0 up; then
	echo "net-inside: bridge br0 up, stp_state $(cat /sys/class/net/br0/bridge/stp_state)"
else
	echo "net-inside: no bridge: the QEMU VM-to-VM runs will fail"
fi

# wait_for FILE PATTERN SECONDS: waits until FILE contains PATTERN.
wait_for() {
	k=0
	while [ "$k" -lt "$(($3 * 10))" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		usleep 100000
		k=$((k + 1))
	done
	return 1
}

# wait_link DEV: waits (60 s at most) for the VMM to create tap DEV.
wait_link() {
	k=0
	while ! ip link show "$1" >/dev/null 2>&1 && [ $k -lt 600 ]; do
		usleep 100000
		k=$((k + 1))
	done
}

# qemu_cmd INITRD [NETDEV-OPTIONS DEVICE-OPTIONS]: sets "$@" for QEMU with
# the bench's default guest (as tools/bench's boot rows) and one NIC.
qemu_cmd() {
	QI=$1 QN=$2 QD=$3
	set -- "$Q/lib/ld-linux-aarch64.so.1" --library-path "$Q/lib" \
		"$Q/bin/qemu-system-aarch64" -M virt,gic-version=3 -enable-kvm -cpu host \
		-m ${MEM}M -smp 1 -nodefaults -display none -serial stdio \
		-device virtio-rng-device -kernel /guest/Image -initrd "$QI" \
		-append "console=ttyAMA0 earlycon panic=-1" \
		-netdev "tap,id=n0,$QN,script=no,downscript=no,vhost=off" \
		-device "virtio-net-device,netdev=n0$QD"
	QCMD=$(printf '%s\n' "$@")
}

# start_qemu LOG INITRD NETDEV DEVICE: QEMU in the background; sets PID.
start_qemu() {
	qemu_cmd "$2" "$3" "$4"
	# shellcheck disable=SC2086 # one argument per line, none with newlines
	(IFS='
'
	exec timeout "$T" $QCMD) </dev/null >"$1" 2>&1 &
	PID=$!
}

# log_console TAG FILE: the first iteration's consoles, for the log.
log_console() {
	[ "$i" = 1 ] || return 0
	tr -d '\r' <"$2" | sed "s/^/LOG $1 /"
}

# tap_run VMM ITER: one guest over a tap, measured; prints a BENCH line.
tap_run() {
	vmm=$1 i=$2 logf=$W/$1-tap-$2.log
	case $vmm in
	ward)
		tap=wt0
		timeout "$T" /extra/ward run --kernel /guest/Image --initrd "$tap_initrd" \
			--mem ${MEM}M --cpus 1 --net "tap=$tap" </dev/null >"$logf" 2>&1 &
		pid=$!
		;;
	qemu)
		tap=qt0
		start_qemu "$logf" "$tap_initrd" "ifname=$tap" ""
		pid=$PID
		;;
	esac
	# A server per run: a test cut short cannot hold up the next.
	iperf_host -s -i 0 >"$W/iperf-s-$vmm-$i.log" 2>&1 &
	spid=$!
	wait_link "$tap"
	ip addr add 10.9.0.1/24 dev "$tap"
	ip link set "$tap" up
	wait "$pid"
	rc=$?
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	log_console "$vmm-tap" "$logf"
	tr -d '\r' <"$logf" | awk -v vmm="$vmm" -v i="$i" -v rc="$rc" '
		function val(k,   j, p) {
			for (j = 2; j <= NF; j++) { split($j, p, "="); if (p[1] == k) return p[2] }
			return ""
		}
		# A line may carry a prefix (a console log stamp): start at "net-".
		/net-(rtt|g2h|h2g) / { $0 = substr($0, index($0, "net-")) }
		/^net-rtt / { n = val("n"); med = val("med"); p99 = val("p99") }
		/^net-g2h / { g2h = val("mbps") }
		/^net-h2g / { h2g = val("mbps") }
		END {
			if (rc != 0 || g2h == "" || h2g == "" || n + 0 < 90) {
				printf "BENCHFAIL vmm=%s kind=tap iter=%s status=%s g2h=%s h2g=%s rtt_n=%s\n", vmm, i, rc, g2h, h2g, n
				exit 1
			}
			printf "BENCH vmm=%s kind=tap iter=%s g2h_mbps=%s h2g_mbps=%s rtt_med_ms=%s rtt_p99_ms=%s rtt_n=%s\n", vmm, i, g2h, h2g, med, p99, n
		}' || { echo "---- last lines of $logf ----" && tail -n 20 "$logf" && echo "----"; }
}

# vv_run VMM ITER: two guests on one network, b sending to a; prints a
# BENCH line. ward: one switch network under ward system up. QEMU: two
# taps on br0.
vv_run() {
	vmm=$1 i=$2 d=$W/vv-$1-$2
	rm -rf "$d"
	mkdir -p "$d"
	case $vmm in
	ward)
		la=$d/logs/vv_a.log lb=$d/logs/vv_b.log
		cat >"$d/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vv_a": {"kernel": "/guest/Image", "initrd": "$vva_initrd",
             "memory": [{"gpa": "0x40000000", "size": "${MEM}M"}], "policy": {"allow": []}},
    "vv_b": {"kernel": "/guest/Image", "initrd": "$vvb_initrd",
             "memory": [{"gpa": "0x40000000", "size": "${MEM}M"}], "policy": {"allow": []}}
  },
  "networks": [{"name": "lan", "ports": [
    {"vm": "vv_a", "mac": "02:00:00:00:00:0a"},
    {"vm": "vv_b", "mac": "02:00:00:00:00:0b"}
  ]}],
  "linux": {"control_socket": "$d/ctl.sock", "console_log_dir": "$d/logs"}
}
J
		/extra/ward system up "$d/sys.json" >"$d/up.out" 2>&1 ||
			echo "[ward vv $i] ward system up: $(cat "$d/up.out")"
		wait_for "$lb" net-vv-done $T
		/extra/ward ctl "$d/sys.json" net lan >"$d/net.out" 2>&1
		/extra/ward system down "$d/sys.json" >>"$d/up.out" 2>&1
		echo "[ward vv $i] $(head -n 3 "$d/net.out" | tr '\n' ' ')"
		if ! grep -q net-vv-done "$lb" 2>/dev/null; then
			echo "---- ward vv $i did not finish: up.out, supervisor.log, vv_a.log ----"
			tail -n 5 "$d/up.out"
			tail -n 20 "$d/logs/supervisor.log"
			tail -n 20 "$la"
		fi
		;;
	qemu)
		la=$d/vv_a.log lb=$d/vv_b.log
		start_qemu "$la" "$vva_initrd" ifname=qa0 ,mac=52:54:00:00:00:0a
		pa=$PID
		start_qemu "$lb" "$vvb_initrd" ifname=qb0 ,mac=52:54:00:00:00:0b
		pb=$PID
		for tap in qa0 qb0; do
			wait_link "$tap"
			brctl addif br0 "$tap"
			ip link set "$tap" up
		done
		wait_for "$lb" net-vv-done $T
		wait "$pa" "$pb"
		;;
	esac
	log_console "$vmm-vv-a" "$la"
	log_console "$vmm-vv-b" "$lb"
	tr -d '\r' <"$lb" | awk -v vmm="$vmm" -v i="$i" '
		/net-vv mbps=/ { sub(/.*net-vv mbps=/, ""); v = $1 }
		END {
			if (v == "") { printf "BENCHFAIL vmm=%s kind=vv iter=%s\n", vmm, i; exit 1 }
			printf "BENCH vmm=%s kind=vv iter=%s vv_mbps=%s\n", vmm, i, v
		}' || { echo "---- last lines of $lb ----" && tail -n 20 "$lb" && echo "----"; }
}

# Alternating, the order rotated each iteration, so that warm-up and drift
# hit both alike.
i=1
order="ward qemu"
while [ "$i" -le "$N" ]; do
	for vmm in $order; do tap_run "$vmm" "$i"; done
	for vmm in $order; do vv_run "$vmm" "$i"; done
	order="${order#* } ${order%% *}"
	i=$((i + 1))
done
echo "bench: done"
