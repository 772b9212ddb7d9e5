# SPDX-License-Identifier: BSD-2-Clause
#
# Helpers for scenarios that run inside the test host (busybox sh). Each
# scenario boots the real Debian guest with ward and reports exactly one
# line "SCENARIO <name>: PASS" or "SCENARIO <name>: FAIL <why>"; ctest reads
# those lines (tests/integration/CMakeLists.txt).

GUEST_KERNEL=${GUEST_KERNEL:-/guest/Image}
GUEST_INITRD=${GUEST_INITRD:-/guest/initramfs.cpio.gz}
WORK=${WORK:-/tmp/scenarios}
mkdir -p "$WORK"

# guest_initrd NAME: reads a guest script on stdin and prints the path of an
# initramfs that is the default guest plus that script as /scenario.sh
# (cpio archives concatenate; the guest's /init runs /scenario.sh, then
# powers off).
guest_initrd() {
	d=$WORK/$1.d
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/scenario.sh"
	(cd "$d" && echo scenario.sh | cpio -o -H newc 2>/dev/null | gzip) >"$WORK/$1.extra.gz"
	cat "$GUEST_INITRD" "$WORK/$1.extra.gz" >"$WORK/$1.cpio.gz"
	echo "$WORK/$1.cpio.gz"
}

T=${T:-240} # seconds per guest boot at most (TCG inside TCG is slow)

# The test host's machine, for the few scenarios that lay out guest RAM
# themselves (the boot RAM is at 1G on arm64, at 0 on x86_64), and its CPUs.
case $(uname -m) in
x86_64) ARCH=x86_64 ;;
*) ARCH=arm64 ;;
esac
NCPUS=$(grep -c ^processor /proc/cpuinfo)

# The runner (run-all.sh) exits with the count of
# failed scenarios; note_fail reports one and counts it.
failed=0
note_fail() {
	fail "$@"
	failed=$((failed + 1))
}

pass() {
	echo "SCENARIO $1: PASS"
}

fail() {
	name=$1
	shift
	echo "SCENARIO $name: FAIL $*"
	if [ -f "$WORK/$name.out" ]; then
		echo "---- last lines of $name's console ----"
		tail -n 25 "$WORK/$name.out"
		echo "----"
	fi
}

# run_ward NAME TIMEOUT ARGS...: runs ward with stdin from /dev/null, its
# console in $WORK/NAME.out; sets RC to ward's exit status (124: timeout).
#
# A guest kernel panic the scenario did not ask for (EXPECT_PANIC unset), or
# a guest that never reached init before the timeout, is reported with the
# end of the guest's console and the run is repeated once. Panics: in the
# nested emulator the guest's init was seen to die of a SIGSEGV in about one
# boot out of several hundred, with the guest clock jumping at the same
# moment. A second panic or stop fails the scenario.
run_ward() {
	name=$1
	t=$2
	shift 2
	timeout "$t" ward run "$@" </dev/null >"$WORK/$name.out" 2>&1
	RC=$?
	if [ "$RC" != 0 ] && [ -z "${EXPECT_PANIC:-}" ] && has "$name" "Kernel panic"; then
		echo "[$name] RETRY: the guest kernel panicked; its console ended with:"
		tail -n 40 "$WORK/$name.out"
		timeout "$t" ward run "$@" </dev/null >"$WORK/$name.out" 2>&1
		RC=$?
	elif [ "$RC" != 0 ] && has "$name" "ward: stopped by signal 15" &&
		! has "$name" "ward-guest: init reached"; then
		# The x86_64 test host's nested SVM (TCG) was seen to stop a guest
		# mid-boot (once in the AP start-up, "Booting SMP configuration")
		# until the timeout; QEMU's guests there see the same host.
		echo "[$name] RETRY: the guest stopped before init until the timeout; its console ended with:"
		tail -n 20 "$WORK/$name.out"
		timeout "$t" ward run "$@" </dev/null >"$WORK/$name.out" 2>&1
		RC=$?
	fi
	echo "[$name] ward exit status $RC"
}

# has NAME PATTERN: true if the console output of NAME has PATTERN.
has() {
	grep -q -- "$2" "$WORK/$1.out"
}

# wait_for FILE PATTERN SECONDS: waits until FILE contains PATTERN.
wait_for() {
	i=0
	while [ "$i" -lt "$(($3 * 10))" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		usleep 100000
		i=$((i + 1))
	done
	return 1
}
