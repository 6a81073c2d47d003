#!/usr/bin/env bash
# image.sh OUTDIR: builds, with no registry, one small busybox image (static
# busybox, a /pause that waits for a signal, and the entry point CRI-O's
# test containers name) as an OCI layout, then exports it in the "dir:"
# form CRI-O's test harness loads with test/copyimg, once under each name
# the harness and our checks use. Reused while OUTDIR/.complete exists.
set -euo pipefail
out=${1:?usage: image.sh OUTDIR}
copyimg=${COPYIMG:?COPYIMG must name the copyimg binary of CRI-O}
policy=${POLICY:?POLICY must name a signature policy file}
[ -f "$out/.complete" ] && exit 0
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

umoci init --layout "$work/oci"
umoci new --image "$work/oci:busybox"
umoci unpack --image "$work/oci:busybox" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,data,tmp,etc,proc,sys,dev,run,var}
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $(busybox --list); do
	[ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
# The infra container's command: sleeps until told to stop.
cat >"$rootfs/pause" <<'SH'
#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
SH
# CRI-O's test containers run "docker-entrypoint.sh redis-server"; here it
# only has to stay up so that the tests can exec into it.
cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
SH
chmod 755 "$rootfs/pause" "$rootfs/usr/local/bin/docker-entrypoint.sh"
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
umoci repack --image "$work/oci:busybox" "$work/bundle" >/dev/null
umoci config --image "$work/oci:busybox" --config.cmd /bin/sh \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin >/dev/null

# One "dir:" export per name, named as CRI-O's img2dir names them.
for name in registry.k8s.io/pause:3.10 quay.io/crio/fedora-crio-ci:latest quay.io/crio/hello-wasm:latest; do
	dir=$(echo "$name" | sed -e 's|^.*/||' -e 's/:.*$//' -e 's/-/_/' -e 's/$/-image/')
	mkdir -p "$out/$dir"
	"$copyimg" --import-from="oci:$work/oci:busybox" --export-to="dir:$out/$dir" --signature-policy="$policy" >/dev/null
done
touch "$out/.complete"
