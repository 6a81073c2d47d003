//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// GC with a valid set that omits some pods removes exactly those: their
// interfaces, veths, reservations and cache files go, while the valid
// pods keep all of theirs and still talk to each other.
func TestGCCleansExactlyThePodsLeftOut(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()

	type live struct {
		pod      ocicni.PodNetwork
		veth, ip string
		keepInGC bool
	}
	var pods []*live
	for i := range 4 {
		pod := w.pod(fmt.Sprintf("g%d", i))
		veth, ip := setUpOne(t, w, p, pod)
		pods = append(pods, &live{pod: pod, veth: veth, ip: ip, keepInGC: i%2 == 0})
	}
	var valid []*ocicni.PodNetwork
	for _, l := range pods {
		if l.keepInGC {
			valid = append(valid, &ocicni.PodNetwork{ID: l.pod.ID, NetNS: l.pod.NetNS})
		}
	}
	if err := p.GC(context.Background(), valid); err != nil {
		t.Fatalf("GC: %v", err)
	}

	res := reservations(t, w.dataDir, "podnet")
	cache := strings.Join(w.cacheFiles(), " ")
	for _, l := range pods {
		owned := strings.HasPrefix(res[l.ip], l.pod.ID)
		cached := strings.Contains(cache, "-"+l.pod.ID+"-")
		hasIf := podLink(t, l.pod.NetNS, "eth0") != nil
		vethUp := hostLinkExists(t, l.veth)
		if l.keepInGC && !(owned && cached && hasIf && vethUp) {
			t.Fatalf("valid pod %s lost something in GC: reservation %v, cache %v, eth0 %v, veth %v", l.pod.Name, owned, cached, hasIf, vethUp)
		}
		if !l.keepInGC && (owned || cached || hasIf || vethUp) {
			t.Fatalf("stale pod %s not cleaned by GC: reservation %v, cache %v, eth0 %v, veth %v", l.pod.Name, owned, cached, hasIf, vethUp)
		}
	}
	checkTCP(t, pods[0].pod.NetNS, pods[2].pod.NetNS, pods[2].ip)

	for _, l := range pods {
		if l.keepInGC {
			if err := p.TearDownPod(ocicni.PodNetwork{ID: l.pod.ID, NetNS: l.pod.NetNS}); err != nil {
				t.Fatalf("TearDownPod %s: %v", l.pod.Name, err)
			}
		}
	}
	assertClean(t, w, "podnet")
}

// GC also removes a stale pod whose network file was deleted since setup,
// using the configuration cached at ADD: its reservation and veth go.
func TestGCCleansPodOfDeletedNetwork(t *testing.T) {
	w := newWorld(t)
	file := w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin()
	pod := w.pod("leaked")
	veth, _ := setUpOne(t, w, p, pod)

	removeConf(t, p, file)
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatalf("GC: %v", err)
	}
	assertDetached(t, w, pod, veth, "eth0", "GC")
}
