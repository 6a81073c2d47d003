//go:build linux

package e2e

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// A hundred pods set up at once all get distinct working addresses, and
// torn down at once they leave nothing: no veth, no host-local
// reservation, no cache file.
func TestHundredConcurrentPods(t *testing.T) {
	const pods = 100
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()

	all := make([]ocicni.PodNetwork, pods)
	for i := range all {
		all[i] = w.pod(fmt.Sprintf("p%03d", i))
	}
	results := make([][]ocicni.NetResult, pods)
	errs := make([]error, pods)
	var wg sync.WaitGroup
	for i := range all {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = p.SetUpPod(all[i]) }()
	}
	wg.Wait()

	owner := map[string]string{}
	veths := make([]string, pods)
	for i, pod := range all {
		if errs[i] != nil {
			t.Fatalf("SetUpPod %s: %v", pod.Name, errs[i])
		}
		got, kernel := resultAddrs(t, results[i][0]), kernelAddrs(t, pod.NetNS, "eth0")
		if !reflect.DeepEqual(got, kernel) {
			t.Fatalf("pod %s: result %v, kernel %v", pod.Name, got, kernel)
		}
		ip := resultIP(t, results[i][0])
		if other, dup := owner[ip]; dup {
			t.Fatalf("pods %s and %s both got %s", other, pod.Name, ip)
		}
		owner[ip] = pod.Name
		veths[i] = hostVeth(t, results[i][0], w.bridge)
	}
	if n := len(bridgePorts(t, w.bridge)); n != pods {
		t.Fatalf("%d veths on the bridge, want %d", n, pods)
	}
	if n := len(reservations(t, w.dataDir, "podnet")); n != pods {
		t.Fatalf("%d host-local reservations, want %d", n, pods)
	}

	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.TearDownPod(ocicni.PodNetwork{ID: all[i].ID, NetNS: all[i].NetNS})
		}()
	}
	wg.Wait()
	for i, pod := range all {
		if errs[i] != nil {
			t.Fatalf("TearDownPod %s: %v", pod.Name, errs[i])
		}
		if hostLinkExists(t, veths[i]) {
			t.Fatalf("veth %s of %s left after teardown", veths[i], pod.Name)
		}
	}
	assertClean(t, w, "podnet")
}
