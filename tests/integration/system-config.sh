# SPDX-License-Identifier: BSD-2-Clause
#
# One config path, in the test host: `ward run --system FILE --vm NAME`
# boots a VM of a description (whose disk path has a comma, which no `ward
# run --disk` could take), and the shipped example runs under `ward system
# up` with the test host's own cgroup v2 mount. Sourced by run-all.sh.

CFG=$WORK/config
rm -rf "$CFG"
mkdir -p "$CFG"

name=system_run_vm_comma_path
yes ward-comma-disk | head -c 1048576 >"$CFG/data,1.img"
initrd=$(guest_initrd "$name" <<'G'
echo "comma-disk: $(head -c 15 /dev/vda)"
echo "comma-cpus: $(grep -c ^processor /proc/cpuinfo)"
poweroff -f
G
)
cat >"$CFG/one.json" <<J
{
  "ward_system": 1,
  "vms": {
    "x": {"kernel": "$GUEST_KERNEL", "initrd": "$initrd", "cpus": 2,
          "memory": [{"size": "192M"}],
          "disks": [{"path": "data,1.img", "read_only": true}]}
  }
}
J
run_ward "$name" $T --system "$CFG/one.json" --vm x
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exit status $RC"
elif ! has "$name" "comma-disk: ward-comma-disk" || ! has "$name" "comma-cpus: 2"; then
	note_fail "$name" "the guest did not read its disk or count 2 CPUs"
elif ward run --system "$CFG/one.json" --vm nope >"$WORK/$name.bad" 2>&1 ||
	! grep -q "vm nope: not in the description" "$WORK/$name.bad"; then
	note_fail "$name" "an unknown VM: $(cat "$WORK/$name.bad")"
elif ward run --system "$CFG/one.json" --vm x --cpus 2 >"$WORK/$name.bad" 2>&1 ||
	! grep -q "only --vm may be added" "$WORK/$name.bad"; then
	note_fail "$name" "a VM flag beside --system: $(cat "$WORK/$name.bad")"
else
	pass "$name"
fi

