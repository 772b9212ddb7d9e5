# SPDX-License-Identifier: BSD-2-Clause
#
# The jail in the test host (docs/security.md#jail). Every `ward system up`
# scenario runs its VMMs jailed (the default); here two VMs show what the
# jail is, from the test host's side: each VMM is process 1 of a PID
# namespace of its own and has mount, IPC, UTS and network namespaces of
# its own, an unprivileged uid, a root with none of the host's files (the
# starter of vm_a's disk backend sees the host's programs read-only), and a
# memory cgroup. vm_a's backend, killed, is started again from
# inside the jail and its guest reads its disk again. `ward run --jail`
# does the same for one VM. Sourced by run-all.sh (uses lib.sh and
# note_fail).

JL=$WORK/jail
rm -rf "$JL"
mkdir -p "$JL"
head -c 4194304 /dev/urandom >"$JL/disk_a.img"
head -c 1048576 /dev/urandom >"$JL/disk_b.img"
want_a=$(md5sum <"$JL/disk_a.img" | cut -d' ' -f1)
jl_initrd=$(guest_initrd jail_guest <<'G'
echo "JAIL-GUEST-UP"
# Reads its disk every second; a read that fails says so.
i=0
while :; do
	i=$((i + 1))
	s=$(md5sum </dev/vda 2>/dev/null | cut -d' ' -f1)
	echo "disk-md5 $i: ${s:-unreadable}"
	sleep 1
done
G
)
cat >"$JL/sys.json" <<J
{
  "ward_system": 1,
  "vms": {
    "vm_a": {"kernel": "$GUEST_KERNEL", "initrd": "$jl_initrd",
             "memory": [{"size": "128M"}],
             "disks": [{"path": "$JL/disk_a.img", "read_only": true, "backend": "process"}]},
    "vm_b": {"kernel": "$GUEST_KERNEL", "initrd": "$jl_initrd",
             "memory": [{"size": "96M"}],
             "disks": [{"path": "$JL/disk_b.img"}]}
  },
  "linux": {"control_socket": "$JL/ctl.sock", "console_log_dir": "$JL/logs",
            "vms": {"vm_b": {"uid": 5000, "gid": 5001}}}
}
J
JA=$JL/logs/vm_a.log
JB=$JL/logs/vm_b.log
jl_pid() {
	ward ctl "$JL/sys.json" status "$1" | tr ' ' '\n' | sed -n 's/^pid=//p'
}
# ns_of PID KIND: the namespace's identity, e.g. mnt:[4026532201].
ns_of() {
	readlink "/proc/$1/ns/$2" 2>/dev/null
}
# backend_of PID / starter_of PID: the host pid of the disk backend or of
# the backend starter in VMM PID's PID namespace.
backend_of() {
	for p in $(in_pid_ns "$(ns_of "$1" pid)"); do
		grep -q "backend" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done
}
starter_of() {
	for p in $(in_pid_ns "$(ns_of "$1" pid)"); do
		[ "$p" != "$1" ] && ! grep -q "backend" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done
}
# in_pid_ns NS: the host pids of the processes in PID namespace NS.
in_pid_ns() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

name=system_vmm_jailed
why=
if ! ward system up "$JL/sys.json" >"$JL/up.out" 2>&1; then
	why="ward system up: $(cat "$JL/up.out")"
elif ! wait_for "$JA" "disk-md5 2: $want_a" $T || ! wait_for "$JB" "disk-md5 2:" $T; then
	why="the guests did not read their disks: $(tail -3 "$JA" | tr '\n' ' ') / $(tail -3 "$JB" | tr '\n' ' ')"
else
	pa=$(jl_pid vm_a)
	pb=$(jl_pid vm_b)
	sup=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$pa/status")
	for k in mnt pid ipc uts net; do
		a=$(ns_of "$pa" $k)
		b=$(ns_of "$pb" $k)
		s=$(ns_of "$sup" $k)
		if [ -z "$a" ] || [ "$a" = "$s" ] || [ "$a" = "$b" ] || [ "$b" = "$s" ]; then
			why="$why $k namespaces: vm_a $a, vm_b $b, supervisor $s;"
		fi
	done
	ua=$(sed -n 's/^Uid:[[:space:]]*//p' "/proc/$pa/status" | tr -s '\t ' ' ')
	ub=$(sed -n 's/^Uid:[[:space:]]*//p' "/proc/$pb/status" | tr -s '\t ' ' ')
	gb=$(sed -n 's/^Gid:[[:space:]]*//p' "/proc/$pb/status" | tr -s '\t ' ' ')
	[ "$ua" = "64000 64000 64000 64000" ] || why="$why vm_a's uids: $ua;"
	[ "$ub" = "5000 5000 5000 5000" ] || why="$why vm_b's uids: $ub;"
	[ "$gb" = "5001 5001 5001 5001" ] || why="$why vm_b's gids: $gb;"
	nsa=$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$pa/status" | tr -s '\t ' ' ')
	[ "$nsa" = "$pa 1" ] || why="$why vm_a's NSpid: $nsa;"
	# In vm_a's PID namespace: its VMM, its disk backend and the backend's
	# starter, nothing else; in vm_b's, its VMM.
	procs_a=$(in_pid_ns "$(ns_of "$pa" pid)" | wc -l)
	procs_b=$(in_pid_ns "$(ns_of "$pb" pid)" | wc -l)
	[ "$procs_a" = 3 ] && [ "$procs_b" = 1 ] ||
		why="$why processes in the PID namespaces: vm_a $procs_a, vm_b $procs_b;"
	# The roots: both VMMs' are empty. vm_a's starter's has the host's
	# programs (for its backends' loader) but none of its files, nor vm_b's.
	ra=$(ls -A "/proc/$pa/root/" | tr '\n' ' ')
	rb=$(ls -A "/proc/$pb/root/" | tr '\n' ' ')
	[ -z "$ra" ] && [ -z "$rb" ] || why="$why the VMMs' roots have: vm_a [$ra], vm_b [$rb];"
	sa=$(starter_of "$pa")
	rs=$(ls -A "/proc/$sa/root/" 2>/dev/null | tr '\n' ' ')
	case " $rs" in
	*" usr "*) ;;
	*) why="$why vm_a's starter ($sa) has no usr: [$rs];" ;;
	esac
	for f in guest tmp etc proc sys dev root; do
		[ ! -e "/proc/$sa/root/$f" ] || why="$why vm_a's starter's root has $f;"
	done
	[ ! -e "/proc/$sa/root$JL/disk_b.img" ] || why="$why vm_a's starter sees vm_b's disk;"
	[ "$(ns_of "$sa" mnt)" != "$(ns_of "$pa" mnt)" ] || why="$why the starter shares vm_a's mounts;"
	# The memory cap: 128M of guest RAM + 1/64 + 64M, no swap.
	cg=$(sed -n 's/^0:://p' "/proc/$pa/cgroup")
	mmax=$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)
	peak=$(cat "/sys/fs/cgroup$cg/memory.peak" 2>/dev/null)
	[ "$mmax" = $(((128 + 2 + 64) * 1048576)) ] || why="$why vm_a's memory.max in [$cg]: $mmax;"
	echo "[$name] vm_a: pid $pa, root: $ra; cgroup $cg: memory.max $mmax, peak $peak"
