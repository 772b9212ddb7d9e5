# SPDX-License-Identifier: BSD-2-Clause
#
# `ward system up`, `ward ctl` and `ward system down` in the test host:
# two VMs whose guests print a heartbeat every second. Sourced by run-all.sh
# (uses lib.sh and note_fail); prints SCENARIO lines.

SYS=$WORK/system
# cgroup v2 for cpu_max_us (Debian mounts it with systemd; the test host's
# init is busybox).
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
rm -rf "$SYS"
mkdir -p "$SYS"
hb_initrd=$(guest_initrd system_hb <<'G'
echo "SYSTEM-GUEST-UP"
grep "System RAM" /proc/iomem | sed 's/^/ram: /'
# Echoes what reaches the console, for system_console_attach. A background
# job's stdin is /dev/null unless redirected.
# The line "crash" panics the kernel (system_guest_panic).
(while read -r l; do
	echo "guest-read: $l"
	[ "$l" = crash ] && echo c >/proc/sysrq-trigger
done) </dev/console &
i=0
while :; do
	i=$((i + 1))
	echo "heartbeat $i"
	sleep 1
done
G
)
# Two RAM layouts: vm_a's boot RAM where the machine puts it plus 32M at
# 4G, vm_b's elsewhere (arm64: all at 2G; x86_64, whose boot RAM is at 0:
# 64M of it at 6G). want_* are their lines in the guests' /proc/iomem;
# vm_b must have no line of not_b (vm_a's layout).
if [ "$ARCH" = x86_64 ]; then
	mem_a='[{"size": "160M"}, {"gpa": "0x100000000", "size": "32M"}]'
	mem_b='[{"size": "128M"}, {"gpa": "0x180000000", "size": "64M"}]'
	want_a="-09ffffff : System RAM" want_b="-07ffffff : System RAM"
	want_b2="ram: 180000000-183ffffff : System RAM" not_b="ram: 100000000"
else
	mem_a='[{"gpa": "0x40000000", "size": "160M"}, {"gpa": "0x100000000", "size": "32M"}]'
	mem_b='[{"gpa": "0x80000000", "size": "192M"}]'
	want_a="ram: 40000000-49ffffff : System RAM" want_b="ram: 80000000-8bffffff : System RAM"
	want_b2=$want_b not_b="ram: 4"
