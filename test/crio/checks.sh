# The checks of a CRI-O built with this library (and the crash check of the
# stock one, for comparison). Sourced by inns.sh after lib.sh; each check
# returns non-zero on failure and leaves crio stopped and nothing attached.

fail() { echo "FAIL: $*" >&2; return 1; }

# check_pods BINARY: several pods get the kernel's addresses, reach each
# other, and leave nothing behind once stopped and removed.
check_pods() {
	local bin=$1 n=5 i pods=() ips=() ns
	write_net "$STATE/net.d" podnet 1.0.0
	crio_start "$bin" "$STATE/net.d" || return 1
	for i in $(seq 1 $n); do
		pod_config "pod$i" "$STATE/pod$i.json"
		pods+=("$(cri runp "$STATE/pod$i.json")") || { crio_stop; fail "runp pod$i"; return 1; }
	done
	for i in $(seq 0 $((n - 1))); do
		ns=$(pod_netns "${pods[$i]}")
		ips+=("$(pod_ip "${pods[$i]}")")
		[ "${ips[$i]}" = "$(kernel_ip "$ns")" ] || { crio_stop; fail "pod$((i + 1)): CRI-O says ${ips[$i]}, the kernel $(kernel_ip "$ns")"; return 1; }
	done
	for i in $(seq 1 $((n - 1))); do
		ns=$(pod_netns "${pods[0]}")
		nsenter --net="$ns" busybox ping -c 1 -W 2 "${ips[$i]}" >/dev/null ||
			{ crio_stop; fail "pod1 cannot reach pod$((i + 1)) at ${ips[$i]}"; return 1; }
	done
	echo "  $n pods up at ${ips[*]}, addresses equal to the kernel's, pod1 reaches every other"
	for p in "${pods[@]}"; do cri stopp "$p" >/dev/null && cri rmp "$p" >/dev/null; done
	crio_stop
	[ -z "$(reservations podnet)" ] || { fail "addresses left reserved: $(reservations podnet)"; return 1; }
	[ -z "$(host_veths)" ] || { fail "veths left: $(host_veths)"; return 1; }
	[ -z "$(ls /var/lib/cni/results 2>/dev/null)" ] || { fail "cache entries left: $(ls /var/lib/cni/results)"; return 1; }
	[ -z "$(ls /run/netns 2>/dev/null)" ] || { fail "netns left: $(ls /run/netns)"; return 1; }
	echo "  after stopp + rmp: no address, veth, cache entry or netns left"
}

# crash_once BINARY CNIVERSION: SIGKILLs crio in the middle of a pod's ADD
# (after bridge and host-local, during a slow third plugin), restarts it
# with the same configuration and lets its start-up GC run. Prints what is
# left and returns non-zero if anything is.
crash_once() {
	local bin=$1 ver=$2 left
	write_net "$STATE/net.d" crashnet "$ver" slow
	rm -f /run/slowadd.started
	crio_start "$bin" "$STATE/net.d" || return 1
	pod_config crashpod "$STATE/crashpod.json"
	cri runp "$STATE/crashpod.json" >/dev/null 2>&1 &
	local runp=$!
	wait_for 60 test -e /run/slowadd.started || { crio_stop; fail "the slow ADD never started"; return 1; }
	crio_stop KILL
	wait "$runp" 2>/dev/null || true
	# The orphaned plugin is this test's own process; end it by its ID.
	local pid
	for pid in $(pgrep -f "$PLUGINS/slowadd" || true); do kill -KILL "$pid" 2>/dev/null || true; done
	crio_start "$bin" "$STATE/net.d" || return 1
	# GC runs at start; give it a bounded while to release the address.
	wait_for 20 test -z "$(reservations crashnet)" || true
	left="addresses: [$(reservations crashnet | tr '\n' ' ')] veths: [$(host_veths | tr '\n' ' ')]"
	cri rmp -a -f >/dev/null 2>&1 || true
	crio_stop
	echo "$left"
	[ -z "$(reservations crashnet)" ] && [ -z "$(host_veths)" ]
}

# cleanup_leaks NETWORK: removes what a leaking crio left, so the next check
# starts clean (the stock one leaks by design of the comparison).
cleanup_leaks() {
	local v
	rm -rf "/var/lib/cni/networks/$1" /var/lib/cni/results/*
	for v in $(host_veths); do ip link del "$v" 2>/dev/null || true; done
	for v in /run/netns/*; do [ -e "$v" ] && { umount "$v" 2>/dev/null; rm -f "$v"; }; done
	ip link del "cni-$1" 2>/dev/null || true
}

# check_restarts BINARY: crio restarts over a running, a stopped and a
# netns-gone sandbox (CRI-O's restore asks each for its status), comes up,
# reports the running pod's address, and removes all three.
check_restarts() {
	local bin=$1 running stopped gone ns
	write_net "$STATE/net.d" restartnet 1.0.0
	crio_start "$bin" "$STATE/net.d" || return 1
	for p in running stopped gone; do pod_config "$p" "$STATE/$p.json"; done
	running=$(cri runp "$STATE/running.json") && stopped=$(cri runp "$STATE/stopped.json") &&
		gone=$(cri runp "$STATE/gone.json") || { crio_stop; fail "runp"; return 1; }
	cri stopp "$stopped" >/dev/null
	ns=$(pod_netns "$gone")
	ip netns del "$(basename "$ns")" && [ ! -e "$ns" ] || { crio_stop; fail "could not remove the netns $ns"; return 1; }
	local want
	want=$(pod_ip "$running")
	crio_stop
	crio_start "$bin" "$STATE/net.d" || { fail "crio did not come back up over a running, a stopped and a netns-gone sandbox"; return 1; }
	# CRI-O's restore asked each sandbox for its status; a panic there (an
	# empty answer taken [0] of) would have ended crio.
	grep -q 'panic' "$STATE/crio.log" && { crio_stop; fail "crio panicked"; return 1; }
	local ids
	ids=$(cri pods -q)
	case "$ids" in *"$running"*) ;; *) crio_stop; fail "running pod gone after restart (pods: $ids)"; return 1 ;; esac
	case "$ids" in *"$stopped"*) ;; *) crio_stop; fail "stopped pod gone after restart (pods: $ids)"; return 1 ;; esac
	[ "$(pod_ip "$running")" = "$want" ] || { crio_stop; fail "running pod's address after restart $(pod_ip "$running"), want $want"; return 1; }
	echo "  restarted over running, stopped and netns-gone sandboxes; running pod still at $want"
	cri rmp -a -f >/dev/null
	crio_stop
	[ -z "$(reservations restartnet)" ] && [ -z "$(host_veths)" ] ||
		{ fail "left after rmp: $(reservations restartnet) $(host_veths)"; return 1; }
	echo "  after rmp -a: nothing left"
}
