#!/usr/bin/env bash
# run.sh: make test-crio. Builds CRI-O (stock and with this library), pinns,
# copyimg, crictl and an offline busybox image, all cached under bin/crio,
# then runs the checks inside a throwaway network and mount namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export ROOT=$(cd "$here/../.." && pwd)
# The newest CRI-O whose source the module proxy serves by exact version;
# v1.34.1-v1.34.5, v1.35.0, v1.35.1, v1.36.0, v1.37.0 and v1.38.0 were
# tried once and are not served.
export VER=${CRIO_VERSION:-v1.34.0}
CRICTL_VERSION=${CRICTL_VERSION:-v1.34.0}
export OUT=$ROOT/bin/crio/$VER CRICTL=$ROOT/bin/crio/crictl-$CRICTL_VERSION
export ARTIFACTS=$ROOT/bin/crio/artifacts

if [ "$(id -u)" != 0 ]; then
	echo "test-crio: skipped, needs root (namespaces, mounts, containers)"
	exit 0
fi
need=""
for t in conmon:conmon runc:runc bats:bats jq:jq umoci:umoci busybox:busybox-static unshare:util-linux nsenter:util-linux ip:iproute2 iptables:iptables; do
	command -v "${t%%:*}" >/dev/null || need="$need ${t#*:}"
done
if [ -n "$need" ]; then
	echo "installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $need >/dev/null
fi

start=$SECONDS
CRICTL_VERSION=$CRICTL_VERSION "$here/build.sh" "$VER"
COPYIMG=$OUT/copyimg POLICY=$OUT/src-stock/test/policy.json "$here/image.sh" "$ARTIFACTS"
echo "test-crio: built in $((SECONDS - start)) s"
# Minimal version selection takes, for each module, the highest version any
# requirement names: the library's requirements must change none of CRI-O's.
mods() { (cd "$1" && GOFLAGS=-mod=mod go list -m all | grep -v '^github.com/netplumb/ocicni ' | sort); }
if ! changed=$(diff <(mods "$OUT/src-stock") <(mods "$OUT/src-ours")); then
	echo "FAIL: the swap changes module versions CRI-O $VER requires:" >&2
	echo "$changed" >&2
	exit 1
fi
echo "== the swap changes no module version CRI-O $VER requires ($(mods "$OUT/src-stock" | wc -l) modules)"
start=$SECONDS
rc=0
unshare --net --mount --fork -- "$here/inns.sh" || rc=$?
echo "test-crio: checks took $((SECONDS - start)) s"
exit $rc