fi
# vm_b's VMM is pinned to the test host's last CPU, with a CPU budget of
# 0.6 CPU; on a one-CPU test host (x86_64) 0.2, since sharing the CPU with
# vm_a already holds it below 0.6.
pin=$((NCPUS - 1))
budget=60000
[ "$NCPUS" -gt 1 ] || budget=20000
cat >"$SYS/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$hb_initrd", "memory": $mem_a,
             "policy": {"allow": ["start", "stop", "pause", "resume", "restart"],
                        "on_failure": "restart", "restart_backoff_ms": 500, "max_restarts": 3}},
    "vm_b": {"kernel": "$GUEST_KERNEL", "initrd": "$hb_initrd",
             "memory": $mem_b,
             "policy": {"allow": ["start"], "on_failure": "stop"}}
  },
  "linux": {"control_socket": "$SYS/ctl.sock", "console_log_dir": "$SYS/logs",
            "vms": {"vm_b": {"host_cpus": [$pin], "cpu_max_us": $budget}}}
}
J
LA=$SYS/logs/vm_a.log
LB=$SYS/logs/vm_b.log
vm_field() { # vm_field VM FIELD: from `ward ctl status VM`
	ward ctl "$SYS/sys.json" status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
hb_count() {
	grep -c '^heartbeat' "$1" 2>/dev/null
}

name=system_up
if ! ward system up "$SYS/sys.json" >"$WORK/$name.out" 2>&1; then
	note_fail "$name" "ward system up failed: $(cat "$WORK/$name.out")"
elif ! wait_for "$LA" "heartbeat 2" $T || ! wait_for "$LB" "heartbeat 2" $T; then
	note_fail "$name" "the guests' heartbeats did not appear"
elif [ "$(ward ctl "$SYS/sys.json" list | grep -c 'state=running')" != 2 ]; then
	note_fail "$name" "ward ctl list: $(ward ctl "$SYS/sys.json" list)"
else
	pass "$name"
fi

# Each running VMM is locked down (docs/security.md): no capabilities in
# any set, no_new_privs, and a seccomp filter (mode 2), on every thread.
name=system_vmm_locked_down
why=
for pid in $(ward ctl "$SYS/sys.json" list | sed -n 's/.* pid=\([0-9]*\).*/\1/p'); do
	for t in /proc/"$pid"/task/*; do
		st=$(cat "$t/status" 2>/dev/null)
		for f in "CapEff:	0000000000000000" "CapPrm:	0000000000000000" \
			"CapBnd:	0000000000000000" "NoNewPrivs:	1" "Seccomp:	2"; do
			case $st in
			*"$f"*) ;;
			*) why="$why ${t#/proc/}: not '$f';" ;;
			esac
		done
	done
done
if [ -z "$(ward ctl "$SYS/sys.json" list | sed -n 's/.* pid=\([0-9]*\).*/\1/p')" ]; then
	note_fail "$name" "no VMM pid in ward ctl list"
elif [ -n "$why" ]; then
	note_fail "$name" "$why"
else
	pass "$name"
fi

# The memory layouts (above): each guest lists its System RAM from
# /proc/iomem at start.
name=system_ram_layout
if ! grep -q -- "$want_a" "$LA" ||
	! grep -q "ram: 100000000-101ffffff : System RAM" "$LA"; then
	note_fail "$name" "vm_a: $(grep '^ram:' "$LA" | tr '\n' ' ')"
elif ! grep -q -- "$want_b" "$LB" || ! grep -q -- "$want_b2" "$LB" || grep -q "$not_b" "$LB"; then
	note_fail "$name" "vm_b: $(grep '^ram:' "$LB" | tr '\n' ' ')"
else
	echo "[$name] vm_a: $(grep '^ram:' "$LA" | tr -d '\r' | tr '\n' ' ')"
	pass "$name"
fi

# vm_b's VMM and every one of its threads run on the host's last CPU only;
# vm_a's may use all of the test host's CPUs (on the one-CPU x86_64 test
# host both are "0": there the scenario shows only that the pin is taken).
name=system_host_cpus
pb=$(vm_field vm_b pid)
pa=$(vm_field vm_a pid)
cpus_b=$(cat /proc/"$pb"/task/*/status 2>/dev/null | sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' | sort -u | tr '\n' ' ')
cpus_a=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$pa"/status 2>/dev/null)
nthreads=$(ls /proc/"$pb"/task 2>/dev/null | wc -l)
echo "[$name] vm_b (pid $pb, $nthreads threads): CPUs $cpus_b; vm_a: CPUs $cpus_a"
all_cpus=0-$pin
[ "$pin" != 0 ] || all_cpus=0
if [ "$cpus_b" != "$pin " ] || [ "$nthreads" -lt 2 ]; then
	note_fail "$name" "vm_b's threads may run on: $cpus_b ($nthreads threads)"
elif [ "$cpus_a" != "$all_cpus" ]; then
	note_fail "$name" "vm_a's VMM is pinned too: $cpus_a"
else
	pass "$name"
fi

# vm_b's VMM runs in its own cgroup with cpu.max "$budget 100000", and
# booting a guest needs more than that: the kernel has throttled it.
name=system_cpu_max
pb=$(vm_field vm_b pid)
pa=$(vm_field vm_a pid)
cg_b=$(sed -n 's/^0:://p' /proc/"$pb"/cgroup 2>/dev/null)
cg_a=$(sed -n 's/^0:://p' /proc/"$pa"/cgroup 2>/dev/null)
max=$(cat "/sys/fs/cgroup$cg_b/cpu.max" 2>/dev/null)
thr=$(sed -n 's/^nr_throttled //p' "/sys/fs/cgroup$cg_b/cpu.stat" 2>/dev/null)
echo "[$name] vm_b in $cg_b: cpu.max $max, throttled $thr times; vm_a in $cg_a"
case $cg_b in
/ward/sup-*/vm_b)
	if [ "$max" != "$budget 100000" ]; then
		note_fail "$name" "cpu.max is [$max]"
	elif [ "${thr:-0}" -le 0 ]; then
		note_fail "$name" "vm_b was never throttled: $(tr '\n' ' ' <"/sys/fs/cgroup$cg_b/cpu.stat")"
	# vm_a has no budget: its cgroup (the jail's memory cap) leaves it all CPUs.
	elif [ "$(cat "/sys/fs/cgroup$cg_a/cpu.max" 2>/dev/null)" != "max 100000" ]; then
		note_fail "$name" "vm_a has no budget but is in $cg_a with cpu.max $(cat "/sys/fs/cgroup$cg_a/cpu.max")"
	else
		pass "$name"
	fi
	;;
*) note_fail "$name" "vm_b's VMM is in cgroup [$cg_b]" ;;
esac

