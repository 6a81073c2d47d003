//go:build linux

package e2e

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/ocicni"
)

// macvlanParent creates a veth pair in the sandbox's namespace and returns
// one end for macvlan to hang off; the pair is removed when the test ends.
// A veth rather than a dummy link, because some kernels (this CI's among
// them) are built without the dummy driver.
func macvlanParent(tb testing.TB, w *world) string {
	tb.Helper()
	name := fmt.Sprintf("e2epar%d", w.n)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
	if err := netlink.LinkAdd(veth); err != nil {
		tb.Fatalf("creating veth %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	for _, n := range []string{name, name + "p"} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			tb.Fatal(err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			tb.Fatal(err)
		}
	}
	return name
}

// A pod on two networks — the bridge default and a macvlan on a veth
// parent with static IPAM fed by the "ips" capability — gets both
// interfaces under the names it asked for, with the addresses status
// reports.
func TestTwoNetworksWithRequestedInterfaceNames(t *testing.T) {
	w := newWorld(t)
	parent := macvlanParent(t, w)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	w.writeConf("20-datanet.conflist", map[string]any{
		"cniVersion": "1.1.0", "name": "datanet",
		"plugins": []map[string]any{{
			"type": "macvlan", "master": parent, "mode": "bridge",
			"capabilities": map[string]bool{"ips": true},
			"ipam":         map[string]any{"type": "static"},
		}},
	})
	p := w.plugin()
	staticIP := fmt.Sprintf("10.98.%d.5/24", w.n)
	pod := w.pod("multi",
		ocicni.NetAttachment{Name: "podnet", Ifname: "front0"},
		ocicni.NetAttachment{Name: "datanet", Ifname: "data0"})
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"datanet": {IPs: []string{staticIP}}}

	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	if len(res) != 2 || res[0].Name != "podnet" || res[0].Ifname != "front0" || res[1].Name != "datanet" || res[1].Ifname != "data0" {
		t.Fatalf("results = %+v, want podnet/front0 then datanet/data0", res)
	}
	if l := podLink(t, pod.NetNS, "front0"); l == nil || l.Type() != "veth" {
		t.Fatalf("front0 in pod = %v, want a veth", l)
	}
	if l := podLink(t, pod.NetNS, "data0"); l == nil || l.Type() != "macvlan" {
		t.Fatalf("data0 in pod = %v, want a macvlan", l)
	}
	if podLink(t, pod.NetNS, "eth0") != nil {
		t.Fatal("pod has an eth0 although both interfaces were named")
	}
	if got := kernelAddrs(t, pod.NetNS, "data0"); !reflect.DeepEqual(got, []string{staticIP}) {
		t.Fatalf("data0 addresses = %v, want [%s]", got, staticIP)
	}

	status, err := p.GetPodNetworkStatus(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
	if err != nil {
		t.Fatalf("GetPodNetworkStatus: %v", err)
	}
	if len(status) != 2 {
		t.Fatalf("status has %d networks, want 2: %+v", len(status), status)
	}
	for i, want := range []ocicni.NetAttachment{{Name: "podnet", Ifname: "front0"}, {Name: "datanet", Ifname: "data0"}} {
		if status[i].NetAttachment != want {
			t.Fatalf("status[%d] = %+v, want %+v (attach order)", i, status[i].NetAttachment, want)
		}
		if got, kernel := resultAddrs(t, status[i]), kernelAddrs(t, pod.NetNS, want.Ifname); !reflect.DeepEqual(got, kernel) {
			t.Fatalf("%s: status reports %v, kernel shows %v", want.Ifname, got, kernel)
		}
	}

	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	for _, ifname := range []string{"front0", "data0"} {
		if podLink(t, pod.NetNS, ifname) != nil {
			t.Fatalf("%s still in the pod after teardown", ifname)
		}
	}
	assertClean(t, w, "podnet")
}
