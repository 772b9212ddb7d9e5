# SPDX-License-Identifier: BSD-2-Clause
#
# A network of three VMs under `ward system up` (sourced by run-all.sh):
# the switch is a process of its own; vm_a and vm_b may not reach each
# other, both reach vm_c.
#   net_switch_ping_transfer  vm_a and vm_c ping each other and move a
#                             64 MiB file through the switch (wget from
#                             vm_a's httpd), checksums equal;
#   net_switch_acl            vm_a and vm_b cannot ping each other, while
#                             both reach vm_c; the switch counts the drops;
#   net_switch_spoof          vm_b changes its MAC and can no longer send:
#                             the switch's spoofed counter rises;
#   net_switch_restart        the switch is killed; the supervisor starts
#                             another, vm_a's pings get through again, and
#                             the counters go on from the old switch's;
#   net_switch_jailed         the switch runs jailed: its own PID namespace,
#                             uid and empty root;
#   system_example_net        examples/three-vms-net.json with the user
#                             guide's commands as written there.

NW=$WORK/network
rm -rf "$NW"
mkdir -p "$NW"
nw_a=$(guest_initrd nw_a <<'G'
ip link set eth0 up
ip addr add 10.1.0.1/24 dev eth0
mkdir -p /www
dd if=/dev/urandom of=/www/blob bs=1M count=64 2>/dev/null
echo "A-SUM $(md5sum </www/blob | cut -d' ' -f1)"
echo ready >/www/ready
httpd -p 80 -h /www
i=0
until ping -c 1 -W 1 10.1.0.3 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || break
done
echo "A-PING-C $i"
# vm_b's address by hand: the switch floods vm_a's ARP requests only where
# vm_a may reach, so without this no frame for vm_b would even be tried.
arp -i eth0 -s 10.1.0.2 02:00:00:00:00:0b
ping -c 2 -W 2 10.1.0.2 >/dev/null 2>&1 && echo A-PING-B-OK || echo A-PING-B-BLOCKED
n=0
while :; do
	n=$((n + 1))
	if ping -c 1 -W 1 10.1.0.3 >/dev/null 2>&1; then echo "A-PONG $n"; fi
	sleep 1
done
G
)
nw_b=$(guest_initrd nw_b <<'G'
ip link set eth0 up
ip addr add 10.1.0.2/24 dev eth0
i=0
until ping -c 1 -W 1 10.1.0.3 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || break
done
echo "B-PING-C $i"
arp -i eth0 -s 10.1.0.1 02:00:00:00:00:0a
ping -c 2 -W 2 10.1.0.1 >/dev/null 2>&1 && echo B-PING-A-OK || echo B-PING-A-BLOCKED
# Another MAC than the one the switch was given: nothing gets through.
ip link set eth0 down
ip link set eth0 address 02:00:00:00:00:99
ip link set eth0 up
ping -c 3 -W 2 10.1.0.3 >/dev/null 2>&1 && echo B-SPOOF-PASSED || echo B-SPOOF-BLOCKED
sleep 600
G
)
nw_c=$(guest_initrd nw_c <<'G'
ip link set eth0 up
ip addr add 10.1.0.3/24 dev eth0
i=0
until ping -c 1 -W 1 10.1.0.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 60 ] || break
done
echo "C-PING-A $i"
i=0
until wget -q -O /dev/null http://10.1.0.1/ready; do
	i=$((i + 1))
	[ $i -lt 120 ] || break
	sleep 1
