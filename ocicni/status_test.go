package ocicni

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/testutil"
)

func firstIP(t *testing.T, r cnitypes.Result) string {
	t.Helper()
	res, err := current.NewResultFromResult(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IPs) == 0 {
		t.Fatalf("result has no addresses: %v", res)
	}
	return res.IPs[0].Address.String()
}

func TestPodNetworkStatusChecksThenReturnsCachedResult(t *testing.T) {
	cases := []struct {
		name      string
		version   string
		top       map[string]any
		wantCheck bool
	}{
		{"1.0.0", "1.0.0", nil, true},
		{"disableCheck", "1.0.0", map[string]any{"disableCheck": true}, false},
		{"0.3.1 has no CHECK", "0.3.1", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor(c.version, "10.0.0.7")}, "", nil)
			e.writeList("10-n.conflist", "n", c.version, c.top, conf)
			p := e.plugin(WithWatch(false))
			ns := testutil.NewNetNS(t)
			setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
			res, err := p.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: ns})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Name != "n" || res[0].Ifname != "eth0" || firstIP(t, res[0].Result) != "10.0.0.7/24" {
				t.Fatalf("status = %+v", res)
			}
			want := []string{"ADD"}
			if c.wantCheck {
				want = append(want, "CHECK")
			}
			if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, want) {
				t.Fatalf("plugin got %v, want %v", got, want)
			}
		})
	}
}

func TestPodNetworkStatusReturnsFailedCheck(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.7")
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
	testutil.SetDebug(t, np.debug, debug.Debug{ReportError: "interface vanished", ReportErrorCode: 120})
	res, err := p.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: ns})
	var ce *cnitypes.Error
	var op *OpError
	if res != nil || !errors.As(err, &ce) || ce.Code != 120 || !errors.As(err, &op) || op.Network != "n" {
		t.Fatalf("status = %v, %v; want the CHECK's *types.Error with code 120 in an OpError", res, err)
	}
}

func TestPodNetworkStatusWithoutCacheReadsNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.7")
	ns := testutil.NewNetNS(t)
	// An interface the pod has but the cache knows nothing of, made
	// inside the test's own pod netns through a handle opened there.
	h, err := handleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	mac, _ := net.ParseMAC("02:42:ac:11:00:02")
	// A veth pair rather than a dummy link, since the dummy module may not
	// be loaded; both ends stay inside the pod netns.
	link := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0", HardwareAddr: mac}, PeerName: "peer0"}
	if err := h.LinkAdd(link); err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("10.9.8.7/24")
	if err := h.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}

	res, err := p.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "n"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Ifname != "eth0" || firstIP(t, res[0].Result) != "10.9.8.7/24" {
		t.Fatalf("status = %+v", res)
	}
	r, _ := current.NewResultFromResult(res[0].Result)
	if len(r.Interfaces) != 1 || r.Interfaces[0].Mac != "02:42:ac:11:00:02" {
		t.Fatalf("interfaces = %+v", r.Interfaces)
	}
	if got := testutil.Commands(t, np.log); len(got) != 0 {
		t.Fatalf("plugin got %v; nothing cached means nothing to CHECK", got)
	}
}

