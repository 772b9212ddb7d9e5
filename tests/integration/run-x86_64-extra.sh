# SPDX-License-Identifier: BSD-2-Clause
#
# The x86_64 test host's longer scenarios, not in the default test run (the
# jails and the virtual switch; each starts systems of several VMs):
#   tools/testhost --arch x86_64 run --timeout 1800 --add tests/integration \
#       tests/integration/run-x86_64-extra.sh
# Prints one SCENARIO line each; the exit status is the number that failed.

. /extra/lib.sh

. /extra/jail.sh
. /extra/network.sh

echo "integration: $failed scenario(s) failed"
exit "$failed"