name=system_forbidden
ward ctl "$SYS/sys.json" stop vm_b >"$WORK/$name.out" 2>&1
rc=$?
if [ "$rc" != 1 ] || ! grep -q "vm vm_b: 'stop' is not in policy.allow \[start\]" "$WORK/$name.out"; then
	note_fail "$name" "status $rc: $(cat "$WORK/$name.out")"
elif [ "$(vm_field vm_b state)" != running ]; then
	note_fail "$name" "vm_b is no longer running"
else
	pass "$name"
fi

# A batch of malformed and valid requests, all at once: each must get its own
# error (or ok), and the VMs must be exactly as before (same pids, running,
# no restarts); both guests must still beat.
name=system_ctl_stress
before=$(ward ctl "$SYS/sys.json" list)
SD_STRESS=$WORK/$name
rm -rf "$SD_STRESS"
mkdir -p "$SD_STRESS"
big=$SD_STRESS/big.json
{ printf '{"api": 1, "op": "status", "pad": "'; head -c 100000 /dev/zero | tr '\000' a; printf '"}\n'; } >"$big"
i=0
for req in 'not json' '{"api": 1, "op": "stop"' '[1, 2, 3]' '{"api": "1", "op": "list"}' \
	'{"api": 1, "op": 7}' '{"api": 1, "op": "explode"}' '{"api": 1, "op": "stop", "vm": "nope"}' \
	'{"api": 1, "op": "stop", "vm": 5}' '{"api": 99, "op": "list"}' '{"api": 1, "op": "stop", "vm": "vm_b"}' \
	'{"api": 1, "op": "list", "extra": true}' '{"api": 1, "op": "status", "vm": "vm_a", "grace_ms": -1}'; do
	for _ in 1 2; do
		i=$((i + 1))
		printf '%s\n' "$req" | ward ctl --socket "$SYS/ctl.sock" --raw >"$SD_STRESS/bad$i.out" 2>&1 &
	done
done
for j in 1 2 3 4 5 6; do
	ward ctl --socket "$SYS/ctl.sock" --raw <"$big" >"$SD_STRESS/big$j.out" 2>&1 &
	printf '{"api": 1, "op": "list"}\n' | ward ctl --socket "$SYS/ctl.sock" --raw >"$SD_STRESS/good$j.out" 2>&1 &
done
wait
after=$(ward ctl "$SYS/sys.json" list)
nbad=$(grep -l '"ok": *false' "$SD_STRESS"/bad*.out | wc -l)
nbig=$(grep -l 'larger than' "$SD_STRESS"/big*.out | wc -l)
ngood=$(grep -l '"ok": *true' "$SD_STRESS"/good*.out | wc -l)
h1=$(hb_count "$LB")
sleep 2
echo "[$name] $i malformed: $nbad refused; 6 oversized: $nbig refused; 6 valid: $ngood ok"
if [ "$nbad" != "$i" ] || [ "$nbig" != 6 ] || [ "$ngood" != 6 ]; then
	note_fail "$name" "replies: $(head -c 300 "$SD_STRESS"/bad1.out "$SD_STRESS"/big1.out "$SD_STRESS"/good1.out | tr '\n' ' ')"