func TestStatusReadiness(t *testing.T) {
	t.Run("no config", func(t *testing.T) {
		e := newEnv(t)
		err := e.plugin(WithWatch(false)).Status()
		if !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrNoDefaultNetwork) || !strings.Contains(err.Error(), "no valid CNI configuration file in "+e.confDir) {
			t.Fatalf("Status = %v", err)
		}
	})
	t.Run("invalid file", func(t *testing.T) {
		e := newEnv(t)
		e.writeList("10-n.conflist", "n", "1.0.0", nil, map[string]any{"type": "gone"})
		err := e.plugin(WithWatch(false)).Status()
		if !errors.Is(err, ErrNotReady) ||
			!strings.Contains(err.Error(), "skipped "+filepath.Join(e.confDir, "10-n.conflist")) ||
			!strings.Contains(err.Error(), `plugin "gone" is missing from `+e.binDir) {
			t.Fatalf("Status = %v", err)
		}
	})
	t.Run("plugin removed after load", func(t *testing.T) {
		e := newEnv(t)
		e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
		p := e.plugin(WithWatch(false))
		if err := p.Status(); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(e.binDir, "noop")); err != nil {
			t.Fatal(err)
		}
		err := p.Status()
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), `plugin "noop" is missing from `+e.binDir) {
			t.Fatalf("Status = %v", err)
		}
	})
	t.Run("ready with default", func(t *testing.T) {
		e := newEnv(t)
		np := e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
		if err := e.plugin(WithWatch(false)).Status(); err != nil {
			t.Fatal(err)
		}
		// STATUS exists from 1.1.0 on only.
		if got := testutil.Commands(t, np.log); len(got) != 0 {
			t.Fatalf("plugin got %v for a 1.0.0 network", got)
		}
	})
}

func TestStatusRunsStatusVerb(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.1.0", "10.0.0.1")
	waitAnswered(t, p)
	if err := p.Status(); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"STATUS"}) {
		t.Fatalf("plugin got %v, want STATUS", got)
	}
	testutil.SetDebug(t, np.debug, debug.Debug{ReportError: "network unavailable", ReportErrorCode: 50})
	// The background poll asks again on its interval.
	p = e.plugin(WithWatch(false), WithStatusInterval(10*time.Millisecond))
	waitAnswered(t, p)
	testutil.Eventually(t, waitFor, func() bool { return p.Status() != nil }, "the failing STATUS never reported")
	err := p.Status()
	var ce *cnitypes.Error
	if !errors.Is(err, ErrNotReady) || !errors.As(err, &ce) || ce.Code != 50 || !strings.Contains(err.Error(), `default network "n"`) {
		t.Fatalf("Status = %v, want ErrNotReady carrying the plugin's code 50", err)
	}
}

// The plugins of the default chain answer STATUS at once, not in turn, and
// a failure is reported for the first failing plugin in chain order, as
// libcni's walk reports it. Each plugin here waits for all three STATUS
// calls to have started before it answers, so a walk one at a time fails.
func TestStatusAsksChainPluginsAtOnce(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	dir := t.TempDir()
	together := map[string]string{"STATUS": "rendezvous"}
	extra := []any{"rendezvousDir", dir, "rendezvousCount", 3}
	e.writeList("10-n.conflist", "n", "1.1.0", nil,
		testutil.FaultyPlugin(log, together, extra...), testutil.FaultyPlugin(log, together, extra...), testutil.FaultyPlugin(log, together, extra...))
	p := e.plugin(WithWatch(false))
	waitAnswered(t, p)
	if err := p.Status(); err != nil {
		t.Fatalf("Status = %v, want ready once all three plugins answered together", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"STATUS", "STATUS", "STATUS"}) {
		t.Fatalf("plugins got %v", got)
	}

	e.writeList("10-n.conflist", "n", "1.1.0", nil,
		testutil.FaultyPlugin(log, nil),
		testutil.FaultyPlugin(log, map[string]string{"STATUS": "error"}, "errorCode", 51),
		testutil.FaultyPlugin(log, map[string]string{"STATUS": "error"}, "errorCode", 52))
	waitConf(t, p, "n", func(n *netconf.Network) bool {
		return len(n.List.Plugins) == 3 && strings.Contains(string(n.List.Bytes), "51")
	})
	// The poll asks again for the changed default network.
	testutil.Eventually(t, waitFor, func() bool { return p.Status() != nil }, "the changed network's STATUS never reported")
	var ce *cnitypes.Error
	if err := p.Status(); !errors.Is(err, ErrNotReady) || !errors.As(err, &ce) || ce.Code != 51 {
		t.Fatalf("Status = %v, want ErrNotReady with the second plugin's code 51", err)
	}
}
