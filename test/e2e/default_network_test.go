//go:build linux

package e2e

import (
	"net"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// The default network (bridge + host-local + portmap + tuning) gives each
// pod an address that the kernel shows in the pod's netns and that status
// reports, and pods reach each other over TCP.
func TestDefaultNetworkGivesWorkingAddresses(t *testing.T) {
	w := newWorld(t)
	requireFirewall(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet", portmapPlugin(), tuningPlugin(1400)))
	p := w.plugin()
	if err := p.Status(); err != nil {
		t.Fatalf("Status: %v", err)
	}
	_, subnet, _ := net.ParseCIDR(w.subnet)

	pods := []ocicni.PodNetwork{w.pod("a"), w.pod("b")}
	var ips []string
	for _, pod := range pods {
		res, err := p.SetUpPod(pod)
		if err != nil {
			t.Fatalf("SetUpPod %s: %v", pod.Name, err)
		}
		if len(res) != 1 || res[0].Name != "podnet" || res[0].Ifname != "eth0" {
			t.Fatalf("pod %s: results = %+v, want one podnet/eth0", pod.Name, res)
		}
		kernel := kernelAddrs(t, pod.NetNS, "eth0")
		if got := resultAddrs(t, res[0]); !reflect.DeepEqual(got, kernel) {
			t.Fatalf("pod %s: setup reported %v, kernel shows %v", pod.Name, got, kernel)
		}
		status, err := p.GetPodNetworkStatus(pod)
		if err != nil {
			t.Fatalf("GetPodNetworkStatus %s: %v", pod.Name, err)
		}
		if len(status) != 1 || status[0].Name != "podnet" || status[0].Ifname != "eth0" {
			t.Fatalf("pod %s: status = %+v", pod.Name, status)
		}
		if got := resultAddrs(t, status[0]); !reflect.DeepEqual(got, kernel) {
			t.Fatalf("pod %s: status reported %v, kernel shows %v", pod.Name, got, kernel)
		}
		ip := resultIP(t, status[0])
		if !subnet.Contains(net.ParseIP(ip)) {
			t.Fatalf("pod %s: address %s outside %s", pod.Name, ip, w.subnet)
		}
		if mtu := podLink(t, pod.NetNS, "eth0").Attrs().MTU; mtu != 1400 {
			t.Fatalf("pod %s: eth0 MTU = %d, want 1400 set by tuning", pod.Name, mtu)
		}
		ips = append(ips, ip)
	}
	if ips[0] == ips[1] {
		t.Fatalf("both pods got %s", ips[0])
	}

	checkTCP(t, pods[0].NetNS, pods[1].NetNS, ips[1])
	checkTCP(t, pods[1].NetNS, pods[0].NetNS, ips[0])

	for _, pod := range pods {
		if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
			t.Fatalf("TearDownPod %s: %v", pod.Name, err)
		}
		if podLink(t, pod.NetNS, "eth0") != nil {
			t.Fatalf("pod %s still has eth0 after teardown", pod.Name)
		}
	}
	assertClean(t, w, "podnet")
}
