package ocicni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

type badInput struct {
	name string
	mod  func(pod *PodNetwork)
	want error
}

func rc(mod func(r *RuntimeConfig)) func(pod *PodNetwork) {
	return func(pod *PodNetwork) {
		var r RuntimeConfig
		mod(&r)
		pod.RuntimeConfig = map[string]RuntimeConfig{"net1": r}
	}
}

func ports(pms ...PortMapping) func(pod *PodNetwork) {
	return rc(func(r *RuntimeConfig) { r.PortMappings = pms })
}

func ifnames(names ...string) func(pod *PodNetwork) {
	return func(pod *PodNetwork) {
		for _, n := range names {
			pod.Networks = append(pod.Networks, NetAttachment{Name: "net1", Ifname: n})
		}
	}
}

func sandboxID(id string) func(pod *PodNetwork) {
	return func(pod *PodNetwork) { pod.ID = id }
}

// badIDs are refused by every pod operation, not only setup.
var badIDs = []badInput{
	{"empty sandbox ID", sandboxID(""), ErrInvalidPodNetwork},
	{"sandbox ID with slash", sandboxID("../../etc"), ErrInvalidPodNetwork},
	{"sandbox ID with space", sandboxID("abc def"), ErrInvalidPodNetwork},
	{"sandbox ID with semicolon", sandboxID("abc;IP=10.0.0.1"), ErrInvalidPodNetwork},
	{"sandbox ID starting with dash", sandboxID("-abc"), ErrInvalidPodNetwork},
	{"sandbox ID with NUL", sandboxID("abc\x00def"), ErrInvalidPodNetwork},
	{"sandbox ID with non-ASCII", sandboxID("abcé"), ErrInvalidPodNetwork},
	{"pod name smuggling a CNI_ARGS key", func(p *PodNetwork) { p.Name = "web;IP=10.9.9.9" }, ErrInvalidPodNetwork},
	{"pod namespace with =", func(p *PodNetwork) { p.Namespace = "shop=evil" }, ErrInvalidPodNetwork},
	{"pod UID with ;", func(p *PodNetwork) { p.UID = "u1;K8S_POD_NAME=other" }, ErrInvalidPodNetwork},
	{"pod name with NUL", func(p *PodNetwork) { p.Name = "web\x00" }, ErrInvalidPodNetwork},
}

// badSetups are refused by setup.
var badSetups = []badInput{
	{"sandbox ID too long for a cache file name", sandboxID(strings.Repeat("a", 250)), ErrInvalidPodNetwork},
	{"no netns path", func(p *PodNetwork) { p.NetNS = "" }, ErrInvalidPodNetwork},
	{"netns path missing", func(p *PodNetwork) { p.NetNS = "/run/netns/does-not-exist" }, ErrInvalidPodNetwork},
	{"netns path is a regular file", func(p *PodNetwork) { p.NetNS = "/etc/hostname" }, ErrInvalidPodNetwork},
	{"netns path is a directory", func(p *PodNetwork) { p.NetNS = "/run/netns" }, ErrInvalidPodNetwork},
	{"netns path is a mount namespace", func(p *PodNetwork) { p.NetNS = "/proc/self/ns/mnt" }, ErrInvalidPodNetwork},
	{"netns path is a procfs file", func(p *PodNetwork) { p.NetNS = "/proc/self/status" }, ErrInvalidPodNetwork},
	{"unknown network", func(p *PodNetwork) { p.Networks = []NetAttachment{{Name: "nosuchnet"}} }, ErrNetworkNotFound},
	{"empty network name", func(p *PodNetwork) { p.Networks = []NetAttachment{{Name: ""}} }, ErrNetworkNotFound},
	{"unknown network after a good one", func(p *PodNetwork) {
		p.Networks = []NetAttachment{{Name: "net1"}, {Name: "nosuchnet"}}
	}, ErrNetworkNotFound},
	{"ifname over 15 bytes", ifnames("averyveryverylong0"), ErrInvalidPodNetwork},
	{"ifname with slash", ifnames("eth/0"), ErrInvalidPodNetwork},
	{"ifname with colon", ifnames("eth:0"), ErrInvalidPodNetwork},
	{"ifname with space", ifnames("eth 0"), ErrInvalidPodNetwork},
	{"ifname with tab", ifnames("eth\t0"), ErrInvalidPodNetwork},
	{"ifname dot", ifnames("."), ErrInvalidPodNetwork},
	{"ifname dotdot", ifnames(".."), ErrInvalidPodNetwork},
	{"duplicate ifnames", ifnames("net0", "net0"), ErrInvalidPodNetwork},
	{"invalid IP", rc(func(r *RuntimeConfig) { r.IP = "10.0.0.300" }), ErrInvalidPodNetwork},
	{"IP smuggling a CNI_ARGS key", rc(func(r *RuntimeConfig) { r.IP = "10.0.0.3;MAC=00:11:22:33:44:55" }), ErrInvalidPodNetwork},
	{"invalid MAC", rc(func(r *RuntimeConfig) { r.MAC = "00:11:22:33:44" }), ErrInvalidPodNetwork},
	{"MAC smuggling a CNI_ARGS key", rc(func(r *RuntimeConfig) { r.MAC = "00:11:22:33:44:55;IP=1.2.3.4" }), ErrInvalidPodNetwork},
	{"invalid ips entry", rc(func(r *RuntimeConfig) { r.IPs = []string{"10.0.0.1/33"} }), ErrInvalidPodNetwork},
	{"host port 0", ports(PortMapping{HostPort: 0, ContainerPort: 80}), ErrInvalidPodNetwork},
	{"host port 65536", ports(PortMapping{HostPort: 65536, ContainerPort: 80}), ErrInvalidPodNetwork},
	{"negative container port", ports(PortMapping{HostPort: 8080, ContainerPort: -80}), ErrInvalidPodNetwork},
	{"unknown protocol", ports(PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "icmp"}), ErrInvalidPodNetwork},
	{"invalid host IP", ports(PortMapping{HostPort: 8080, ContainerPort: 80, HostIP: "localhost"}), ErrInvalidPodNetwork},
	{"invalid ipRanges subnet", rc(func(r *RuntimeConfig) { r.IpRanges = [][]IpRange{{{Subnet: "10.0.0.0/40"}}} }), ErrInvalidPodNetwork},
}

