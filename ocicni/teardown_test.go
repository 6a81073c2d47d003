package ocicni

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netns"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestTearDownFromCacheInReverseAttachOrder(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b", "c")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	// Attach order b, c, a matches neither the cache's file-name order
	// (a, b, c) nor the ifname order (c, a, b), nor their reverses.
	pod := PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{
		{Name: "b", Ifname: "net2"}, {Name: "c", Ifname: "net0"}, {Name: "a", Ifname: "net1"},
	}}
	setUp(t, p, pod)
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	want := []string{
		"ADD b c1 net2", "ADD c c1 net0", "ADD a c1 net1",
		"DEL a c1 net1", "DEL c c1 net0", "DEL b c1 net2",
	}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after teardown = %v", c)
	}
}

// Networks attached by separate SetUpPod calls (hot-plugged) come off in
// reverse of the order the calls were made, not in file-name order.
func TestTearDownReversesAttachOrderAcrossSetUpCalls(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b", "c")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	for _, n := range []NetAttachment{{Name: "c", Ifname: "eth0"}, {Name: "a", Ifname: "eth1"}, {Name: "b", Ifname: "eth2"}} {
		setUp(t, p, PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{n}})
	}
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	want := []string{
		"ADD c c1 eth0", "ADD a c1 eth1", "ADD b c1 eth2",
		"DEL b c1 eth2", "DEL a c1 eth1", "DEL c c1 eth0",
	}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
}

func TestTearDownFromRequestInReverseOrder(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b", "c")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "c"}, {Name: "a"}, {Name: "b"}}}
	setUp(t, p, pod)
	// Only a and c: b stays attached.
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: pod.NetNS, Networks: []NetAttachment{{Name: "c"}, {Name: "a"}}})
	want := []string{"ADD c c1 eth0", "ADD a c1 eth1", "ADD b c1 eth2", "DEL a c1 eth1", "DEL c c1 eth0"}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"b-c1-eth2"}) {
		t.Fatalf("cache = %v, want only b's entry", c)
	}
}

func TestTearDownUsesConfigCachedAtSetup(t *testing.T) {
	for _, change := range []string{"rewritten", "deleted"} {
		t.Run(change, func(t *testing.T) {
			e := newEnv(t)
			old, p := e.oneNet("1.0.0", "10.0.0.1")
			ns := testutil.NewNetNS(t)
			pod := PodNetwork{Name: "web", Namespace: "prod", ID: "c1", UID: "u1", NetNS: ns,
				RuntimeConfig: map[string]RuntimeConfig{"n": {IP: "10.0.0.1"}}}
			setUp(t, p, pod)
			addArgs := testutil.LastCall(t, old.debug).CmdArgs.Args
			var now noopPlug
			if change == "rewritten" {
				now = e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.9", "")
			} else if err := os.Remove(e.confDir + "/10-n.conflist"); err != nil {
				t.Fatal(err)
			}
			// The teardown request carries none of the setup's arguments.
			tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
			if got := testutil.Commands(t, old.log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
				t.Fatalf("plugin of the setup's config got %v, want ADD DEL", got)
			}
			if now.log != "" {
				if got := testutil.Commands(t, now.log); len(got) != 0 {
					t.Fatalf("plugin of the current config got %v, want nothing", got)
				}
			}
			del := testutil.LastCall(t, old.debug).CmdArgs
			if del.Args != addArgs {
				t.Fatalf("DEL CNI_ARGS = %q, want the ADD's %q", del.Args, addArgs)
			}
			prev, _ := testutil.StdinConf(t, del.StdinData)["prevResult"].(map[string]any)
			if !strings.Contains(testutil.MustJSON(prev), "10.0.0.1/24") {
				t.Fatalf("DEL prevResult = %v, want the cached ADD result", prev)
			}
			if c := e.cacheFiles(); len(c) != 0 {
				t.Fatalf("cache after teardown = %v", c)
			}
		})
	}
}

func TestTearDownWithoutCacheFallsBackToCurrentConfigWithWarning(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	ns := testutil.NewNetNS(t)
	// Nothing requested and nothing cached: the default network gets a
	// DEL, as cri-o/ocicni does, since the sandbox may have been set up
	// before an upgrade or by a process that died before recording it.
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"DEL"}) {
		t.Fatalf("plugin got %v, want the default network's DEL", got)
	}
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "n"}}})
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"DEL", "DEL"}) {
		t.Fatalf("plugin got %v, want DEL from the current config", got)
	}
	warned := false
	for _, en := range e.logs.AllEntries() {
		if en.Level == logrus.WarnLevel && en.Data["network"] == "n" && en.Data["pod_id"] == "c1" && strings.Contains(en.Message, "current configuration") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("no warning about tearing down n with the current configuration; logs: %v", e.logs.AllEntries())
	}
}

