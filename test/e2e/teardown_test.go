//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// waitReload waits until the library has replaced the view it had.
func waitReload(t *testing.T, view ocicni.NetworkSet) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() bool {
		select {
		case <-view.Changed:
			return true
		default:
			return false
		}
	}, "the library did not reload the configuration")
}

// setUpOne sets up one pod on podnet and returns its host-side veth and
// the address host-local reserved for it.
func setUpOne(t *testing.T, w *world, p *ocicni.Plugin, pod ocicni.PodNetwork) (veth, ip string) {
	t.Helper()
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	veth, ip = hostVeth(t, res[0], w.bridge), resultIP(t, res[0])
	if owner := reservations(t, w.dataDir, "podnet")[ip]; !strings.HasPrefix(owner, pod.ID) {
		t.Fatalf("host-local holds no reservation of %s for %s", ip, pod.ID)
	}
	return veth, ip
}

// removeConf deletes a network file and waits until p has reloaded the
// configuration without it.
func removeConf(t *testing.T, p *ocicni.Plugin, file string) {
	t.Helper()
	view := p.Networks()
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitReload(t, view)
}

// assertDetached checks, after the step named by after, that the pod's
// host veth and its interface ifname are gone and that nothing of podnet
// is left (see assertClean).
func assertDetached(t *testing.T, w *world, pod ocicni.PodNetwork, veth, ifname, after string) {
	t.Helper()
	if hostLinkExists(t, veth) || podLink(t, pod.NetNS, ifname) != nil {
		t.Fatalf("veth %s or the pod's %s left after %s", veth, ifname, after)
	}
	assertClean(t, w, "podnet")
}

// A pod whose network file was rewritten (another bridge, subnet and IPAM
// dataDir) is torn down by the plugins and IPAM state it was set up with:
// its original reservation and veth go away, while new pods already get
// the new configuration.
func TestTeardownAfterConfigChanged(t *testing.T) {
	w := newWorld(t)
	file := w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("old")
	veth, _ := setUpOne(t, w, p, pod)

	newBridge, newData := w.bridge+"n", t.TempDir()
	newSubnet := fmt.Sprintf("10.97.%d.0/24", w.n)
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(newBridge); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	view := p.Networks()
	testutil.WriteJSON(t, w.confDir, filepath.Base(file), bridgeNetOn("podnet", newBridge, newSubnet, newData))
	waitReload(t, view)

	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS, Networks: []ocicni.NetAttachment{{Name: "podnet"}}}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertDetached(t, w, pod, veth, "eth0", "teardown")

	fresh := w.pod("new")
	res, err := p.SetUpPod(fresh)
	if err != nil {
		t.Fatalf("SetUpPod after the change: %v", err)
	}
	if ip := resultIP(t, res[0]); !strings.HasPrefix(ip, strings.TrimSuffix(newSubnet, "0/24")) {
		t.Fatalf("new pod got %s, want an address of the new subnet %s", ip, newSubnet)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: fresh.ID, NetNS: fresh.NetNS}); err != nil {
		t.Fatalf("TearDownPod of the new pod: %v", err)
	}
	if r := reservations(t, newData, "podnet"); len(r) != 0 {
		t.Fatalf("reservations left in the new dataDir: %v", r)
	}
}

// A pod whose network file was deleted is still torn down completely.
func TestTeardownAfterConfigDeleted(t *testing.T) {
	w := newWorld(t)
	file := w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("orphan")
	veth, _ := setUpOne(t, w, p, pod)

	removeConf(t, p, file)
	if n := p.Networks().Networks; len(n) != 0 {
		t.Fatalf("networks still loaded after the file was deleted: %+v", n)
	}

	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertDetached(t, w, pod, veth, "eth0", "teardown")
}

// Tearing down a pod whose netns is already gone succeeds and releases
// what lives outside the netns (its address, bandwidth's ifb device, its
// cache entry) through the whole chain, tuning and bandwidth included;
// tearing it down again, by cache or by network name, with or without the
// stale path, succeeds too.
func TestTeardownAfterNetNSDeletedAndAgain(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet", tuningPlugin(1400), bandwidthPlugin()))
	p := w.plugin()
	pod := w.pod("gone")
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"podnet": {
		Bandwidth: &ocicni.BandwidthConfig{IngressRate: 8_000_000, IngressBurst: 800_000, EgressRate: 8_000_000, EgressBurst: 800_000},
	}}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	veth, ifb := hostVeth(t, res[0], w.bridge), ifbOf(t, res[0])

	if err := netns.DeleteNamed(filepath.Base(pod.NetNS)); err != nil {
		t.Fatalf("deleting the pod's netns: %v", err)
	}
	if _, err := os.Stat(pod.NetNS); !os.IsNotExist(err) {
		t.Fatalf("netns path still there: %v", err)
	}

	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod after the netns was deleted: %v", err)
	}
	// The kernel removes the veth when it destroys the namespace, which it
	// does asynchronously; the address and cache entry are gone at once.
	if r := reservations(t, w.dataDir, "podnet"); len(r) != 0 {
		t.Fatalf("reservation left after teardown: %v", r)
	}
	if c := w.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache files left after teardown: %v", c)
	}
	if hostLinkExists(t, ifb) {
		t.Fatalf("bandwidth's ifb %s left after teardown", ifb)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return !hostLinkExists(t, veth) },
		"host veth %s outlived its namespace", veth)
	assertClean(t, w, "podnet")

	for _, again := range []ocicni.PodNetwork{
		{ID: pod.ID, NetNS: pod.NetNS},
		{ID: pod.ID},
		{ID: pod.ID, NetNS: pod.NetNS, Networks: []ocicni.NetAttachment{{Name: "podnet"}}},
		{ID: pod.ID, Networks: []ocicni.NetAttachment{{Name: "podnet"}}},
	} {
		if err := p.TearDownPod(again); err != nil {
			t.Fatalf("second TearDownPod (netns %q, networks %v): %v", again.NetNS, again.Networks, err)
		}
	}
	assertClean(t, w, "podnet")
}

// A cache entry emptied by a crash mid-write does not strand the pod:
// teardown falls back to the current configuration of the network and
// still releases the address and removes the veth.
func TestTeardownWithCorruptCacheEntry(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("crashed")
	veth, _ := setUpOne(t, w, p, pod)

	files := w.cacheFiles()
	if len(files) != 1 {
		t.Fatalf("cache files = %v, want one", files)
	}
	if err := os.WriteFile(filepath.Join(w.cacheDir, "results", files[0]), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertDetached(t, w, pod, veth, "eth0", "teardown")
}

// A runtime that names the network but not the interface at teardown
// still detaches the pod from the interface it was set up on.
func TestTeardownByNetworkNameFindsTheCachedInterface(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("named", ocicni.NetAttachment{Name: "podnet", Ifname: "front0"})
	veth, _ := setUpOne(t, w, p, pod)

	byName := ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS, Networks: []ocicni.NetAttachment{{Name: "podnet"}}}
	status, err := p.GetPodNetworkStatus(byName)
	if err != nil {
		t.Fatalf("GetPodNetworkStatus: %v", err)
	}
	if len(status) != 1 || status[0].Ifname != "front0" {
		t.Fatalf("status = %+v, want podnet on front0", status)
	}
	if err := p.TearDownPod(byName); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	assertDetached(t, w, pod, veth, "front0", "teardown")
}
