#!/usr/bin/env bash
# build.sh VERSION: builds CRI-O VERSION twice from one source tree, once as
# shipped and once with its cri-o/ocicni imports swapped for this library
# (the import lines and one replace, nothing else), plus pinns from the same
# tree and crictl. Outputs land in bin/crio/VERSION/ and are reused while
# their inputs are unchanged.
set -euo pipefail
ver=${1:?usage: build.sh VERSION}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/bin/crio/$ver
mkdir -p "$out"
export GOFLAGS=-mod=mod
# The module's own source, by exact version: listing versions is refused,
# an exact one is served.
src=$(go mod download -json "github.com/cri-o/cri-o@$ver" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "cannot download CRI-O $ver" >&2; exit 1; }

# Tags that need no C libraries beyond libc: no seccomp, SELinux, AppArmor,
# btrfs or gpgme.
tags="containers_image_ostree_stub containers_image_openpgp exclude_graphdriver_btrfs btrfs_noversion"
build() { # build TREE OUTPUT
	(cd "$1" && nice -n 10 go build -trimpath -tags "$tags" -o "$2" ./cmd/crio)
}

tree() { # tree NAME: a writable copy of the source
	local t=$out/src-$1
	if [ ! -f "$t/.complete" ]; then
		rm -rf "$t"
		cp -r "$src" "$t"
		chmod -R u+w "$t"
		touch "$t/.complete"
	fi
	echo "$t"
}

stock=$(tree stock)
if [ ! -x "$out/crio-stock" ]; then
	echo "building stock CRI-O $ver"
	build "$stock" "$out/crio-stock"
fi
if [ ! -x "$out/pinns" ]; then
	make -s -C "$stock/pinns" CC="${CC:-cc}" >/dev/null
	cp "$stock/bin/pinns" "$out/pinns"
fi
if [ ! -x "$out/copyimg" ]; then
	(cd "$stock" && nice -n 10 go build -trimpath -tags "$tags" -o "$out/copyimg" ./test/copyimg)
fi

# Ours: the same tree with the import path swapped and one replace. The
# library's sources are part of the stamp, so a change to them rebuilds.
ours=$(tree ours)
stamp=$( (cd "$root" && git ls-files -z -- go.mod go.sum ocicni types internal | xargs -0 cat) | sha256sum | cut -c1-16)
if [ ! -x "$out/crio-ours" ] || [ "$(cat "$out/crio-ours.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "building CRI-O $ver with this library"
	grep -rl --include='*.go' 'github.com/cri-o/ocicni/pkg/ocicni' "$ours" |
		xargs sed -i 's#"github.com/cri-o/ocicni/pkg/ocicni"#"github.com/netplumb/ocicni/ocicni"#'
	(cd "$ours" && go mod edit -replace "github.com/netplumb/ocicni=$root")
	build "$ours" "$out/crio-ours"
	echo "$stamp" >"$out/crio-ours.stamp"
fi

crictl_ver=${CRICTL_VERSION:-v1.34.0}
if [ ! -x "$root/bin/crio/crictl-$crictl_ver" ]; then
	GOBIN=$root/bin/crio/tmp-crictl nice -n 10 go install "sigs.k8s.io/cri-tools/cmd/crictl@$crictl_ver"
	mv "$root/bin/crio/tmp-crictl/crictl" "$root/bin/crio/crictl-$crictl_ver"
	rmdir "$root/bin/crio/tmp-crictl"
fi
