# SPDX-License-Identifier: BSD-2-Clause
#
# All integration scenarios, run in one boot of a test host, either arch:
#   tools/testhost [--arch x86_64] run --add tests/integration tests/integration/run-all.sh
# Each boots Debian's kernel of the test host's arch (arm64 Image, amd64
# bzImage) with ward and prints one SCENARIO line; the few that depend on
# the machine's layout ask lib.sh's ARCH. The exit status is the number of
# failed scenarios (0: all passed).

. /extra/lib.sh

# --- one VM: boots, consoles, disks, entropy, reboot, panic, bad arguments ------
. /extra/single-vm.sh
# --- the x86_64 machine's own: RAM above 4G, ACPI, a triple fault ---------------
[ "$ARCH" != x86_64 ] || . /extra/x86-machine.sh

# --- systems of VMs: ward system up, ward ctl, ward system down ----------------
. /extra/system-scenarios.sh
. /extra/shared-doorbell.sh
. /extra/system-config.sh
. /extra/hugepages.sh
. /extra/seccomp.sh
. /extra/crash-consistency.sh
. /extra/jail.sh
. /extra/net.sh
. /extra/network.sh
. /extra/vsock.sh

echo "integration: $failed scenario(s) failed"
exit "$failed"