fi
if [ -n "$why" ]; then note_fail "$name" "$why"; else pass "$name"; fi

# The backend of vm_a's disk, killed: its VMM (jailed, under seccomp)
# makes a new port, and its starter starts a new backend, by descriptor, in
# its jail; the guest reads again.
name=jail_backend_restart
before=$(grep -c "disk-md5" "$JA")
bpid=$(backend_of "$(jl_pid vm_a)")
if [ -z "$bpid" ]; then
	note_fail "$name" "no backend process in vm_a's PID namespace"
else
	kill -9 "$bpid"
	ok=
	for _ in $(seq 1 $((T * 10))); do
		if tail -n +"$((before + 1))" "$JA" | grep -q "disk-md5 [0-9]*: $want_a"; then
			ok=1
			break
		fi
		usleep 100000
	done
	nbpid=$(backend_of "$(jl_pid vm_a)")
	if [ -z "$ok" ]; then
		note_fail "$name" "the guest did not read its disk again: $(tail -3 "$JA" | tr '\n' ' ')"
	elif [ -z "$nbpid" ] || [ "$nbpid" = "$bpid" ]; then
		note_fail "$name" "no new backend (was $bpid, now [$nbpid])"
	elif [ "$(sed -n 's/^Uid:[[:space:]]*//p' "/proc/$nbpid/status" | cut -f1)" != 64000 ]; then
		note_fail "$name" "the new backend runs as $(grep Uid "/proc/$nbpid/status")"
	else
		pass "$name"
	fi
fi
# The supervisor killed: its jailed VMMs (whose new uid cleared the
# parent-death signal, which the jail sets again) go with it, and their
# backends and starters with them.
name=jail_dies_with_supervisor
pa=$(jl_pid vm_a)
pb=$(jl_pid vm_b)
others=$(in_pid_ns "$(ns_of "$pa" pid)" | tr '\n' ' ')
sup=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$pa/status")
kill -9 "$sup"
left=
for _ in $(seq 1 100); do
	left=
	for p in $pa $pb $others; do
		[ -d "/proc/$p" ] && [ "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$p/status")" != Z ] &&
			left="$left $p"
	done
	[ -z "$left" ] && break
	usleep 100000
done
if [ -z "$pa" ] || [ -z "$pb" ] || [ -z "$sup" ]; then
	note_fail "$name" "no pids: vm_a [$pa], vm_b [$pb], supervisor [$sup]"
elif [ -n "$left" ]; then
	note_fail "$name" "still running after the supervisor died:$left"
else
	pass "$name"
fi
ward system down "$JL/sys.json" >/dev/null 2>&1 || true
rm -f "$JL/ctl.sock"
for d in /sys/fs/cgroup/ward/sup-*/vm_a /sys/fs/cgroup/ward/sup-*/vm_b /sys/fs/cgroup/ward/sup-*; do
	rmdir "$d" 2>/dev/null || true
done

# One VM under `ward run --jail`: it boots and reads its process-served
# disk, as uid 64500; a uid of 0 is refused before anything runs.
name=ward_run_jail
jr_initrd=$(guest_initrd ward_run_jail <<'G'
echo "disk-md5: $(md5sum </dev/vda | cut -d' ' -f1)"
echo "hostname-in-guest: $(hostname)"
G
)
run_ward "$name" 120 --kernel "$GUEST_KERNEL" --initrd "$jr_initrd" --mem 128M \
	--disk "$JL/disk_a.img,ro,process" --jail 64500:64501
ward run --kernel "$GUEST_KERNEL" --jail 0 >"$JL/jail0.out" 2>&1
rc0=$?
if [ "$RC" != 0 ] || ! has "$name" "disk-md5: $want_a"; then
	note_fail "$name" "status $RC: $(tail -3 "$WORK/$name.out" | tr '\n' ' ')"
elif [ "$rc0" != 2 ] || [ "$(wc -l <"$JL/jail0.out")" != 1 ] ||
	! grep -q "^ward run: --jail 0: expected UID or UID:GID" "$JL/jail0.out"; then
	note_fail "$name" "--jail 0 gave status $rc0: $(cat "$JL/jail0.out")"
else
	pass "$name"
fi
