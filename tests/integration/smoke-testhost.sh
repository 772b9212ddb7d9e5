# SPDX-License-Identifier: BSD-2-Clause
#
# Smoke test of the test host itself (runs inside it, under busybox sh, via
# `tools/testhost run tests/integration/smoke-testhost.sh`): checks that KVM
# is up and that ward and the guest's kernel and initramfs are in place, so
# a failing ward test is not a broken test host in disguise.

fail() {
	echo "smoke-testhost: FAIL: $*"
	exit 1
}

[ -c /dev/kvm ] || fail "/dev/kvm is missing (dmesg | grep -i kvm)"
command -v ward >/dev/null || fail "ward is not on PATH ($PATH)"
[ -s /guest/Image ] || fail "/guest/Image is missing"
[ -s /guest/initramfs.cpio.gz ] || fail "/guest/initramfs.cpio.gz is missing"
zcat /guest/initramfs.cpio.gz | cpio -t 2>/dev/null |
	grep -q '^lib/modules/[^/]*/modules.dep$' ||
	fail "the guest initramfs has no lib/modules/*/modules.dep"

echo "smoke-testhost: ok (ward at $(command -v ward), $(uname -r))"