elif [ "$before" != "$after" ]; then
	note_fail "$name" "state changed: [$before] -> [$after]"
elif [ "$(hb_count "$LB")" -le "$h1" ]; then
	note_fail "$name" "vm_b stopped beating"
else
	pass "$name"
fi

# ward ctl console --attach: a line on its stdin reaches vm_a's console, the
# guest's answer comes back on its stdout, and the end of stdin detaches.
name=system_console_attach
rm -f "$WORK/attach.in"
mkfifo "$WORK/attach.in"
ward ctl "$SYS/sys.json" console vm_a --attach --bytes 0 <"$WORK/attach.in" \
	>"$WORK/$name.out" 2>"$WORK/$name.err" &
apid=$!
exec 7>"$WORK/attach.in"
printf 'ping-%s\n' 42 >&7
wait_for "$WORK/$name.out" "guest-read: ping-42" $T
seen=$?
exec 7>&-
wait "$apid"
rc=$?
echo "[$name] attach status $rc; $(tr '\n' ' ' <"$WORK/$name.err")"
if [ "$seen" != 0 ]; then
	note_fail "$name" "the guest's answer did not come back: $(head -c 300 "$WORK/$name.out")"
elif [ "$rc" != 0 ] || ! grep -q "detached from vm vm_a" "$WORK/$name.err"; then
	note_fail "$name" "status $rc: $(cat "$WORK/$name.err")"
elif ! grep -q "guest-read: ping-42" "$LA"; then
	note_fail "$name" "the answer is not in vm_a's log"
elif grep -q "SYSTEM-GUEST-UP" "$WORK/$name.out"; then
	note_fail "$name" "--bytes 0 printed the old log"
else
	pass "$name"
fi

name=system_pause_resume
ward ctl "$SYS/sys.json" pause vm_a >"$WORK/$name.out" 2>&1
prc=$?
sleep 1
n1=$(hb_count "$LA")
sleep 3
n2=$(hb_count "$LA")
ward ctl "$SYS/sys.json" resume vm_a >/dev/null
sleep 4
n3=$(hb_count "$LA")
echo "[$name] heartbeats: $n1 paused $n2 resumed $n3"
if [ "$prc" != 0 ] || [ "${n1:-0}" -lt 1 ]; then
	note_fail "$name" "no running vm_a to pause (status $prc, $n1 heartbeats): $(cat "$WORK/$name.out")"
elif [ "$n1" != "$n2" ]; then
	note_fail "$name" "the heartbeat went on while paused ($n1 -> $n2)"
elif [ "$n3" -le "$n2" ]; then
	note_fail "$name" "the heartbeat did not come back after resume"
else
	pass "$name"
fi

name=system_kill_restart
pa=$(vm_field vm_a pid)
ups=$(grep -c SYSTEM-GUEST-UP "$LA")
nb1=$(hb_count "$LB")
kill -9 "$pa"
sleep 3
pa2=$(vm_field vm_a pid)
ra=$(vm_field vm_a restarts)
nb2=$(hb_count "$LB")
echo "[$name] vm_a pid $pa -> $pa2 restarts $ra; vm_b heartbeats $nb1 -> $nb2"
if [ -z "$pa2" ] || [ "$pa2" = "-" ] || [ "$pa2" = "$pa" ] || [ "$ra" != 1 ]; then
	note_fail "$name" "vm_a did not come back: $(ward ctl "$SYS/sys.json" status vm_a)"
elif [ "$nb2" -le "$nb1" ]; then
	note_fail "$name" "vm_b's heartbeat stopped"
else
	# The restarted guest appends its own SYSTEM-GUEST-UP to the log.
	i=0
	while [ "$i" -lt $((T * 10)) ] && [ "$(grep -c SYSTEM-GUEST-UP "$LA")" -le "$ups" ]; do
		usleep 100000
		i=$((i + 1))
	done
	if [ "$(grep -c SYSTEM-GUEST-UP "$LA")" -le "$ups" ]; then
		note_fail "$name" "the restarted vm_a did not boot"
	else
		pass "$name"
	fi
