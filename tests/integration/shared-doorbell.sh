# SPDX-License-Identifier: BSD-2-Clause
#
# A shared region and a doorbell between two VMs under `ward system up`:
# vm_a writes four words into the region with devmem and rings the doorbell
# (its /dev/hvc0, the first doorbell with the serial console); vm_b blocks
# reading one byte from its /dev/hvc0, then reads the words. After `ward ctl
# restart vm_a`, the restarted guest finds the words still there and rings
# again. vm_b maps the region read-only and checks that its own write does
# not land. vm_a is jailed (the default), vm_b not ("jail": false). Sourced
# by run-all.sh (uses lib.sh and note_fail).

SD=$WORK/shared
rm -rf "$SD"
mkdir -p "$SD"
# Both guests keep the doorbell tty open (fd 3) in raw mode for their whole
# run, so no byte is lost between opens. vm_a writes the words once, then
# rings ('x') every second; vm_b reads the region after each ring it gets.
# A ring that arrives before vm_b's stty is kept by its tty (and echoed back
# to vm_a, which never reads).
sd_a=$(guest_initrd shared_a <<'G'
exec 3<>/dev/hvc0
stty raw -echo <&3
if [ "$(devmem 0x80000000 32)" = 0x11223344 ]; then
	echo "A-SAW-OLD-WORDS"
else
	devmem 0x80000000 32 0x11223344
	devmem 0x80000004 32 0x55667788
	devmem 0x80000008 32 0x12345678
	devmem 0x8000000C 32 0x87654321
	echo "A-WROTE"
fi
while :; do
	printf x >&3
	echo "A-RANG"
	sleep 1
done
G
)
sd_b=$(guest_initrd shared_b <<'G'
exec 3<>/dev/hvc0
stty raw -echo <&3
echo "B-BEFORE: $(devmem 0x80000000 32)"
# vm_b maps the region read-only: its write must not land (nor stop it).
devmem 0x80000010 32 0xdeadbeef
echo "B-RO: $(devmem 0x80000010 32)"
echo "B-WAITING"
n=0
while :; do
	[ "$(head -c 1 <&3)" = x ] || continue
	n=$((n + 1))
	echo "B-RANG $n"
	echo "B-WORDS $n: $(devmem 0x80000000 32) $(devmem 0x80000004 32)" \
		"$(devmem 0x80000008 32) $(devmem 0x8000000C 32)"
done
G
)
cat >"$SD/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$sd_a",
             "memory": [{"size": "192M"}],
             "policy": {"allow": ["restart"], "on_failure": "stop"}},
    "vm_b": {"kernel": "$GUEST_KERNEL", "initrd": "$sd_b",
             "memory": [{"size": "192M"}],
             "policy": {"allow": [], "on_failure": "stop"}}
  },
  "shared_regions": [
    {"name": "ab", "size": "64K",
     "maps": [{"vm": "vm_a", "gpa": "0x80000000", "access": "rw"},
              {"vm": "vm_b", "gpa": "0x80000000", "access": "ro"}]}
  ],
  "doorbells": [{"name": "ab_ring", "from": "vm_a", "to": "vm_b"}],
  "linux": {"control_socket": "$SD/ctl.sock", "console_log_dir": "$SD/logs",
            "vms": {"vm_b": {"jail": false}}}
}
J
SA=$SD/logs/vm_a.log
SB=$SD/logs/vm_b.log
WORDS="0x11223344 0x55667788 0x12345678 0x87654321"

name=system_shared_doorbell
if ! ward system up "$SD/sys.json" >"$WORK/$name.out" 2>&1; then
	note_fail "$name" "ward system up failed: $(cat "$WORK/$name.out")"
elif ! wait_for "$SB" "B-WORDS 1:" $T; then
	echo "[$name] vm_a: $(grep -a '^A-' "$SA" | head -n 3 | tr '\r\n' '  ')"
	tail -n 5 "$SA"
	note_fail "$name" "vm_b did not wake on the doorbell"
else
	grep -a '^A-\|^B-' "$SA" "$SB" | head -n 8
	# In vm_b's log: it waited, was rung, then saw vm_a's words. (What it saw
	# before waiting depends on which guest booted first.)
	order=$(grep -a '^B-WAITING\|^B-RANG\|^B-WORDS' "$SB" | tr -d '\r' | head -n 3 | tr '\n' '|')
	if ! grep -aq '^A-WROTE' "$SA"; then
		note_fail "$name" "vm_a did not write the region"
	elif [ "$order" != "B-WAITING|B-RANG 1|B-WORDS 1: $WORDS|" ]; then
		note_fail "$name" "vm_b's view: $order"
	# A jailed VMM and one without a jail ("jail": false) share the region
	# and the doorbell as two jailed ones do.
	elif pb=$(ward ctl "$SD/sys.json" status vm_b | tr ' ' '\n' | sed -n 's/^pid=//p') &&
		! grep -q "^Uid:[[:space:]]*0[[:space:]]" "/proc/$pb/status"; then
		note_fail "$name" "vm_b (\"jail\": false) runs as $(grep Uid "/proc/$pb/status")"
	else
		pass "$name"
	fi
fi

name=system_shared_readonly
ro=$(grep -a '^B-RO' "$SB" | head -n 1 | tr -d '\r')
echo "[$name] vm_b wrote 0xdeadbeef through its read-only mapping, then read: $ro"
if [ "$ro" != "B-RO: 0x00000000" ]; then
	note_fail "$name" "vm_b's write to its read-only mapping: $ro"
elif ! grep -aq '^B-RANG 1' "$SB"; then
	note_fail "$name" "vm_b did not go on after the write"
else
	pass "$name"
fi

name=system_shared_restart
if ! ward ctl "$SD/sys.json" restart vm_a >"$WORK/$name.out" 2>&1; then
	note_fail "$name" "ward ctl restart vm_a: $(cat "$WORK/$name.out")"
elif ! wait_for "$SA" "A-SAW-OLD-WORDS" $T; then
	note_fail "$name" "the restarted vm_a did not find the words: $(grep -a '^A-' "$SA" | tail -n 2)"
else
	nb=$(grep -ac '^B-WORDS' "$SB")
	sleep 3
	last=$(grep -a '^B-WORDS' "$SB" | tail -n 1 | tr -d '\r')
	echo "[$name] vm_a: $(grep -a '^A-[WS]' "$SA" | tr -d '\r' | tr '\n' ' ')"
	echo "[$name] vm_b after the restart: $last"
	if [ "$(grep -ac '^B-WORDS' "$SB")" -le "$nb" ]; then
		note_fail "$name" "vm_b is not rung by the restarted vm_a"
	elif [ "${last#B-WORDS *: }" != "$WORDS" ]; then
		note_fail "$name" "vm_b's view after the restart: $last"
	else
		pass "$name"
	fi
fi
ward system down "$SD/sys.json" >/dev/null 2>&1
