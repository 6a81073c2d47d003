#!/usr/bin/env bash
# bats.sh TESTDIR WORKDIR: runs CRI-O's own test/network.bats against the
# stock crio and against the one built with this library, and fails if ours
# fails a case stock passes. Cases that fail here with stock CRI-O too, for
# reasons of this environment, are skipped by name with the reason.
set -euo pipefail
src=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)

# name|reason
SKIPS=(
	"Clean up network if pod sandbox gets killed|fails with stock CRI-O too here: runc may not set the infra container oom_score_adj (permission denied without CAP_SYS_RESOURCE)"
)

run_for() { # run_for LABEL BINARY
	local label=$1 bin=$2 t=$work/$1
	rm -rf "$t"
	cp -r "$src" "$t"
	# Debian 12 ships bats 1.8.2; the network cases use nothing newer.
	if [ "$(bats --version | awk '{print $2}')" \< "1.9.0" ]; then
		sed -i 's/^bats_require_minimum_version 1.9.0$/bats_require_minimum_version 1.8.0/' "$t/helpers.bash"
	fi
	# Module zips keep no file modes: the test CNI plugin must be made
	# executable again.
	chmod +x "$t/cni_plugin_helper.bash"
	# The test data names a systemd slice as the pods' cgroup parent; with
	# cgroupfs (no systemd here) CRI-O wants a plain path.
	sed -i 's/"pod_123-456\.slice"/"pod_123-456"/' "$t"/testdata/*.json
	local s name reason
	for s in "${SKIPS[@]}"; do
		name=${s%%|*} reason=${s#*|}
		awk -v n="@test \"$name\" {" -v r="$reason" '{print} $0 == n {print "\tskip \"" r "\""}' \
			"$t/network.bats" >"$t/network.bats.new"
		mv "$t/network.bats.new" "$t/network.bats"
	done
	(
		cd "$t"
		export CRIO_BINARY_PATH=$bin PINNS_BINARY_PATH=$PINNS CRICTL_BINARY=$CRICTL
		# Plugins are found in /opt/cni/bin, where CRI-O looks by default;
		# CONTAINER_CNI_PLUGIN_DIR stays unset since crio reads it too.
		export COPYIMG_BINARY=$COPYIMG ARTIFACTS_PATH=$ARTIFACTS
		export CONTAINER_DEFAULT_RUNTIME=runc CONTAINER_CGROUP_MANAGER=cgroupfs CONTAINER_CONMON_CGROUP=pod
		export STORAGE_OPTIONS="-s vfs" CONMON_BINARY
		CONMON_BINARY=$(command -v conmon)
		bats --tap ${BATS_FILTER:+--filter "$BATS_FILTER"} network.bats
	) >"$work/$label.tap" 2>&1 || true
}

# summary LABEL: "STATUS<TAB>NAME" per case, STATUS ok, fail or skip.
summary() {
	grep -E '^(ok|not ok) [0-9]+ ' "$work/$1.tap" | awk '{
		st = ($1 == "ok") ? "ok" : "fail"
		sub(/^(ok|not ok) [0-9]+ /, "")
		if ($0 ~ / # skip/) { st = "skip"; sub(/ # skip.*/, "") }
		print st "\t" $0
	}'
}

run_for stock "$STOCK"
run_for ours "$OURS"
summary stock >"$work/stock.sum"
summary ours >"$work/ours.sum"
failed=0
[ -s "$work/stock.sum" ] || { echo "no case ran; stock's TAP output:" >&2; cat "$work/stock.tap" >&2; exit 1; }
printf '%-68s %-6s %s\n' "network.bats case" stock ocicni
awk -F'\t' 'NR == FNR { o[$2] = $1; next }
	{ printf "%-68s %-6s %s\n", $2, $1, (($2 in o) ? o[$2] : "missing"); if ($1 == "ok" && o[$2] != "ok") bad = 1 }
	END { exit bad }' "$work/ours.sum" "$work/stock.sum" || failed=1
grep -F '# skip' "$work/stock.tap" | sed 's/^/  /' || true
if [ "$failed" = 1 ]; then
	echo "ocicni fails a case stock CRI-O passes; its TAP output:" >&2
	cat "$work/ours.tap" >&2
fi
exit $failed
