//go:build linux

package e2e

import (
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/ocicni"
)

// A port mapping becomes a DNAT rule to the pod in the sandbox's firewall
// while the pod lives, and the rule is gone after teardown.
func TestPortMappingRuleLivesWithThePod(t *testing.T) {
	w := newWorld(t)
	requireFirewall(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet", portmapPlugin()))
	p := w.plugin()
	pod := w.pod("web")
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"podnet": {
		PortMappings: []ocicni.PortMapping{{HostPort: 18080, ContainerPort: 8080, Protocol: "TCP"}},
	}}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	target := resultIP(t, res[0]) + ":8080"
	rules := firewallRules(t)
	if !strings.Contains(rules, target) || !strings.Contains(rules, "18080") || !strings.Contains(rules, pod.ID) {
		t.Fatalf("no DNAT of host port 18080 to %s for %s in the firewall:\n%s", target, pod.ID, rules)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	if rules := firewallRules(t); strings.Contains(rules, target) || strings.Contains(rules, pod.ID) {
		t.Fatalf("port mapping rules left after teardown:\n%s", rules)
	}
	assertClean(t, w, "podnet")
}

// A bandwidth limit becomes token-bucket qdiscs at the requested rates on
// the pod's host-side veth (ingress) and on an ifb device (egress), which
// teardown removes.
func TestBandwidthLimitShapesThePod(t *testing.T) {
	w := newWorld(t)
	w.writeConf("10-podnet.conflist", w.bridgeNet("podnet", bandwidthPlugin()))
	p := w.plugin()
	pod := w.pod("slow")
	bw := &ocicni.BandwidthConfig{
		IngressRate: 8_000_000, IngressBurst: 800_000,
		EgressRate: 16_000_000, EgressBurst: 1_600_000,
	}
	pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"podnet": {Bandwidth: bw}}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("SetUpPod: %v", err)
	}
	veth := hostVeth(t, res[0], w.bridge)
	if got := tbfRates(t, veth); len(got) != 1 || got[0] != bw.IngressRate/8 {
		t.Fatalf("tbf rates on host veth %s = %v bytes/s, want [%d]", veth, got, bw.IngressRate/8)
	}
	ifb := ifbOf(t, res[0])
	if got := tbfRates(t, ifb); len(got) != 1 || got[0] != bw.EgressRate/8 {
		t.Fatalf("tbf rates on %s = %v bytes/s, want [%d]", ifb, got, bw.EgressRate/8)
	}
	if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	for _, l := range []string{veth, ifb} {
		if hostLinkExists(t, l) {
			t.Fatalf("%s left after teardown", l)
		}
	}
	assertClean(t, w, "podnet")
}

// tbfRates lists the rates (bytes/s) of the token-bucket qdiscs on a link
// in the sandbox's namespace.
func tbfRates(tb testing.TB, link string) []uint64 {
	tb.Helper()
	l, err := netlink.LinkByName(link)
	if err != nil {
		tb.Fatal(err)
	}
	qs, err := netlink.QdiscList(l)
	if err != nil {
		tb.Fatal(err)
	}
	var out []uint64
	for _, q := range qs {
		if tbf, ok := q.(*netlink.Tbf); ok {
			out = append(out, tbf.Rate)
		}
	}
	return out
}

// ifbOf returns the ifb device the bandwidth plugin reported for egress
// shaping.
func ifbOf(tb testing.TB, r ocicni.NetResult) string {
	tb.Helper()
	for _, iface := range asCurrent(tb, r).Interfaces {
		if l, err := netlink.LinkByName(iface.Name); err == nil && l.Type() == "ifb" {
			return iface.Name
		}
	}
	tb.Fatalf("no ifb device reported for egress shaping: %+v", asCurrent(tb, r).Interfaces)
	return ""
}
