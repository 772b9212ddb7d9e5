# SPDX-License-Identifier: BSD-2-Clause
#
# The VMM's system-call allow-list in the test host (docs/security.md#seccomp).
# Every other scenario already runs with it on (the default). Here a test
# build's trigger (WARD_TEST_FORBIDDEN_SYSCALL: the VMM calls getppid once
# the list is in) shows what a call outside the list does: under `ward run`
# the VMM dies by SIGSYS and says which call; under `ward system up` the
# supervisor's log names the call and the VM is failed. Sourced by run-all.sh (uses lib.sh and note_fail).

SC=$WORK/seccomp
rm -rf "$SC"
mkdir -p "$SC"

name=seccomp_ward_run
sc_initrd=$(guest_initrd "$name" <<'G'
echo "seccomp-guest-up"
sleep 600
G
)
rc=0
WARD_TEST_FORBIDDEN_SYSCALL=1 timeout 120 ward run --kernel "$GUEST_KERNEL" --initrd "$sc_initrd" \
	--mem 128M </dev/null >"$SC/run.out" 2>&1 || rc=$?
# A shell reports death by signal N as 128 + N; SIGSYS is 31 on arm64.
if [ "$rc" != $((128 + 31)) ]; then
	note_fail "$name" "exit status $rc, not SIGSYS's 159: $(tail -3 "$SC/run.out")"
elif ! grep -q "ward: seccomp: system call getppid (" "$SC/run.out"; then
	note_fail "$name" "the VMM did not name the call: $(tail -3 "$SC/run.out")"
elif grep -q "seccomp-guest-up" "$SC/run.out"; then
	note_fail "$name" "the guest ran before the VMM died"
# Without the trigger the same VM boots under its list.
elif ! timeout 120 ward run --kernel "$GUEST_KERNEL" --initrd "$(guest_initrd seccomp_ok <<'G'
echo "seccomp-guest-up"
G
)" --mem 128M </dev/null >"$SC/ok.out" 2>&1 || ! grep -q "seccomp-guest-up" "$SC/ok.out"; then
	note_fail "$name" "without the trigger: $(tail -3 "$SC/ok.out")"
else
	pass "$name"
fi

name=seccomp_supervisor
cat >"$SC/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$sc_initrd",
             "memory": [{"size": "128M"}]}
  },
  "linux": {"control_socket": "$SC/ctl.sock", "console_log_dir": "$SC/logs"}
}
J
# The supervisor's environment reaches its VMMs: with the trigger, vm_a
# dies at its first step.
if ! WARD_TEST_FORBIDDEN_SYSCALL=1 ward system up "$SC/sys.json" >"$SC/up.out" 2>&1; then
	note_fail "$name" "ward system up: $(cat "$SC/up.out")"
elif ! wait_for "$SC/logs/supervisor.log" "killed by SIGSYS" 60; then
	note_fail "$name" "the supervisor did not report SIGSYS: $(tail -3 "$SC/logs/supervisor.log" 2>&1)"
elif ! grep -q "ward: vm_a: killed by SIGSYS: system call getppid ([0-9]*) is not on its seccomp allow-list" \
	"$SC/logs/supervisor.log"; then
	note_fail "$name" "the report does not name the call: $(grep SIGSYS "$SC/logs/supervisor.log")"
elif ! ward ctl "$SC/sys.json" status vm_a | grep -q "state=failed"; then
	note_fail "$name" "vm_a: $(ward ctl "$SC/sys.json" status vm_a)"
else
	pass "$name"
fi
ward system down "$SC/sys.json" >/dev/null 2>&1 || true
