//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/ocicni"
)

// When the second network of a pod fails on ADD — after its bridge plugin
// already made a veth and reserved an address — the whole setup is rolled
// back: no veth on either bridge, no reservation in either IPAM dataDir,
// no interface in the pod, no cache file; and the caller can tell which
// network failed and read the plugin's own error.
func TestFailedSecondNetworkRollsBackFirst(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	secondBridge, secondData := w.bridge+"b", t.TempDir()
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(secondBridge); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	w.writeConf("20-broken.conflist", bridgeNetOn("broken", secondBridge, fmt.Sprintf("10.96.%d.0/24", w.n), secondData,
		map[string]any{"type": "tuning", "sysctl": map[string]string{"net.ipv4.conf.eth1.e2e_no_such_knob": "1"}}))
	p := w.plugin()
	pod := w.pod("half", ocicni.NetAttachment{Name: "podnet"}, ocicni.NetAttachment{Name: "broken"})

	res, err := p.SetUpPod(pod)
	if err == nil {
		t.Fatalf("SetUpPod succeeded with results %+v, want the tuning failure", res)
	}
	t.Logf("setup failed as expected: %v", err)
	var opErr *ocicni.OpError
	if !errors.As(err, &opErr) || opErr.Network != "broken" || opErr.Ifname != "eth1" || opErr.Op != "add" {
		t.Fatalf("error %v: want an *OpError for add of broken/eth1", err)
	}
	var cniErr *cnitypes.Error
	if !errors.As(err, &cniErr) {
		t.Fatalf("error %v does not carry the plugin's *types.Error", err)
	}

	for _, ifname := range []string{"eth0", "eth1"} {
		if podLink(t, pod.NetNS, ifname) != nil {
			t.Fatalf("%s left in the pod after rollback", ifname)
		}
	}
	if ports := bridgePorts(t, secondBridge); len(ports) != 0 {
		t.Fatalf("veths left on the failed network's bridge: %v", ports)
	}
	if r := reservations(t, secondData, "broken"); len(r) != 0 {
		t.Fatalf("reservations left by the failed network: %v", r)
	}
	assertClean(t, w, "podnet")
}
