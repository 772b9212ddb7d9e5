# SPDX-License-Identifier: BSD-2-Clause
#
# `ward system up`, `ward ctl` and `ward system down` in the test host:
# two VMs whose guests print a heartbeat every second. Sourced by run-all.sh
# (uses lib.sh and note_fail); prints SCENARIO lines.

SYS=$WORK/system
rm -rf "$SYS"
mkdir -p "$SYS"
hb_initrd=$(guest_initrd system_hb <<'G'
echo "SYSTEM-GUEST-UP"
i=0
while :; do
	i=$((i + 1))
	echo "heartbeat $i"
	sleep 1
done
G
)
cat >"$SYS/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$hb_initrd",
             "memory": [{"gpa": "0x40000000", "size": "192M"}],
             "policy": {"allow": ["start", "stop", "pause", "resume", "restart"],
                        "on_failure": "restart", "restart_backoff_ms": 500, "max_restarts": 3}},
    "vm_b": {"kernel": "$GUEST_KERNEL", "initrd": "$hb_initrd",
             "memory": [{"gpa": "0x40000000", "size": "192M"}],
             "policy": {"allow": ["start"], "on_failure": "stop"}}
  },
  "linux": {"control_socket": "$SYS/ctl.sock", "console_log_dir": "$SYS/logs"}
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

name=system_pause_resume
ward ctl "$SYS/sys.json" pause vm_a >/dev/null
sleep 1
n1=$(hb_count "$LA")
sleep 3
n2=$(hb_count "$LA")
ward ctl "$SYS/sys.json" resume vm_a >/dev/null
sleep 4
n3=$(hb_count "$LA")
echo "[$name] heartbeats: $n1 paused $n2 resumed $n3"
if [ "$n1" != "$n2" ]; then
	note_fail "$name" "the heartbeat went on while paused ($n1 -> $n2)"
elif [ "$n3" -le "$n2" ]; then
	note_fail "$name" "the heartbeat did not come back after resume"
else
	pass "$name"
fi

name=system_kill_restart
pa=$(vm_field vm_a pid)
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
elif ! wait_for "$LA" "SYSTEM-GUEST-UP" $T; then
	note_fail "$name" "the restarted vm_a did not boot"
else
	pass "$name"
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
else
	pass "$name"
fi
