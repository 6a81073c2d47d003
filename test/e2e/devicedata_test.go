//go:build linux

package e2e

import (
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// What a DRA driver reports for a pod is what the kernel shows in the
// pod's netns: the interface, its MAC and its addresses, from a real
// bridge + host-local setup and from the status read back later.
func TestDeviceDataMatchesKernel(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("dra")
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.TearDownPod(pod) })
	status, err := p.GetPodNetworkStatus(pod)
	if err != nil {
		t.Fatal(err)
	}
	link := podLink(t, pod.NetNS, "eth0")
	if link == nil {
		t.Fatal("no eth0 in the pod")
	}
	addrs := kernelAddrs(t, pod.NetNS, "eth0")
	for from, results := range map[string][]ocicni.NetResult{"setup": res, "status": status} {
		d, err := results[0].DeviceData()
		if err != nil {
			t.Fatal(err)
		}
		if d.InterfaceName != "eth0" || d.HardwareAddress != link.Attrs().HardwareAddr.String() || !reflect.DeepEqual(d.IPs, addrs) {
			t.Fatalf("%s: DeviceData = %+v; the kernel shows eth0 %s with %v", from, d, link.Attrs().HardwareAddr, addrs)
		}
	}
}