fi

# A guest kernel panic (sysrq c, typed through ward ctl console): vm_a's VMM
# exits with status 1, the supervisor restarts it (on_failure restart), and
# vm_b goes on beating.
name=system_guest_panic
# Until the guest that the restart above booted (its log is appended: the
# second SYSTEM-GUEST-UP) has beaten once, so that its reader is up.
beating_again() {
	awk -v want="$1" '/SYSTEM-GUEST-UP/ { b++; h = 0 } /^heartbeat/ { if (b >= want) h = 1 }
		END { exit !h }' "$LA"
}
boots() {
	grep -c SYSTEM-GUEST-UP "$LA"
}
i=0
while [ "$i" -lt $((T * 10)) ] && ! beating_again 2; do
	usleep 100000
	i=$((i + 1))
done
nboots=$(boots)
ra=$(vm_field vm_a restarts)
nb1=$(hb_count "$LB")
echo crash | ward ctl "$SYS/sys.json" console vm_a --attach --bytes 0 >"$WORK/$name.out" 2>&1
i=0
while [ "$i" -lt 100 ] && [ "$(vm_field vm_a restarts)" = "$ra" ]; do
	usleep 100000
	i=$((i + 1))
done
ra2=$(vm_field vm_a restarts)
last=$(vm_field vm_a last_exit)
sleep 2
nb2=$(hb_count "$LB")
echo "[$name] vm_a restarts $ra -> $ra2, last_exit $last; vm_b heartbeats $nb1 -> $nb2"
if ! grep -q "Kernel panic" "$LA"; then
	note_fail "$name" "no panic in vm_a's log: $(tail -c 300 "$LA")"
elif [ "$ra2" != $((ra + 1)) ] || [ "$last" != "status=1" ]; then
	note_fail "$name" "vm_a: $(ward ctl "$SYS/sys.json" status vm_a)"
elif [ "$nb2" -le "$nb1" ]; then
	note_fail "$name" "vm_b's heartbeat stopped"
else
	i=0
	while [ "$i" -lt $((T * 10)) ] && [ "$(boots)" -le "$nboots" ]; do
		usleep 100000
		i=$((i + 1))
	done
	if [ "$(boots)" -le "$nboots" ]; then
		note_fail "$name" "vm_a did not boot again"
	else
		pass "$name"
	fi
fi

name=system_stop
pa=$(vm_field vm_a pid)
ward ctl "$SYS/sys.json" stop vm_a --grace 5 >"$WORK/$name.out" 2>&1
if ! grep -q "vm_a state=stopped" "$WORK/$name.out"; then
	note_fail "$name" "$(cat "$WORK/$name.out")"
elif [ -d "/proc/$pa" ] && ! grep -q '^State:.*Z' "/proc/$pa/status"; then
	note_fail "$name" "the VMM process $pa is still there"
elif [ "$(vm_field vm_b state)" != running ]; then
	note_fail "$name" "vm_b stopped too"
else
	pass "$name"
fi

name=system_down
ward system down "$SYS/sys.json" >"$WORK/$name.out" 2>&1
rc=$?
sleep 1
left=$(ps -o pid,args 2>/dev/null | grep '[w]ard \(run\|system\)' || ps | grep '[w]ard \(run\|system\)')
if [ "$rc" != 0 ]; then
	note_fail "$name" "status $rc: $(cat "$WORK/$name.out")"
elif [ -e "$SYS/ctl.sock" ]; then
	note_fail "$name" "the socket is still there"
elif [ -n "$left" ]; then
	note_fail "$name" "ward processes left: $left"
elif [ -n "$(ls -d /sys/fs/cgroup/ward/sup-* 2>/dev/null)" ]; then
	note_fail "$name" "cgroups left: $(ls -d /sys/fs/cgroup/ward/sup-*)"
else
	pass "$name"
fi
