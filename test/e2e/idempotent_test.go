//go:build linux

package e2e

import (
	"reflect"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
)

// With WithIdempotentSetup a repeated identical setup through real bridge
// and host-local plugins answers with the address the pod already has:
// host-local holds one reservation and the pod's netns one address, where
// a second ADD would have taken another or failed.
func TestIdempotentSetupKeepsOneAddress(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet"))
	p := w.plugin(ocicni.WithIdempotentSetup(true))
	pod := w.pod("again")
	first, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.TearDownPod(pod) })
	again, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("identical setup = %v, want the recorded results", err)
	}
	addr := func(rs []ocicni.NetResult) string {
		r, err := current.NewResultFromResult(rs[0].Result)
		if err != nil || len(r.IPs) == 0 {
			t.Fatalf("result %v: %v", rs[0].Result, err)
		}
		return r.IPs[0].Address.String()
	}
	if addr(again) != addr(first) {
		t.Fatalf("identical setup gave %s, the pod has %s", addr(again), addr(first))
	}
	if got := kernelAddrs(t, pod.NetNS, "eth0"); !reflect.DeepEqual(got, []string{addr(first)}) {
		t.Fatalf("pod's eth0 has %v, want only %s", got, addr(first))
	}
	if r := reservations(t, w.dataDir, "podnet"); len(r) != 1 {
		t.Fatalf("host-local reservations = %v, want one", r)
	}
}
