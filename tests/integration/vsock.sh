# SPDX-License-Identifier: BSD-2-Clause
#
# virtio-vsock under `ward run --vsock 3,PATH` (sourced by run-all.sh), with
# Debian's vmw_vsock_virtio_transport in the guest and vsockcat (ours: one
# stream, one way) on both sides:
#   vsock_guest_to_host  the guest connects to host port 5000 and sends
#                        1 MiB; a program listening on PATH_5000 gets it
#                        whole (checksums equal);
#   vsock_host_to_guest  a program connects to PATH, writes "CONNECT 6000",
#                        gets "OK N" and sends 1 MiB to the guest's listener
#                        (checksums equal);
#   vsock_refused        the guest's connection to a port nobody listens on
#                        is refused at once, and the VM goes on;
#   vsock_system_jailed  a description's "vsock" under `ward system up`, with
#                        the VMM jailed (the default): the guest reaches a
#                        host listener on PATH_5000 (the VMM keeps only the
#                        socket's directory), and a host program reaches the
#                        guest's port 6000.

VS=$WORK/vsock
rm -rf "$VS"
mkdir -p "$VS"
head -c 1048576 /dev/urandom >"$VS/blob"
vs_sum=$(md5sum <"$VS/blob" | cut -d' ' -f1)
# The guest gets the same bytes inside its initramfs.
mkdir -p "$VS/g"
cp "$VS/blob" "$VS/g/blob"
(cd "$VS/g" && echo blob | cpio -o -H newc 2>/dev/null | gzip) >"$VS/blob.cpio.gz"
initrd=$(guest_initrd vsock <<'G'
echo "guest-blob $(md5sum </blob | cut -d' ' -f1)"
# Refused: nobody listens on PATH_5999.
vsockcat send connect-vsock 2 5999 </dev/null 2>/dev/null && echo VS-REFUSED-NOT || echo VS-REFUSED-OK
# Guest to host.
i=0
until vsockcat send connect-vsock 2 5000 </blob 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 30 ] || break
	sleep 1
done
echo "VS-SENT $i"
# Host to guest: listen, then print what came.
vsockcat recv listen-vsock 6000 >/tmp/got 2>/dev/null &
echo VS-LISTENING
wait
echo "VS-GOT $(md5sum </tmp/got | cut -d' ' -f1) $(wc -c </tmp/got)"
G
)
cat "$initrd" "$VS/blob.cpio.gz" >"$VS/initrd.gz"
if [ ! -x /usr/local/bin/vsockcat ]; then
	for n in vsock_guest_to_host vsock_host_to_guest vsock_refused; do
		note_fail "$n" "no vsockcat in the test host (WARD_BIN builds have none)"
	done
else
	vsockcat recv listen-unix "$VS/v.sock_5000" >"$VS/from-guest" 2>/dev/null &
	lpid=$!
	: >"$WORK/vsock.out"
	timeout $T ward run --kernel "$GUEST_KERNEL" --initrd "$VS/initrd.gz" --mem 256M --vsock "3,$VS/v.sock" \
		</dev/null >"$WORK/vsock.out" 2>&1 &
	wpid=$!
	wait_for "$WORK/vsock.out" VS-LISTENING $T
	sleep 1
	(printf 'CONNECT 6000\n'; cat "$VS/blob") | timeout 60 vsockcat send connect-unix "$VS/v.sock" 2>"$VS/host.err"
	wait "$wpid"
	RC=$?
	kill "$lpid" 2>/dev/null
	echo "[vsock] ward exit status $RC"
	got=$(md5sum <"$VS/from-guest" | cut -d' ' -f1)
	name=vsock_guest_to_host
	if [ "$got" = "$vs_sum" ] && has vsock "VS-SENT [0-9]"; then
		pass "$name"
	else
		note_fail "$name" "the host got $(wc -c <"$VS/from-guest") bytes, md5 $got (want $vs_sum)"
	fi
	name=vsock_host_to_guest
	if has vsock "VS-GOT $vs_sum 1048576"; then
		pass "$name"
	else
		note_fail "$name" "the guest got: $(grep -a VS-GOT "$WORK/vsock.out") ($(cat "$VS/host.err"))"
	fi
	name=vsock_refused
	if [ "$RC" = 0 ] && has vsock VS-REFUSED-OK; then
		pass "$name"
	else
		note_fail "$name" "status $RC; $(grep -a VS-REFUSED "$WORK/vsock.out")"
	fi
fi

# A description's vsock, jailed: the VMM runs as uid 64000 in an empty root
# that holds only the socket's directory; the host's listener lets it in.
name=vsock_system_jailed
if [ -x /usr/local/bin/vsockcat ]; then
	VJ=$VS/sys
	mkdir -p "$VJ/socks"
	vj_initrd=$(guest_initrd vsock_sys <<'G'
i=0
until echo hello-from-the-jailed-guest | vsockcat send connect-vsock 2 5000 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 30 ] || break
	sleep 1
done
echo "VJ-SENT $i"
vsockcat recv listen-vsock 6000 >/tmp/got 2>/dev/null &
echo VJ-LISTENING
wait
echo "VJ-GOT $(cat /tmp/got)"
sleep 600
G
)
	vsockcat recv listen-unix "$VJ/socks/v.sock_5000" >"$VJ/from-guest" 2>/dev/null &
	lpid=$!
	i=0
	while [ ! -S "$VJ/socks/v.sock_5000" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	chmod 666 "$VJ/socks/v.sock_5000"
	cat >"$VJ/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_v": {"kernel": "$GUEST_KERNEL", "initrd": "$vj_initrd",
             "memory": [{"size": "128M"}], "policy": {"allow": []},
             "vsock": {"cid": 3, "path": "$VJ/socks/v.sock"}}
  },
  "linux": {"control_socket": "$VJ/ctl.sock", "console_log_dir": "$VJ/logs"}
}
J
	ward system up "$VJ/sys.json" >"$VJ/up.out" 2>&1 ||
		echo "[vsock] ward system up: $(cat "$VJ/up.out")"
	wait_for "$VJ/logs/vm_v.log" VJ-LISTENING $T
	sleep 1
	echo hello-from-the-host | (printf 'CONNECT 6000\n'; cat) |
		timeout 30 vsockcat send connect-unix "$VJ/socks/v.sock" 2>"$VJ/host.err"
	wait_for "$VJ/logs/vm_v.log" VJ-GOT 30
	vpid=$(ward ctl "$VJ/sys.json" status vm_v | tr " " "\n" | sed -n "s/^pid=//p")
	vuid=$(awk '/^Uid:/ { print $2 }' "/proc/$vpid/status" 2>/dev/null)
	ward system down "$VJ/sys.json" >/dev/null 2>&1
	kill "$lpid" 2>/dev/null
	if [ "$vuid" != 64000 ]; then
		note_fail "$name" "the VMM ran as uid '$vuid', not jailed as 64000"
	elif ! grep -q hello-from-the-jailed-guest "$VJ/from-guest"; then
		note_fail "$name" "the host listener got '$(cat "$VJ/from-guest")'; $(grep -a VJ-SENT "$VJ/logs/vm_v.log")"
	elif ! grep -q "VJ-GOT hello-from-the-host" "$VJ/logs/vm_v.log"; then
		note_fail "$name" "the guest got: $(grep -a VJ-GOT "$VJ/logs/vm_v.log") ($(cat "$VJ/host.err"))"
	else
		pass "$name"
	fi
else
	note_fail "$name" "no vsockcat in the test host (WARD_BIN builds have none)"
fi