// Bad pod input is refused before any plugin runs, with an error matching
// ErrInvalidPodNetwork (ErrNetworkNotFound for an unknown network), and
// leaves nothing in the cache.
func TestBadInputRefusedBeforeAnyPlugin(t *testing.T) {
	e := newFaultEnv(t)
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin()
	netns := testutil.NewNetNS(t)
	base := func() PodNetwork {
		return PodNetwork{Name: "web", Namespace: "shop", ID: "sb1", UID: "u1", NetNS: netns}
	}
	ctx := context.Background()
	ops := []struct {
		name string
		run  func(PodNetwork) error
		set  []badInput
	}{
		{"setup", func(pod PodNetwork) error { _, err := p.SetUpPodWithContext(ctx, pod); return err }, append(append([]badInput{}, badIDs...), badSetups...)},
		{"teardown", func(pod PodNetwork) error { return p.TearDownPodWithContext(ctx, pod) }, badIDs},
		{"status", func(pod PodNetwork) error { _, err := p.GetPodNetworkStatusWithContext(ctx, pod); return err }, badIDs},
	}
	for _, op := range ops {
		for _, c := range op.set {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				pod := base()
				c.mod(&pod)
				err := op.run(pod)
				if !errors.Is(err, c.want) {
					t.Fatalf("error %v, want %v", err, c.want)
				}
				if got := testutil.Commands(t, logs[0]); len(got) != 0 {
					t.Fatalf("a plugin ran: %v", got)
				}
				if got := e.cacheFiles(); len(got) != 0 {
					t.Fatalf("cache = %v", got)
				}
			})
		}
	}
}

// GC refuses a nil or ID-less entry in validPods before deleting anything:
// a caller bug must not be read as "this pod is gone".
func TestBadInputGCValidPods(t *testing.T) {
	e := newFaultEnv(t)
	dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")})
	logs := e.writeNoopList("10-net.conflist", "net1", "1.1.0", dbg)
	p := e.plugin()
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	for _, valid := range [][]*PodNetwork{{nil}, {&pod, nil}, {{Name: "x"}}} {
		if err := p.GC(context.Background(), valid); !errors.Is(err, ErrInvalidPodNetwork) {
			t.Fatalf("GC(%v): %v, want ErrInvalidPodNetwork", valid, err)
		}
	}
	if got := testutil.WithoutStatus(testutil.Commands(t, logs[0])); len(got) != 1 {
		t.Fatalf("plugin calls after refused GCs = %v, want only the ADD", got)
	}
	if got := e.cacheFiles(); len(got) != 1 {
		t.Fatalf("cache = %v", got)
	}
}

// A netns path that is a symlink to a real network namespace is accepted,
// so the checks above refuse what is wrong and not merely what is unusual.
func TestBadInputNetNSSymlinkAccepted(t *testing.T) {
	e := newFaultEnv(t)
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin()
	link := filepath.Join(t.TempDir(), "ns")
	if err := os.Symlink(testutil.NewNetNS(t), link); err != nil {
		t.Fatal(err)
	}
	setUp(t, p, PodNetwork{ID: "sb1", NetNS: link})
	if got := testutil.Commands(t, logs[0]); len(got) != 1 {
		t.Fatalf("plugin calls = %v", got)
	}
}
