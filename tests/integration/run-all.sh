# SPDX-License-Identifier: BSD-2-Clause
#
# All integration scenarios, run in one boot of the test host:
#   tools/testhost run --add tests/integration tests/integration/run-all.sh
# Each boots Debian's arm64 kernel with ward and prints one SCENARIO line.
# The exit status is the number of failed scenarios (0: all passed).

. /extra/lib.sh

# --- one VM: boots, consoles, disks, entropy, reboot, panic, bad arguments ------
. /extra/single-vm.sh

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
