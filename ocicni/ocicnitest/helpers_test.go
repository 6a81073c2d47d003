package ocicnitest_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// The two networks every subject loads; netA is the default.
const (
	netA = "net-a"
	netB = "net-b"
)

// subject is one CNIPlugin under the contract, with the hooks the suite
// needs to drive the fake and the real plugin the same way.
type subject struct {
	plugin ocicni.CNIPlugin
	// subnets holds each network's address range.
	subnets map[string]*net.IPNet
	// netns returns a network namespace path for a new pod.
	netns func() string
	// fail makes every verb of network fail with a CNI error of code,
	// until clear.
	fail func(network string, verb ocicnitest.Verb, code uint)
	// hang makes every verb of network block until its context ends,
	// until clear.
	hang  func(network string, verb ocicnitest.Verb)
	clear func()
	// ops lists the sandbox's network operations in the order they
	// started, each "VERB ifname"; those still running included.
	ops func(sandbox string) []string

	pods atomic.Int32
}

// pod describes a new pod of the subject on the given networks.
func (s *subject) pod(name string, nets ...ocicni.NetAttachment) ocicni.PodNetwork {
	n := s.pods.Add(1)
	return ocicni.PodNetwork{
		Name: name, Namespace: "contract", UID: "uid-" + name,
		ID: fmt.Sprintf("sb%d%s", n, name), NetNS: s.netns(), Networks: nets,
	}
}

// newFakeSubject is the fake, with the pod's netns being the test
// process's own: a real network namespace file the fake never touches.
func newFakeSubject(t *testing.T) *subject {
	p := ocicnitest.New(ocicnitest.WithNetworks(netA, netB))
	t.Cleanup(func() { _ = p.Shutdown() })
	return &subject{
		plugin: p,
		subnets: map[string]*net.IPNet{
			netA: {IP: net.IPv4(10, 88, 0, 0).To4(), Mask: net.CIDRMask(24, 32)},
			netB: {IP: net.IPv4(10, 88, 1, 0).To4(), Mask: net.CIDRMask(24, 32)},
		},
		netns: func() string { return "/proc/self/ns/net" },
		fail: func(network string, verb ocicnitest.Verb, code uint) {
			p.Inject(ocicnitest.Fault{Network: network, Verb: verb, Code: code, Msg: "boom"})
		},
		hang: func(network string, verb ocicnitest.Verb) {
			p.Inject(ocicnitest.Fault{Network: network, Verb: verb, Hang: true})
		},
		clear: p.ClearFaults,
		ops: func(sandbox string) []string {
			var out []string
			for _, c := range p.Calls() {
				for _, s := range c.Steps {
					if s.Sandbox == sandbox {
						out = append(out, string(s.Verb)+" "+s.Ifname)
					}
				}
			}
			return out
		},
	}
}

var realCounter atomic.Int32