done
echo "C-SUM $(wget -q -O - http://10.1.0.1/blob | md5sum | cut -d' ' -f1)"
sleep 600
G
)
cat >"$NW/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$nw_a",
             "memory": [{"size": "256M"}], "policy": {"allow": []}},
    "vm_b": {"kernel": "$GUEST_KERNEL", "initrd": "$nw_b",
             "memory": [{"size": "128M"}], "policy": {"allow": []}},
    "vm_c": {"kernel": "$GUEST_KERNEL", "initrd": "$nw_c",
             "memory": [{"size": "128M"}], "policy": {"allow": []}}
  },
  "networks": [{"name": "lan", "ports": [
    {"vm": "vm_a", "mac": "02:00:00:00:00:0a", "reach": ["vm_c"]},
    {"vm": "vm_b", "mac": "02:00:00:00:00:0b", "reach": ["vm_c"]},
    {"vm": "vm_c", "mac": "02:00:00:00:00:0c"}
  ]}],
  "linux": {"control_socket": "$NW/ctl.sock", "console_log_dir": "$NW/logs"}
}
J
NA=$NW/logs/vm_a.log
NB=$NW/logs/vm_b.log
NC=$NW/logs/vm_c.log
NS=$NW/logs/supervisor.log
ward system up "$NW/sys.json" >"$NW/up.out" 2>&1 ||
	echo "[network] ward system up: $(cat "$NW/up.out")"
wait_for "$NC" "C-SUM" $((T * 2))
wait_for "$NB" "B-SPOOF-" $T
ward ctl "$NW/sys.json" net lan >"$NW/net1.out" 2>&1
nw_sum=$(sed -n 's/^A-SUM //p' "$NA" | tr -d '\r')

name=net_switch_ping_transfer
if ! grep -q "A-PING-C [0-9]" "$NA" || grep -q "A-PING-C 60" "$NA"; then
	note_fail "$name" "vm_a never reached vm_c: $(tail -n 3 "$NA" | tr '\r\n' '  ')"
elif [ -z "$nw_sum" ] || ! grep -q "C-SUM $nw_sum" "$NC"; then
	note_fail "$name" "vm_c's copy of the 64 MiB file differs: A-SUM $nw_sum, $(grep C-SUM "$NC")"
else
	pass "$name"
fi

name=net_switch_acl
acl_drops=$(awk '/vm=vm_b/ { for (i = 1; i <= NF; i++) if ($i ~ /^drop_acl=/) print substr($i, 10) }' "$NW/net1.out")
if ! grep -q A-PING-B-BLOCKED "$NA" || ! grep -q B-PING-A-BLOCKED "$NB"; then
	note_fail "$name" "vm_a and vm_b reached each other through a reach list that forbids it"
elif ! grep -q "B-PING-C [0-9]" "$NB" || grep -q "B-PING-C 60" "$NB"; then
	note_fail "$name" "vm_b did not reach vm_c"
elif [ -z "$acl_drops" ] || [ "$acl_drops" -lt 1 ]; then
	cat "$NW/net1.out"
	note_fail "$name" "ward ctl net lan shows no acl drops for vm_b"
else
	pass "$name"
fi

name=net_switch_spoof
spoofed=$(awk '/vm=vm_b/ { for (i = 1; i <= NF; i++) if ($i ~ /^drop_spoofed=/) print substr($i, 14) }' "$NW/net1.out")
if ! grep -q B-SPOOF-BLOCKED "$NB"; then
	note_fail "$name" "vm_b got through with a MAC that is not its own"
elif [ -z "$spoofed" ] || [ "$spoofed" -lt 1 ]; then
	cat "$NW/net1.out"
	note_fail "$name" "ward ctl net lan shows no spoofed drops for vm_b"
else
	pass "$name"
fi

name=net_switch_restart
# nw_count FILE VM FIELD: a counter of VM's port in $NW/FILE.out (ward ctl net).
nw_count() {
	awk -v vm="vm=$2" -v f="$3=" '$0 ~ vm { for (i = 1; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }' "$NW/$1.out" | head -n 1
}
old=$(sed -n 's/.*switch_pid=\([0-9]*\).*/\1/p' "$NW/net1.out")
before=$(grep -c A-PONG "$NA")
if [ -n "$old" ]; then
	kill -9 "$old"