# The examples as shipped: /guest paths, their own sockets and log
# directories (two-vms-shared.json puts vm_b under a cgroup v2 budget; the
# test host mounts cgroup2 at boot). The guest scenario is typed into the
# default guest's shells, the same lines as on seL4 (example-scenario/):
# vm_b's write to its read-only mapping does not land, vm_a's words and
# doorbell reach vm_b.
# type_into FILE VM: example-scenario/VM.typed into VM's console.
type_into() {
	grep -v '^#' "/extra/example-scenario/$2.typed" |
		ward ctl "$1" console "$2" --attach >/dev/null 2>&1
}
# The jail, looked at with docs/user-guide.md's commands as written there:
# uid 64000, process 1 of its PID namespace, an empty root, a memory cap.
jail_as_documented() {
	pid=$(ward ctl /examples/two-vms-shared.json status vm_a | tr ' ' '\n' | sed -n 's/^pid=//p')
	ids=$(grep -E '^(Uid|NSpid)' /proc/$pid/status | tr -s '\t ' ' ')
	root=$(ls -A /proc/$pid/root/)
	max=$(cat /sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$pid/cgroup)/memory.max)
	case "$ids" in
	*"Uid: 64000 64000 64000 64000"*"NSpid: $pid 1"*) ;;
	*) echo "ids: $ids" && return 1 ;;
	esac
	[ -z "$root" ] || { echo "root: $root" && return 1; }
	[ "$max" -gt 0 ] 2>/dev/null || { echo "memory.max: $max" && return 1; }
}
# example_scenario NAME FILE LOGDIR: prints nothing when NAME passes, else why.
example_scenario() {
	local ex=$2 log=$3
	if ! ward system up "$ex" >"$WORK/$1.out" 2>&1; then
		echo "ward system up: $(cat "$WORK/$1.out")"
	elif ! wait_for "$log/vm_a.log" "ward-guest: init reached" $T ||
		! wait_for "$log/vm_b.log" "ward-guest: init reached" $T; then
		echo "the guests did not reach init"
	elif [ "$(ward ctl "$ex" list | grep -c 'state=running')" != 2 ]; then
		echo "ward ctl list: $(ward ctl "$ex" list)"
	elif ! type_into "$ex" vm_b || ! wait_for "$log/vm_b.log" "B-WAITING" 30; then
		echo "vm_b did not take the scenario: $(tail -5 "$log/vm_b.log")"
	elif ! type_into "$ex" vm_a || ! wait_for "$log/vm_b.log" "B-WORDS: " 30; then
		echo "vm_a's doorbell did not wake vm_b: $(tail -5 "$log/vm_a.log")"
	elif ! grep -q "B-WORDS: 0x11223344 0x55667788 0x12345678 0x87654321" "$log/vm_b.log" ||
		! grep -q "B-RO: 0x00000000" "$log/vm_b.log"; then
		echo "vm_b read: $(grep "B-" "$log/vm_b.log" | tail -3)"
	elif [ "$1" = system_example ] &&
		[ -z "$(cat /sys/fs/cgroup/ward/sup-*/vm_b/cpu.max 2>/dev/null)" ]; then
		echo "vm_b has no cpu.max"
	elif [ "$1" = system_example ] && ! jail_as_documented >"$WORK/$1.jail"; then
		echo "the user guide's jail commands: $(cat "$WORK/$1.jail")"
	elif ! ward system down "$ex" >>"$WORK/$1.out" 2>&1; then
		echo "ward system down: $(cat "$WORK/$1.out")"
	fi
	# Whatever failed, leave no VM running for the scenarios below.
	ward system down "$ex" >/dev/null 2>&1 || true
}
# The seL4 example pins "arch": "arm64" (ward system sel4 builds arm64
# systems): an x86_64 host refuses it by path before anything starts.
sel4_refused() {
	if ward system up /examples/two-vms-shared-sel4.json >"$WORK/$1.out" 2>&1; then
		ward system down /examples/two-vms-shared-sel4.json >/dev/null 2>&1
		echo "ward system up took an arm64 description on x86_64"
	elif ! has "$1" "/arch: this description is for arm64; this host runs x86_64 VMs"; then
		echo "no clear refusal: $(cat "$WORK/$1.out")"
	fi
}
for ex in system_example:/examples/two-vms-shared.json:/var/log/ward/two-vms \
	system_example_sel4:/examples/two-vms-shared-sel4.json:/var/log/ward; do
	name=${ex%%:*}
	rest=${ex#*:}
	if [ "$name" = system_example_sel4 ] && [ "$ARCH" = x86_64 ]; then
		why=$(sel4_refused "$name")
	else
		why=$(example_scenario "$name" "${rest%%:*}" "${rest#*:}")
	fi
	if [ -n "$why" ]; then
		note_fail "$name" "$why"
	else
		pass "$name"
	fi
done

# An integrator's VMM: examples/custom-vmm, ~200 lines against libward's
# public API, boots the guest with a serial console and one disk.
name=custom_vmm
yes custom-vmm-disk | head -c 1048576 >"$CFG/custom.img"
initrd=$(guest_initrd "$name" <<'G'
echo "custom-disk: $(head -c 15 /dev/vda)"
echo custom-vmm-wrote | dd of=/dev/vda bs=512 seek=100 conv=sync 2>/dev/null
sync
poweroff -f
G
)
if ! command -v custom-vmm >/dev/null; then
	note_fail "$name" "custom-vmm is not in the test host"
else
	timeout $T custom-vmm "$GUEST_KERNEL" "$initrd" "$CFG/custom.img" </dev/null \
		>"$WORK/$name.out" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		note_fail "$name" "custom-vmm exit status $rc"
	elif ! has "$name" "custom-disk: custom-vmm-disk"; then
		note_fail "$name" "the guest did not read the disk"
	elif [ "$(dd if="$CFG/custom.img" bs=512 skip=100 count=1 2>/dev/null | head -c 16)" != \
		custom-vmm-wrote ]; then
		note_fail "$name" "the guest's write did not reach the disk file"
	else
		pass "$name"
	fi
fi

# A disk served by a backend process of its own (--disk PATH,process):
# SIGKILL it while the guest reads; ward goes on, a new backend takes
# over, and the guest's later reads succeed.
name=disk_backend_process
yes ward-backend-disk | head -c 1048576 >"$CFG/proc.img"
initrd=$(guest_initrd "$name" <<'G'
echo "pb-first: $(head -c 17 /dev/vda)"
echo "pb-ready"
i=0
while [ $i -lt 16 ]; do
	i=$((i + 1))
	echo 3 >/proc/sys/vm/drop_caches
	if [ "$(head -c 17 /dev/vda 2>/dev/null)" = ward-backend-disk ]; then
		echo "pb-read ok $i"
	else
		echo "pb-read err $i"
	fi
	sleep 0.5
done
poweroff -f
G
)
timeout $T ward run --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M \
	--disk "$CFG/proc.img,ro,process" </dev/null >"$WORK/$name.out" 2>&1 &
wpid=$!
if wait_for "$WORK/$name.out" "pb-ready" $T; then
	bpid=
	for p in /proc/[0-9]*; do
		case $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) in
		*"ward backend blk"* | *"exe backend blk"*) bpid=${p#/proc/} ;;
		esac
	done
	[ -n "$bpid" ] && kill -9 "$bpid"
fi
wait $wpid
rc=$?
last=$(grep -a "pb-read" "$WORK/$name.out" | tail -n 1 | tr -d '\r')
if [ "$rc" != 0 ]; then
	note_fail "$name" "ward exit status $rc"
elif [ -z "${bpid:-}" ]; then
	note_fail "$name" "no backend process was running"
elif ! has "$name" "pb-first: ward-backend-disk"; then
	note_fail "$name" "the guest did not read the disk through the backend"
elif ! has "$name" "backend process $bpid has gone; requests in flight failed; backend process"; then
	note_fail "$name" "ward did not report the backend's end and its successor"
elif [ "$last" != "pb-read ok 16" ]; then
	note_fail "$name" "the guest's last read: '$last'"
else
	echo "[$name] $(grep -a -c 'pb-read ok' "$WORK/$name.out") reads ok, $(grep -a -c 'pb-read err' "$WORK/$name.out") failed"
	pass "$name"
fi
