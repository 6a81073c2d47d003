#!/usr/bin/env bash
# inns.sh: the CRI-O checks, run by run.sh inside a throwaway network and
# mount namespace of their own. Nothing here touches the machine's network
# namespace: tmpfs over /run, /var/lib, /var/log and /opt hide the host's state, and
# every interface is created in this namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${VER:?}" "${OUT:?}" "${CRICTL:?}" "${ARTIFACTS:?}"
export STOCK=$OUT/crio-stock OURS=$OUT/crio-ours PINNS=$OUT/pinns COPYIMG=$OUT/copyimg
export POLICY=$OUT/src-stock/test/policy.json PLUGINS=/opt/cni/bin

mount --make-rprivate /
for d in /run /var/lib /var/log /opt; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /run/netns /var/lib/cni /opt/cni/bin /run/lock
cp "$ROOT"/bin/plugins/* "$here/slowadd" /opt/cni/bin/
ip link set lo up
# A "host" interface with a default route, as a node has: CRI-O's hostport
# test connects to its address.
ip link add host0 type veth peer name host0p
ip addr add 192.168.250.1/24 dev host0
ip link set host0 up && ip link set host0p up
ip route add default via 192.168.250.2 dev host0
# The host side of CRI-O's tests wants nc and ping; busybox has both.
hostbin=$(mktemp -d)
for t in nc ping ping6; do command -v "$t" >/dev/null || ln -s "$(command -v busybox)" "$hostbin/$t"; done
export PATH=$PATH:$hostbin

. "$here/lib.sh"
. "$here/checks.sh"
host_veths() { ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^host0' || true; }

# fresh_state: a new temp dir for crio's state, with the images loaded.
fresh_state() {
	STATE=$(mktemp -d /tmp/ocicni-crio-state.XXXXXX)
	STATES+=("$STATE")
	mkdir -p "$STATE/logs"
	load_images
}
STATES=()
cleanup() {
	crio_stop KILL
	local s
	for s in "${STATES[@]}"; do
		awk '{print $2}' /proc/self/mounts | grep "^$s" | sort -r | xargs -r umount 2>/dev/null || true
		rm -rf "$s"
	done
	rm -rf "$hostbin"
}
trap cleanup EXIT

failed=0
echo "== CRI-O $VER with this library: pods, traffic, removal"
fresh_state
check_pods "$OURS" || failed=1
cleanup_leaks podnet
echo "== CRI-O $VER with this library: restarts over running, stopped and netns-gone sandboxes"
fresh_state
check_restarts "$OURS" || failed=1
cleanup_leaks restartnet

echo "== crio SIGKILLed during a slow ADD, then restarted: what is left after its start-up GC"
table=()
for ver in 1.0.0 1.1.0; do
	fresh_state
	stock=$(crash_once "$STOCK" "$ver" 2>&1) && stock="nothing left ($stock)" || stock="LEAKED $stock"
	cleanup_leaks crashnet
	fresh_state
	if ours=$(crash_once "$OURS" "$ver" 2>&1); then ours="nothing left"; else
		ours="LEAKED $ours"
		failed=1
	fi
	cleanup_leaks crashnet
	table+=("$(printf '  cniVersion %s  stock CRI-O: %s\n  cniVersion %s  with ocicni: %s' "$ver" "$stock" "$ver" "$ours")")
done
printf '%s\n' "${table[@]}"

echo "== CRI-O's own test/network.bats ($VER)"
STATE=$(mktemp -d /tmp/ocicni-crio-bats.XXXXXX)
STATES+=("$STATE")
"$here/bats.sh" "$OUT/src-stock/test" "$STATE" || failed=1
exit $failed
