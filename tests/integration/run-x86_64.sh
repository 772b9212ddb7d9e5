# SPDX-License-Identifier: BSD-2-Clause
#
# The integration scenarios of the x86_64 test host, in one boot of it:
#   tools/testhost --arch x86_64 run --add tests/integration tests/integration/run-x86_64.sh
# Each boots Debian's amd64 kernel (a bzImage) with ward under the test
# host's nested KVM (AMD SVM) and prints one SCENARIO line. The exit status
# is the number of failed scenarios (0: all passed). The jail and switch
# scenarios are left to run-x86_64-extra.sh, to keep the default test run
# under its time budget.

. /extra/lib.sh

. /extra/single-vm.sh
. /extra/x86-machine.sh
. /extra/shared-doorbell.sh
. /extra/seccomp.sh
. /extra/net.sh
. /extra/vsock.sh

echo "integration: $failed scenario(s) failed"
exit "$failed"
