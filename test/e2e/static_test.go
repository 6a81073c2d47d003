//go:build linux

package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// staticCase sets up one pod with rc on the world's bridge network and
// checks the address the kernel shows and the reservation host-local made.
func staticCase(t *testing.T, rc func(w *world) (ocicni.RuntimeConfig, string)) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	cfg, wantIP := rc(w)
	pod := w.pod("static")
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"podnet": cfg}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	want := []string{wantIP + "/24"}
	if got := kernelAddrs(t, pod.NetNS, "eth0"); !reflect.DeepEqual(got, want) {
		t.Fatalf("eth0 addresses = %v, want %v", got, want)
	}
	if got := resultAddrs(t, res[0]); !reflect.DeepEqual(got, want) {
		t.Fatalf("result addresses = %v, want %v", got, want)
	}
	r := reservations(t, w.dataDir, "podnet")
	if owner, ok := r[wantIP]; !ok || !strings.HasPrefix(owner, pod.ID) {
		t.Fatalf("host-local reservations = %v, want %s held by %s", r, wantIP, pod.ID)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertClean(t, w, "podnet")
}

// RuntimeConfig.IPs reaches host-local through the "ips" capability.
func TestStaticIPThroughIPsCapability(t *testing.T) {
	staticCase(t, func(w *world) (ocicni.RuntimeConfig, string) {
		ip := fmt.Sprintf("10.99.%d.77", w.n)
		return ocicni.RuntimeConfig{IPs: []string{ip + "/24"}}, ip
	})
}

// RuntimeConfig.IP reaches host-local as IP= in CNI_ARGS.
func TestStaticIPThroughCNIArgs(t *testing.T) {
	staticCase(t, func(w *world) (ocicni.RuntimeConfig, string) {
		ip := fmt.Sprintf("10.99.%d.88", w.n)
		return ocicni.RuntimeConfig{IP: ip}, ip
	})
}

// RuntimeConfig.MAC becomes the hardware address of the pod's interface,
// and status reports it.
func TestStaticMAC(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	const mac = "02:42:ac:11:00:99"
	pod := w.pod("mac")
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"podnet": {MAC: mac}}
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	if got := podLink(t, pod.NetNS, "eth0").Attrs().HardwareAddr.String(); got != mac {
		t.Fatalf("eth0 MAC = %s, want %s", got, mac)
	}
	status, err := p.GetPodNetworkStatus(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
	if err != nil {
		t.Fatalf("GetPodNetworkStatus: %v", err)
	}
	var reported []string
	for _, iface := range asCurrent(t, status[0]).Interfaces {
		if iface.Sandbox != "" {
			reported = append(reported, iface.Name+"="+iface.Mac)
		}
	}
	if !reflect.DeepEqual(reported, []string{"eth0=" + mac}) {
		t.Fatalf("status reports pod interfaces %v, want [eth0=%s]", reported, mac)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertClean(t, w, "podnet")
}