func TestTearDownKeepsGoingAndJoinsErrors(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	nets := e.noopNets(log, "a", "b", "c")
	a, c := nets[0], nets[2]
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "a"}, {Name: "b"}, {Name: "c"}}})
	testutil.SetDebug(t, a.debug, debug.Debug{ReportError: "a is stuck", ReportErrorCode: 101})
	testutil.SetDebug(t, c.debug, debug.Debug{ReportError: "c is stuck", ReportErrorCode: 102})

	err := p.TearDownPod(PodNetwork{ID: "c1", NetNS: ns})
	errs := testutil.Joined(err)
	if len(errs) != 2 {
		t.Fatalf("err = %v, want two joined errors", err)
	}
	codes := opErrorCodes(t, err, "del")
	if !reflect.DeepEqual(codes, []int{101, 102}) {
		t.Fatalf("error codes = %v, want 101 and 102", codes)
	}
	want := []string{"ADD a c1 eth0", "ADD b c1 eth1", "ADD c c1 eth2", "DEL c c1 eth2", "DEL b c1 eth1", "DEL a c1 eth0"}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	// A failed DEL keeps its cache entry, so a retry can finish the job.
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"a-c1-eth0", "c-c1-eth2"}) {
		t.Fatalf("cache after partial teardown = %v", got)
	}
	testutil.SetDebug(t, a.debug, debug.Debug{})
	testutil.SetDebug(t, c.debug, debug.Debug{})
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after retry = %v", got)
	}
}

func TestTearDownIsIdempotent(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	for i := range 3 {
		if err := p.TearDownPod(pod); err != nil {
			t.Fatalf("teardown %d: %v", i+1, err)
		}
	}
	// Each repeat finds nothing cached and sends the default network a DEL
	// (as cri-o/ocicni does), which a plugin must accept.
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"ADD", "DEL", "DEL", "DEL"}) {
		t.Fatalf("plugin got %v, want one ADD and a DEL per teardown", got)
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after teardown = %v", c)
	}
}

func TestTearDownWithEmptyOrDeletedNetNS(t *testing.T) {
	for _, path := range []string{"empty", "deleted"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t)
			np, p := e.oneNet("1.0.0", "10.0.0.1")
			ns := testutil.NewNetNS(t)
			setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
			if err := netns.DeleteNamed(ns[strings.LastIndex(ns, "/")+1:]); err != nil {
				t.Fatal(err)
			}
			req := PodNetwork{ID: "c1", NetNS: ns}
			if path == "empty" {
				req.NetNS = ""
			}
			tearDown(t, p, req)
			if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
				t.Fatalf("plugin got %v", got)
			}
			// The cached path is gone, so plugins are told there is none
			// rather than handed a dangling path.
			if got := testutil.LastCall(t, np.debug).CmdArgs.Netns; path == "empty" && got != "" {
				t.Fatalf("DEL CNI_NETNS = %q, want empty", got)
			}
			if c := e.cacheFiles(); len(c) != 0 {
				t.Fatalf("cache after teardown = %v", c)
			}
		})
	}
}

// A runtime restart loses nothing: a new Plugin on the same cache dir
// reports and tears down a pod set up by the old one, in reverse attach
// order, even though the networks' files are gone by then.
func TestNewPluginTearsDownPodOfPreviousProcess(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", log)
	e.noopNet("20-b.conflist", "b", "1.0.0", "10.0.1.1", log)
	old := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "b"}, {Name: "a"}}}
	if _, err := old.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	if err := old.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"10-a.conflist", "20-b.conflist"} {
		if err := os.Remove(filepath.Join(e.confDir, f)); err != nil {
			t.Fatal(err)
		}
	}

	restarted := e.plugin(WithWatch(false))
	st, err := restarted.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: pod.NetNS})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Name != "b" || st[1].Name != "a" {
		t.Fatalf("status after restart = %+v, want b then a", st)
	}
	if err := restarted.TearDownPod(PodNetwork{ID: "c1", NetNS: pod.NetNS}); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADD b c1 eth0", "ADD a c1 eth1", "CHECK b c1 eth0", "CHECK a c1 eth1", "DEL a c1 eth1", "DEL b c1 eth0"}
	if got := testutil.Events(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v\nwant %v", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}

// The cache index holds nothing of pods that are gone: after pods with
// dashed IDs on two networks are set up and then torn down, GC'd, or
// rolled back, it is empty. The old index dropped a name only when an
// operation on the same sandbox found its file gone, so it grew by about
// 1.2 KB for every pod ever set up (issue 17.8).
func TestCacheIndexEmptyAfterPodsGo(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "my-net", "net")
	p := e.plugin(WithWatch(false), serialGC())
	ns := testutil.NewNetNS(t)
	nets := []NetAttachment{{Name: "my-net"}, {Name: "net"}}
	for i := range 10 {
		setUp(t, p, PodNetwork{ID: fmt.Sprintf("cnitool-%d-b", i), NetNS: ns, Networks: nets})
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatalf("GC: %v", err)
	}
	// GC ends with a full listing, which drops what is gone; teardowns
	// come after it, so only dropping at each DEL empties the index.
	for i := range 10 {
		setUp(t, p, PodNetwork{ID: fmt.Sprintf("cnitool-%d-a", i), NetNS: ns, Networks: nets})
		tearDown(t, p, PodNetwork{ID: fmt.Sprintf("cnitool-%d-a", i), NetNS: ns})
	}
	// A setup naming an unknown network is refused before anything is
	// recorded.
	if _, err := p.SetUpPod(PodNetwork{ID: "x-1", NetNS: ns, Networks: []NetAttachment{{Name: "net"}, {Name: "gone"}}}); err == nil {
		t.Fatal("setup on an unknown network succeeded")
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache = %v, want it empty", got)
	}
	if n := p.store.Indexed(); n != 0 {
		t.Fatalf("index holds %d names once every pod is gone, want 0", n)
	}
}
