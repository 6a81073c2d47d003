# Helpers shared by the CRI-O checks: one crio at a time, its state under
# $STATE, talking to crictl over $STATE/crio.sock. Sourced, not run.

# crio_start BINARY CONFLIST_DIR: starts crio in the background and waits
# (bounded) until it answers.
crio_start() {
	local bin=$1 netd=$2
	mkdir -p "$STATE/exits" "$STATE/attach" "$STATE/hooks"
	CONTAINER_RUNTIMES="runc:$(command -v runc):$STATE/runc-root:oci::" \
		"$bin" -c "" -d "" \
		--log-level info \
		--listen "$STATE/crio.sock" \
		--root "$STATE/root" --runroot "$STATE/runroot" --storage-driver vfs \
		--cgroup-manager cgroupfs --conmon-cgroup pod --conmon "$(command -v conmon)" \
		--default-runtime runc \
		--container-exits-dir "$STATE/exits" --container-attach-socket-dir "$STATE/attach" \
		--hooks-dir "$STATE/hooks" \
		--irqbalance-config-file "$STATE/irqbalance" --irqbalance-config-restore-file disable \
		--signature-policy "$POLICY" \
		--cni-config-dir "$netd" --cni-plugin-dir "$PLUGINS" \
		--pinns-path "$PINNS" \
		>>"$STATE/crio.log" 2>&1 &
	CRIO_PID=$!
	local i
	for i in $(seq 1 60); do
		if cri info >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "$CRIO_PID" 2>/dev/null; then
			echo "crio exited at start; its log ends with:" >&2
			tail -20 "$STATE/crio.log" >&2
			return 1
		fi
		sleep 0.5
	done
	echo "crio did not answer within 30 s" >&2
	return 1
}

# crio_stop [SIGNAL]: stops the crio crio_start started.
crio_stop() {
	[ -n "${CRIO_PID:-}" ] || return 0
	kill "-${1:-TERM}" "$CRIO_PID" 2>/dev/null || true
	wait "$CRIO_PID" 2>/dev/null || true
	CRIO_PID=
}

# cri: crictl on this crio; its warnings (no config file, no cgroup
# parent) go to a file, so that what is printed is the checks' own.
cri() {
	"$CRICTL" -t 60s -r "unix://$STATE/crio.sock" -i "unix://$STATE/crio.sock" "$@" 2>>"$STATE/crictl.log"
}

# load_images: puts the offline image, under every name used, into crio's
# storage with CRI-O's own test/copyimg.
load_images() {
	local name dir
	for name in registry.k8s.io/pause:3.10 quay.io/crio/fedora-crio-ci:latest; do
		dir=$(echo "$name" | sed -e 's|^.*/||' -e 's/:.*$//' -e 's/-/_/' -e 's/$/-image/')
		"$COPYIMG" --root "$STATE/root" --runroot "$STATE/runroot" -s vfs \
			--signature-policy "$POLICY" --image-name "$name" --import-from "dir:$ARTIFACTS/$dir" >/dev/null
	done
}

# pod_config NAME FILE: a pod sandbox config without an infra container.
pod_config() {
	cat >"$2" <<JSON
{"metadata": {"name": "$1", "namespace": "checks", "uid": "uid-$1", "attempt": 1},
 "hostname": "$1", "log_directory": "$STATE/logs",
 "linux": {"security_context": {"namespace_options": {"network": 0, "pid": 1, "ipc": 0}}}}
JSON
}

# pod_netns POD: the pod's network namespace path.
pod_netns() {
	cri inspectp "$1" | jq -r '.info.runtimeSpec.linux.namespaces[] | select(.type == "network").path'
}

# pod_ip POD: the address CRI-O reports for the pod.
pod_ip() { cri inspectp "$1" | jq -r '.status.network.ip'; }

# kernel_ip NETNS: eth0's IPv4 address as the kernel holds it.
kernel_ip() {
	nsenter --net="$1" ip -4 -o addr show dev eth0 scope global | awk '{sub("/.*", "", $4); print $4}'
}

# reservations NETWORK: host-local's reserved addresses for NETWORK.
reservations() {
	ls "/var/lib/cni/networks/$1" 2>/dev/null | grep -Ev '^(lock|last_reserved_ip)' || true
}

# host_veths: veth interfaces in the test's namespace (the pods' peers).
host_veths() { ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1; }

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds or time is up.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# write_net DIR NAME CNIVERSION [SLOW]: a bridge + host-local network, with
# a plugin after them whose ADD takes 30 s when SLOW is set.
write_net() {
	local dir=$1 name=$2 ver=$3 slow=${4:-}
	mkdir -p "$dir"
	rm -f "$dir"/*.conflist
	local extra=""
	[ -n "$slow" ] && extra=', {"type": "slowadd"}'
	cat >"$dir/10-$name.conflist" <<JSON
{"cniVersion": "$ver", "name": "$name", "plugins": [
  {"type": "bridge", "bridge": "cni-$name", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.99.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}$extra
]}
JSON
}
