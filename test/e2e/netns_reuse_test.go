//go:build linux

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// Pod A's named netns goes away and the name is reused for pod B's; the
// runtime then tears pod A down with the path it knows, as CRI-O does. The
// DEL must not reach pod B's namespace: B keeps eth0 with its address and
// its reservation, and A's address is released. The old code sent the DEL
// to the recorded path because a file existed there, and bridge deleted
// pod B's eth0 (issue 17.3).
func TestTearDownAfterNetNSPathReusedLeavesNewPodAlone(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin(ocicni.WithWatch(false))
	name := fmt.Sprintf("reused%d", w.n)
	path, err := sandbox.CreateNetNS(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandbox.DeleteNetNS(name) })
	podA := ocicni.PodNetwork{Namespace: "e2e", Name: "a", ID: fmt.Sprintf("sb%da", w.n), NetNS: path}
	_, ipA := setUpOne(t, w, p, podA)

	if err := sandbox.DeleteNetNS(name); err != nil {
		t.Fatal(err)
	}
	if again, err := sandbox.CreateNetNS(name); err != nil || again != path {
		t.Fatalf("re-creating netns %s: %s, %v", name, again, err)
	}
	podB := ocicni.PodNetwork{Namespace: "e2e", Name: "b", ID: fmt.Sprintf("sb%db", w.n), NetNS: path}
	_, ipB := setUpOne(t, w, p, podB)

	if err := p.TearDownPod(podA); err != nil {
		t.Fatalf("TearDownPod(a): %v", err)
	}
	err = sandbox.InNetNS(path, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if a.IP.String() == ipB {
				return nil
			}
		}
		return fmt.Errorf("eth0 holds %v, not %s", addrs, ipB)
	})
	if err != nil {
		t.Fatalf("pod b's eth0 after pod a's teardown: %v", err)
	}
	res := reservations(t, w.dataDir, "podnet")
	if owner, ok := res[ipA]; ok {
		t.Fatalf("host-local still holds %s for %s after pod a's teardown", ipA, owner)
	}
	if owner := res[ipB]; !strings.HasPrefix(owner, podB.ID) {
		t.Fatalf("host-local holds %s for %q, want pod b", ipB, owner)
	}
	if err := p.TearDownPod(podB); err != nil {
		t.Fatalf("TearDownPod(b): %v", err)
	}
	assertClean(t, w, "podnet")
}
