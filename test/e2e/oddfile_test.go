//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netplumb/ocicni/ocicni"
)

// A pod's record replaced by a FIFO or an empty directory is a damaged
// entry of the sandbox its name reads as: its teardown by sandbox ID, or a
// GC that leaves the pod out, DELs that attachment (its veth and its
// reservation go) and removes the odd file; a repeated call finds nothing
// left. Before, the odd file was skipped: the call returned nil with the
// second network's veth and address left, and the file stayed (issue
// 17.9, found by test/chaos, seed 3001, c-eth0-eth1).
func TestOddFileAtRecordPathIsDELedOnceAndRemoved(t *testing.T) {
	for _, kind := range []string{"fifo", "dir"} {
		for _, via := range []string{"teardown", "gc"} {
			t.Run(kind+"/"+via, func(t *testing.T) { testOddFileAtRecordPath(t, kind, via) })
		}
	}
}

func testOddFileAtRecordPath(t *testing.T, kind, via string) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	otherBridge, otherData := w.bridge+"o", t.TempDir()
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(otherBridge); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	w.writeConf("20-other.conflist", bridgeNetOn("other", otherBridge, fmt.Sprintf("10.95.%d.0/24", w.n), otherData))
	p := w.plugin(ocicni.WithWatch(false))
	pod := w.pod("odd", ocicni.NetAttachment{Name: "podnet"}, ocicni.NetAttachment{Name: "other"})
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	veth, ip := hostVeth(t, res[1], otherBridge), resultIP(t, res[1])
	if _, ok := reservations(t, otherData, "other")[ip]; !ok {
		t.Fatalf("host-local holds no %s after setup", ip)
	}
	record := filepath.Join(w.cacheDir, "results", "other-"+pod.ID+"-eth1")
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if kind == "fifo" {
		err = unix.Mkfifo(record, 0o600)
	} else {
		err = os.Mkdir(record, 0o700)
	}
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if via == "teardown" {
			err = p.TearDownPodWithContext(context.Background(), ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
		} else {
			err = p.GC(context.Background(), nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", via, err)
		}
	}
	if owner, ok := reservations(t, otherData, "other")[ip]; ok {
		t.Fatalf("host-local still holds %s for %q after %s", ip, owner, via)
	}
	if c := w.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache files left after %s: %v", via, c)
	}
	if via == "gc" {
		// The record, and the netns path with it, is lost: GC's DEL
		// frees the address, and the veth goes with the sandbox's netns.
		return
	}
	if hostLinkExists(t, veth) || podLink(t, pod.NetNS, "eth1") != nil {
		t.Fatalf("veth %s or the pod's eth1 still there after %s", veth, via)
	}
	assertClean(t, w, "podnet")
}