fi
wait_for "$NS" "switch $old ended" 30
took=$(grep -c "took over" "$NS")
sleep 2
after_kill=$(grep -c A-PONG "$NA")
i=0
while [ "$(grep -c A-PONG "$NA")" -le "$after_kill" ] && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
ward ctl "$NW/sys.json" net lan >"$NW/net2.out" 2>&1
if [ -z "$old" ]; then
	note_fail "$name" "ward ctl net lan gave no switch pid: $(cat "$NW/net1.out")"
elif [ "$took" -lt 1 ]; then
	note_fail "$name" "the supervisor did not start another switch: $(tail -n 3 "$NS")"
elif [ "$(grep -c A-PONG "$NA")" -le "$after_kill" ]; then
	note_fail "$name" "vm_a's pings did not get through the new switch ($before before)"
elif ! grep -q "restarts=1" "$NW/net2.out"; then
	note_fail "$name" "ward ctl net lan does not count the restart: $(head -n 1 "$NW/net2.out")"
elif [ "$(nw_count net2 vm_c rx_frames)" -lt "$(nw_count net1 vm_c rx_frames)" ]; then
	note_fail "$name" "the new switch started its counters again: vm_c's rx_frames $(nw_count net1 vm_c rx_frames) before, $(nw_count net2 vm_c rx_frames) after"
else
	pass "$name"
fi

# The switch is jailed as a VMM is: process 1 of its own PID namespace, an
# id of its own (64000 + 64 + the network's index), an empty root.
name=net_switch_jailed
sp=$(sed -n 's/.*switch_pid=\([0-9]*\).*/\1/p' "$NW/net2.out")
if [ -z "$sp" ] || [ ! -d "/proc/$sp" ]; then
	note_fail "$name" "no running switch after the restart"
elif ! grep -q "^Uid:[[:space:]]*64064[[:space:]]" "/proc/$sp/status"; then
	note_fail "$name" "the switch runs as $(grep ^Uid "/proc/$sp/status")"
elif [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$sp/status")" != 1 ]; then
	note_fail "$name" "the switch is not process 1 of a PID namespace: $(grep ^NSpid "/proc/$sp/status")"
elif [ -n "$(ls -A "/proc/$sp/root/")" ]; then
	note_fail "$name" "the switch's root is not empty: $(ls "/proc/$sp/root/" | tr '\n' ' ')"
else
	pass "$name"
fi
ward system down "$NW/sys.json" >/dev/null 2>&1

# The shipped example with docs/user-guide.md's commands, as written there.
name=system_example_net
EX=/examples/three-vms-net.json
EL=/var/log/ward/three-vms-net
why=
if ! ward system up "$EX" >"$WORK/$name.out" 2>&1; then
	why="ward system up: $(cat "$WORK/$name.out")"
elif ! wait_for "$EL/vm_a.log" "ward-guest: init reached" $T ||
	! wait_for "$EL/vm_c.log" "ward-guest: init reached" $T; then
	why="the guests did not reach init"
else
	echo 'ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up' | ward ctl /examples/three-vms-net.json console vm_a --attach >/dev/null 2>&1
	echo 'ip addr add 10.0.0.3/24 dev eth0 && ip link set eth0 up && ping -c 3 10.0.0.1' | ward ctl /examples/three-vms-net.json console vm_c --attach >/dev/null 2>&1
	if ! wait_for "$EL/vm_c.log" "3 packets received" 60; then
		why="vm_c's ping of vm_a: $(grep -a "packets" "$EL/vm_c.log" | tail -1)"
	elif ! ward ctl /examples/three-vms-net.json net lan >"$WORK/$name.net" 2>&1 ||
		! grep -q "vm=vm_c mac=02:00:00:00:00:0c rx_frames=[1-9]" "$WORK/$name.net"; then
		why="ward ctl net lan: $(cat "$WORK/$name.net")"
	elif ! ward system down /examples/three-vms-net.json >>"$WORK/$name.out" 2>&1; then
		why="ward system down: $(cat "$WORK/$name.out")"
	fi
fi
ward system down "$EX" >/dev/null 2>&1 || true
if [ -n "$why" ]; then note_fail "$name" "$why"; else pass "$name"; fi
