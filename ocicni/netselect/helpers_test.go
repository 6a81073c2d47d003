package netselect

import (
	"context"
	"errors"
	"net"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
)

// catalog is what the tests parse against: podnet is the default, and
// tenant-a has its own variant of storage.
var catalog = Catalog{Default: "podnet", Names: []string{"podnet", "datanet", "storage", "tenant-a.storage", "macnet"}}

// recordingPlugin is a CNIPlugin that records the pods it is asked to set
// up and tear down and answers with canned results. Methods SetUp does
// not use are left to the nil embedded interface, so a call to one fails
// the test loudly. SetUp calls it from one goroutine, so it needs no lock.
type recordingPlugin struct {
	ocicni.CNIPlugin
	setupErr, teardownErr error
	setups, teardowns     []ocicni.PodNetwork
}

func (p *recordingPlugin) SetUpPodWithContext(_ context.Context, pod ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	p.setups = append(p.setups, pod)
	if p.setupErr != nil {
		return nil, p.setupErr
	}
	out := make([]ocicni.NetResult, len(pod.Networks))
	for i, n := range pod.Networks {
		out[i] = ocicni.NetResult{NetAttachment: n, Result: podResult(n.Ifname, "02:00:00:00:00:01", "10.0.0.2/24", "10.0.0.1")}
	}
	return out, nil
}

func (p *recordingPlugin) TearDownPodWithContext(_ context.Context, pod ocicni.PodNetwork) error {
	p.teardowns = append(p.teardowns, pod)
	return p.teardownErr
}

// podResult is the result a bridge-like plugin gives: a host veth, the pod
// interface, one address on it and, with gw set, a default route.
func podResult(ifname, mac, cidr, gw string) *current.Result {
	ip, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		panic(err)
	}
	ipnet.IP = ip
	one := 1
	res := &current.Result{
		CNIVersion: "1.1.0",
		Interfaces: []*current.Interface{{Name: "veth1234", Mac: "0a:00:00:00:00:09"}, {Name: ifname, Mac: mac, Mtu: 1500, Sandbox: "/run/netns/x"}},
		IPs:        []*current.IPConfig{{Address: *ipnet, Interface: &one}},
	}
	if gw != "" {
		_, all, _ := net.ParseCIDR("0.0.0.0/0")
		res.IPs[0].Gateway = net.ParseIP(gw)
		res.Routes = []*cnitypes.Route{{Dst: *all, GW: net.ParseIP(gw)}}
	}
	return res
}

// mustParse parses or fails the test.
func mustParse(tb testing.TB, annotation string, opts ...Option) Selection {
	tb.Helper()
	sel, err := Parse(annotation, catalog, opts...)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", annotation, err)
	}
	return sel
}

// entryError returns err as an *EntryError or fails the test.
func entryError(tb testing.TB, err error) *EntryError {
	tb.Helper()
	var ee *EntryError
	if !errors.As(err, &ee) {
		tb.Fatalf("error %v (%T) is not an *EntryError", err, err)
	}
	return ee
}
