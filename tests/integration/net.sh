# SPDX-License-Identifier: BSD-2-Clause
#
# Networking (sourced by run-all.sh): a virtio-net NIC on the user-mode
# network (passt) and on a tap interface, with Debian's virtio_net driver.
#   net_user_dhcp_fetch  the guest gets an address over DHCP and fetches a
#                        1 MiB file from busybox httpd on the test host;
#   net_user_hostfwd     a host port forwarded into the guest reaches the
#                        guest's own httpd;
#   net_tap              a guest on a tap pings the test host and fetches
#                        the same file through it (checksum and TSO
#                        offloads on);
#   net_no_passt         without passt, --net user fails with one line
#                        that says what to install.
# The test host has a dummy interface with a default route (tools/testhost)
# so that passt finds addresses to copy; its gateway address, 10.0.2.2, is
# the test host itself for the guest.

NET_WWW=$WORK/www
mkdir -p "$NET_WWW"
head -c 1048576 /dev/urandom >"$NET_WWW/blob"
net_sum=$(md5sum <"$NET_WWW/blob" | cut -d' ' -f1)
httpd -p 8080 -h "$NET_WWW"

# The guest's half: DHCP on eth0 with the guest's default lease script
# (tools/testhost), as the user guide says.
NET_DHCP='
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -q -n -t 5 -T 2 >/tmp/dhcp.log 2>&1 || echo "guest-dhcp-failed"
grep -q "eth0 is" /tmp/dhcp.log || cat /tmp/dhcp.log
echo "guest-lease: $(ip -4 -o addr show eth0 | awk "{print \$4}") via $(ip route | awk "/^default/ {print \$3}")"
'

# --- user networking: DHCP, a fetch from the host, a forwarded port ----------
name=net_user_dhcp_fetch
initrd=$(guest_initrd "$name" <<G
$NET_DHCP
echo "guest-mac=\$(cat /sys/class/net/eth0/address)"
echo "guest-sum=\$(wget -q -O - http://10.0.2.2:8080/blob | md5sum | cut -d' ' -f1)"
mkdir -p /www
echo "served-by-the-guest" >/www/hello.txt
httpd -p 80 -h /www
echo GUEST-HTTPD-UP
sleep 120
G
)
: >"$WORK/$name.out"
ward run --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M \
	--net user,hostfwd=tcp::8022-:80 </dev/null >"$WORK/$name.out" 2>&1 &
pid=$!
fwd=
if wait_for "$WORK/$name.out" GUEST-HTTPD-UP $T; then
	fwd=$(wget -q -O - http://127.0.0.1:8022/hello.txt 2>&1)
fi
kill "$pid" 2>/dev/null
wait "$pid"
echo "[$name] ward exit status $? (stopped by the test)"
if ! has "$name" "guest-lease: 10.0.2.15/24 via 10.0.2.2"; then
	note_fail "$name" "the guest got no DHCP lease of 10.0.2.15 via 10.0.2.2"
elif ! has "$name" "guest-mac=02:77:61:72:64:00"; then
	note_fail "$name" "the NIC does not have ward's default MAC"
elif ! has "$name" "guest-sum=$net_sum"; then
	note_fail "$name" "the file fetched from the test host does not match ($net_sum)"
else
	pass "$name"
fi
name2=net_user_hostfwd
if [ "$fwd" = "served-by-the-guest" ]; then
	pass "$name2"
else
	echo "[$name2] wget from 127.0.0.1:8022 gave: $fwd"
	note_fail "$name2" "the forwarded host port did not reach the guest's httpd"
fi

# --- a tap interface: ping the test host, fetch through it -------------------
name=net_tap
initrd=$(guest_initrd "$name" <<'G'
ip link set lo up
ip addr add 10.9.0.2/24 dev eth0
ip link set eth0 up
echo "guest-features=$(cat /sys/class/net/eth0/device/features 2>/dev/null)"
ping -c 3 -W 5 10.9.0.1 >/dev/null 2>&1 && echo GUEST-PING-OK
echo "guest-sum=$(wget -q -O - http://10.9.0.1:8080/blob | md5sum | cut -d' ' -f1)"
G
)
: >"$WORK/$name.out"
timeout "$T" ward run --kernel "$GUEST_KERNEL" --initrd "$initrd" --mem 256M \
	--net tap=wtap0,mac=52:54:00:12:34:56 </dev/null >"$WORK/$name.out" 2>&1 &
pid=$!
i=0
while ! ip link show wtap0 >/dev/null 2>&1 && [ $i -lt 100 ]; do
	usleep 100000
	i=$((i + 1))
done
ip addr add 10.9.0.1/24 dev wtap0
ip link set wtap0 up
wait "$pid"
RC=$?
echo "[$name] ward exit status $RC"
if [ "$RC" != 0 ]; then
	note_fail "$name" "ward exited with $RC, expected 0 after poweroff"
elif ! has "$name" GUEST-PING-OK; then
	note_fail "$name" "the guest could not ping the test host over the tap"
elif ! has "$name" "guest-sum=$net_sum"; then
	note_fail "$name" "the file fetched over the tap does not match ($net_sum)"
else
	pass "$name"
fi

# --- no passt: one clear line, status 1, before the guest exists ---------------
name=net_no_passt
PATH=/bin /usr/local/bin/ward run --kernel "$GUEST_KERNEL" --net user \
	</dev/null >"$WORK/$name.out" 2>&1
RC=$?
if [ "$RC" = 1 ] && has "$name" "cannot run passt: No such file or directory (install Debian's passt package)" &&
	[ "$(wc -l <"$WORK/$name.out")" = 1 ]; then
	pass "$name"
else
	note_fail "$name" "status $RC, expected 1 and one line naming passt"
fi
kill "$(pidof httpd)" 2>/dev/null