// newRealSubject is the real library, each network a chain of bridge with
// host-local IPAM (real interfaces and addresses, in a throwaway netns)
// followed by the faulty test plugin, which passes the bridge's result
// through and is scripted through its control file. Every faulty call is
// logged to one shared command log, so the order across networks shows.
func newRealSubject(t *testing.T) *subject {
	testutil.RequireRoot(t)
	n := realCounter.Add(1)
	binDir := testutil.LinkPlugins(t, "bridge", "host-local")
	testutil.CopyPlugin(t, "faulty", binDir)
	confDir, cacheDir, dataDir := t.TempDir(), t.TempDir(), t.TempDir()
	log := filepath.Join(t.TempDir(), "faulty.log")
	s := &subject{subnets: map[string]*net.IPNet{}, netns: func() string { return testutil.NewNetNS(t) }}
	for i, name := range []string{netA, netB} {
		bridge := fmt.Sprintf("ct%d%c", n, 'a'+i)
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.%d.%d.0/24", 90+i, n))
		s.subnets[name] = subnet
		testutil.WriteJSON(t, confDir, fmt.Sprintf("%d-%s.conflist", 10+i, name), map[string]any{
			"cniVersion": "1.1.0", "name": name,
			"plugins": []map[string]any{{
				"type": "bridge", "bridge": bridge, "isGateway": true,
				"ipam": map[string]any{"type": "host-local", "dataDir": dataDir, "ranges": [][]map[string]string{{{"subnet": subnet.String()}}}},
			}, {"type": "faulty", "commandLog": log}},
		})
		t.Cleanup(func() {
			if l, err := netlink.LinkByName(bridge); err == nil {
				_ = netlink.LinkDel(l)
			}
		})
	}
	p, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(binDir), ocicni.WithCacheDir(cacheDir), ocicni.WithDefaultNetwork(netA),
		ocicni.WithStatusInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	s.plugin = p

	var mu sync.Mutex // guards faults and code, and the control file they are written to
	faults, code := map[string]string{}, uint(0)
	control := func() {
		testutil.WriteJSON(t, binDir, "faulty.control.json", map[string]any{"faults": faults, "errorCode": code, "errorMsg": "boom"})
	}
	s.fail = func(network string, verb ocicnitest.Verb, c uint) {
		mu.Lock()
		defer mu.Unlock()
		faults[string(verb)+":"+network], code = "error", c
		control()
	}
	s.hang = func(network string, verb ocicnitest.Verb) {
		mu.Lock()
		defer mu.Unlock()
		faults[string(verb)+":"+network] = "hang"
		control()
	}
	s.clear = func() {
		mu.Lock()
		defer mu.Unlock()
		clear(faults)
		if err := os.Remove(filepath.Join(binDir, "faulty.control.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	s.ops = func(sandbox string) []string {
		f, err := os.Open(log)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) == 3 && fs[1] == sandbox {
				out = append(out, fs[0]+" "+fs[2])
			}
		}
		return out
	}
	return s
}

// address checks that res is a CNI result for ifname in netns with an
// address in subnet, and returns that address.
func address(t *testing.T, res ocicni.NetResult, subnet *net.IPNet, ifname, netns string) net.IP {
	t.Helper()
	r, err := current.NewResultFromResult(res.Result)
	if err != nil {
		t.Fatalf("result of %s is not a CNI result: %v", res.Name, err)
	}
	for _, ip := range r.IPs {
		if ip.Interface == nil || *ip.Interface >= len(r.Interfaces) {
			continue
		}
		iface := r.Interfaces[*ip.Interface]
		if iface.Name == ifname && iface.Sandbox == netns && subnet.Contains(ip.Address.IP) {
			return ip.Address.IP
		}
	}
	t.Fatalf("result of %s has no address in %s on %s in %s: %s", res.Name, subnet, ifname, netns, r)
	return nil
}

// attachments lists a status's attachments as "network/ifname".
func attachments(rs []ocicni.NetResult) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name+"/"+r.Ifname)
	}
	return out
}

// fakePod is a pod on the fake whose netns is the test process's own.
func fakePod(id string, nets ...string) ocicni.PodNetwork {
	pod := ocicni.PodNetwork{Name: id, Namespace: "ns", ID: id, NetNS: "/proc/self/ns/net"}
	for _, n := range nets {
		pod.Networks = append(pod.Networks, ocicni.NetAttachment{Name: n})
	}
	return pod
}

// ips sets the pod up and returns each result's "ifname address gateway mac".
func ips(t *testing.T, p *ocicnitest.Plugin, pod ocicni.PodNetwork) []string {
	t.Helper()
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		cr, err := current.NewResultFromResult(r.Result)
		if err != nil {
			t.Fatal(err)
		}
		if len(cr.Routes) != 1 || cr.Routes[0].Dst.String() != "0.0.0.0/0" || !cr.Routes[0].GW.Equal(cr.IPs[0].Gateway) {
			t.Fatalf("routes %v, want a default route via the gateway", cr.Routes)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", cr.Interfaces[0].Name, &cr.IPs[0].Address, cr.IPs[0].Gateway, cr.Interfaces[0].Mac))
	}
	return out
}

// waitStep waits until a step of verb on sandbox has started.
func waitStep(t *testing.T, p *ocicnitest.Plugin, sandbox string, verb ocicnitest.Verb) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() bool {
		for _, c := range p.Calls() {
			for _, s := range c.Steps {
				if s.Sandbox == sandbox && s.Verb == verb {
					return true
				}
			}
		}
		return false
	}, "no %s on %s started", verb, sandbox)
}
