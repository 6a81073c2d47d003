package ocicni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/internal/testutil"
)

// brokenFaults makes the faulty plugin fail both ADD and DEL because of
// what its configuration says, as a wrong IPAM section would.
var brokenFaults = map[string]string{"ADD": "error", "DEL": "error"}

// breakThenSetUp writes network net1 as a faulty plugin whose
// configuration makes ADD and DEL fail, and runs a setup that fails with a
// failed rollback. It returns the plugin, the pod and the command log.
func breakThenSetUp(t *testing.T, e *env) (*Plugin, PodNetwork, string) {
	t.Helper()
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil,
		testutil.FaultyPlugin(log, brokenFaults, "errorMsg", "cached config is broken"))
	p := e.plugin(WithWatch(false))
	pod := webPod(t, "sb1")
	_, err := p.SetUpPod(pod)
	if err == nil || !strings.Contains(err.Error(), "rollback also failed") {
		t.Fatalf("setup error = %v, want the ADD error and a failed rollback", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin saw %v, want ADD then the rollback DEL", got)
	}
	return p, pod, log
}

// waitConf waits until the plugin's configuration of network name
// satisfies cond, reading it as an operation would.
func waitConf(t *testing.T, p *Plugin, name string, cond func(*netconf.Network) bool) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		n := currentSet(p).Lookup(name)
		return n != nil && cond(n)
	}, "network %q never reached the wanted configuration", name)
}

// fixNet1 rewrites net1 the way an admin repairs it, with faults (nil for
// none) and errorMsg, and waits until the plugin has loaded the new file.
func fixNet1(t *testing.T, e *env, p *Plugin, log string, faults map[string]string, errorMsg string) {
	t.Helper()
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, faults, "errorMsg", errorMsg))
	waitConf(t, p, "net1", func(n *netconf.Network) bool { return bytes.Contains(n.List.Bytes, []byte(errorMsg)) })
}

// A network whose configuration makes ADD and DEL fail leaves a record of
// the owed DEL; once the admin fixes the file, a teardown by sandbox ID
// frees the sandbox: the DEL with the broken cached configuration fails,
// the retry with the current one succeeds, the record goes, and the pod
// can be set up again. The old code DEL'd only with the cached
// configuration, so the sandbox stayed stuck (every teardown failed and
// every setup was ErrAlreadyAttached) until someone deleted the cache file
// by hand.
func TestOwedDelFreedByTeardownAfterConfigFix(t *testing.T) {
	e := newFaultEnv(t)
	p, pod, log := breakThenSetUp(t, e)

	if got := e.cacheFiles(); len(got) != 1 || got[0] != "net1-sb1-eth0" || !e.isOwed(got[0]) {
		t.Fatalf("cache after failed setup = %v, want the owed DEL of net1-sb1-eth0 recorded", got)
	}
	if _, err := p.GetPodNetworkStatus(pod); err == nil || !strings.Contains(err.Error(), "owes a DEL") {
		t.Fatalf("status error = %v, want it to say the attachment owes a DEL", err)
	}
	if _, err := p.SetUpPod(pod); !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("second setup error = %v, want ErrAlreadyAttached", err)
	}

	fixNet1(t, e, p, log, nil, "fixed")
	if err := p.TearDownPod(PodNetwork{ID: pod.ID}); err != nil {
		t.Fatalf("teardown after the fix: %v", err)
	}
	// ADD, rollback DEL, DEL with the cached config (fails), DEL with the
	// current config (succeeds); no CHECK for the owed DEL.
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL", "DEL", "DEL"}) {
		t.Fatalf("plugin saw %v, want ADD DEL then the failed and the successful DEL", got)
	}
	if !e.hasLog("DEL with the current configuration succeeded") {
		t.Error("no warning that the cached configuration's DEL failed and the current one's succeeded")
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("setup after the fix: %v", err)
	}
	if len(res) != 1 || firstIP(t, res[0].Result) != "10.99.0.2/24" {
		t.Fatalf("setup after the fix = %+v", res)
	}
}

// GC frees a stale sandbox the same way: with the old code GC's DEL used
// only the cached configuration and failed on every run.
func TestOwedDelFreedByGCAfterConfigFix(t *testing.T) {
	e := newFaultEnv(t)
	p, _, log := breakThenSetUp(t, e)
	fixNet1(t, e, p, log, nil, "fixed")
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatalf("GC after the fix: %v", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL", "DEL", "DEL"}) {
		t.Fatalf("plugin saw %v, want ADD DEL then GC's failed and successful DEL", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after GC = %v, want it empty", got)
	}
}

// When the fixed file is still broken, the teardown error carries both
// failures, says which configuration each came from (naming the current
// file), and the owed DEL stays recorded for the next try.
func TestOwedDelErrorNamesBothConfigs(t *testing.T) {
	e := newFaultEnv(t)
	p, pod, log := breakThenSetUp(t, e)
	fixNet1(t, e, p, log, map[string]string{"DEL": "error"}, "current config is broken too")

	err := p.TearDownPod(PodNetwork{ID: pod.ID})
	if err == nil {
		t.Fatal("teardown succeeded with both configurations failing DEL")
	}
	for _, want := range []string{
		"cached at setup", "cached config is broken",
		"current configuration from", "10-net.conflist", "current config is broken too",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("teardown error %q does not say %q", err, want)
		}
	}
	var ce *cnitypes.Error
	var oe *OpError
	if !errors.As(err, &ce) || !errors.As(err, &oe) || oe.Network != "net1" || oe.Op != "del" {
		t.Fatalf("teardown error %v: want an OpError for net1 carrying the plugin's *types.Error", err)
	}
	if got := e.cacheFiles(); len(got) != 1 || !e.isOwed(got[0]) {
		t.Fatalf("cache after the failed teardown = %v, want the owed DEL still recorded", got)
	}
}

// singleConfNet writes the one-plugin configuration libcni's AddNetwork
// takes, for a noop plugin logging to log, and returns it.
func singleConfNet(t *testing.T, e *env, name, log string) *libcni.PluginConfig {
	t.Helper()
	conf, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.3")}, log, nil)
	conf["cniVersion"], conf["name"] = "1.0.0", name
	c, err := libcni.NetworkPluginConfFromBytes([]byte(testutil.MustJSON(conf)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A cache entry written by libcni's single-network AddNetwork (the path
// cri-o/ocicni takes for a .conf file) holds one plugin's configuration,
// not a list. A teardown by sandbox ID alone DELs it with that cached
// configuration and removes the file, whether the network is still loaded
// (with another plugin now) or gone. The old code parsed the cached config
// only as a list, so it found the entry unusable: it DEL'd with the
// current configuration, or, with the network gone, ran no DEL at all and
// left the file.
func TestTearDownRunsDelOfSingleConfCacheEntry(t *testing.T) {
	for _, loaded := range []bool{true, false} {
		name := "network gone"
		if loaded {
			name = "network rewritten"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.noopNet("10-other.conflist", "other", "1.0.0", "10.0.0.9", "")
			var current noopPlug
			if loaded {
				current = e.noopNet("20-n.conflist", "n", "1.0.0", "10.0.0.4", "")
			}
			cachedLog := e.newLog()
			ns := testutil.NewNetNS(t)
			cni := libcni.NewCNIConfigWithCacheDir([]string{e.binDir}, e.cache, nil)
			rt := &libcni.RuntimeConf{ContainerID: "sb1", NetNS: ns, IfName: "eth0"}
			if _, err := cni.AddNetwork(context.Background(), singleConfNet(t, e, "n", cachedLog), rt); err != nil {
				t.Fatal(err)
			}
			var entry struct {
				Kind   string          `json:"kind"`
				Config json.RawMessage `json:"config"`
			}
			data, err := os.ReadFile(filepath.Join(e.cache, "results", "n-sb1-eth0"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &entry); err != nil {
				t.Fatal(err)
			}
			var cfgBytes []byte
			if err := json.Unmarshal(entry.Config, &cfgBytes); err != nil {
				t.Fatal(err)
			}
			if entry.Kind != libcni.CNICacheV1 || !bytes.Contains(cfgBytes, []byte(`"type"`)) || bytes.Contains(cfgBytes, []byte(`"plugins"`)) {
				t.Fatalf("libcni wrote kind %q config %s; the test needs a single-plugin entry", entry.Kind, cfgBytes)
			}

			p := e.plugin(WithWatch(false))
			if err := p.TearDownPod(PodNetwork{ID: "sb1"}); err != nil {
				t.Fatalf("teardown: %v", err)
			}
			if got := testutil.Events(t, cachedLog); !reflect.DeepEqual(got, []string{"ADD n sb1 eth0", "DEL n sb1 eth0"}) {
				t.Fatalf("plugin of the cached config saw %v, want its ADD then the teardown's DEL", got)
			}
			if loaded {
				if got := testutil.Commands(t, current.log); len(got) != 0 {
					t.Fatalf("plugin of the current config saw %v, want nothing", got)
				}
			}
			if got := e.cacheFiles(); len(got) != 0 {
				t.Fatalf("cache after teardown = %v, want it empty", got)
			}
		})
	}
}

// gcVerbValid returns the valid attachments the GC verb received, from a
// noop command log; it fails the test when no GC was logged.
func gcVerbValid(t *testing.T, log string) []cnitypes.GCAttachment {
	t.Helper()
	entries, err := debug.ReadCommandLog(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range entries {
		if c.Command != "GC" {
			continue
		}
		var in struct {
			Valid []cnitypes.GCAttachment `json:"cni.dev/valid-attachments"`
		}
		if err := json.Unmarshal(c.CmdArgs.StdinData, &in); err != nil {
			t.Fatal(err)
		}
		return in.Valid
	}
	t.Fatalf("no GC verb in the command log %v", testutil.Events(t, log))
	return nil
}

// A running pod whose cache entry was lost (deleted by hand, or never
// written because the process died) is still reported as a valid
// attachment to the GC verb, computed from validPods as cri-o/ocicni does,
// so a plugin's GC does not free its address. The old code built the list
// from the cache alone, so the pod was missing from it.
func TestGCReportsValidPodWhoseCacheWasLost(t *testing.T) {
	cases := []struct {
		name   string
		nets   []NetAttachment
		ifname string
	}{
		{"default network", nil, "eth0"},
		{"named network and interface", []NetAttachment{{Name: "n", Ifname: "net5"}}, "net5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			log := e.newLog()
			e.noopNet("10-n.conflist", "n", "1.1.0", "10.0.0.1", log)
			p := e.plugin(WithWatch(false))
			pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: c.nets}
			setUp(t, p, pod)
			if err := os.Remove(filepath.Join(e.cache, "results", "n-c1-"+c.ifname)); err != nil {
				t.Fatal(err)
			}
			if err := p.GC(context.Background(), []*PodNetwork{&pod}); err != nil {
				t.Fatal(err)
			}
			want := []cnitypes.GCAttachment{{ContainerID: "c1", IfName: c.ifname}}
			if got := gcVerbValid(t, log); !reflect.DeepEqual(got, want) {
				t.Fatalf("GC verb valid attachments = %+v, want %+v", got, want)
			}
			if got := testutil.WithoutStatus(testutil.Events(t, log)); !reflect.DeepEqual(got, []string{"ADD n c1 " + c.ifname, "GC n"}) {
				t.Fatalf("plugin calls = %v, want the ADD and the GC verb only", got)
			}
		})
	}
}

// delNetNS returns the CNI_NETNS of every DEL a noop command log recorded.
func delNetNS(t *testing.T, log string) []string {
	t.Helper()
	entries, err := debug.ReadCommandLog(log)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range entries {
		if c.Command == "DEL" {
			out = append(out, c.CmdArgs.Netns)
		}
	}
	return out
}

// A DEL gets the netns recorded at ADD while it still exists, whatever
// path the teardown passes (the spec wants a DEL's parameters to match the
// ADD's); once it is gone, the caller's path is used. The old code
// preferred the caller's path, so a teardown naming another netns sent
// the DEL into the wrong namespace.
func TestDelUsesNetNSRecordedAtAddWhileItExists(t *testing.T) {
	for _, deleted := range []bool{false, true} {
		name := "recorded netns exists"
		if deleted {
			name = "recorded netns deleted"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			np, p := e.oneNet("1.0.0", "10.0.0.1")
			a, b := testutil.NewNetNS(t), testutil.NewNetNS(t)
			setUp(t, p, PodNetwork{ID: "c1", NetNS: a})
			want := a
			if deleted {
				if err := sandbox.DeleteNetNS(filepath.Base(a)); err != nil {
					t.Fatal(err)
				}
				want = b
			}
			tearDown(t, p, PodNetwork{ID: "c1", NetNS: b})
			if got := delNetNS(t, np.log); !reflect.DeepEqual(got, []string{want}) {
				t.Fatalf("DEL CNI_NETNS = %v, want [%s]", got, want)
			}
		})
	}
}

// Turning disableCheck on in the file stops CHECK for the pods already
// running, whose cached configuration still has it off. The old code read
// disableCheck only from the cached configuration, so it kept running
// CHECK on them.
func TestStatusHonoursDisableCheckSetAfterSetup(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.7")}, "", nil)
	e.writeList("10-n.conflist", "n", "1.0.0", nil, conf)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	if _, err := p.GetPodNetworkStatus(pod); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"ADD", "CHECK"}) {
		t.Fatalf("plugin saw %v before disableCheck, want ADD CHECK", got)
	}

	e.writeList("10-n.conflist", "n", "1.0.0", map[string]any{"disableCheck": true}, conf)
	waitConf(t, p, "n", func(n *netconf.Network) bool { return n.List.DisableCheck })
	res, err := p.GetPodNetworkStatus(pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || firstIP(t, res[0].Result) != "10.0.0.7/24" {
		t.Fatalf("status = %+v, want the cached result", res)
	}
	if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"ADD", "CHECK"}) {
		t.Fatalf("plugin saw %v after disableCheck, want no further CHECK", got)
	}
}

// With nothing cached for the sandbox and no networks named, a teardown
// DELs the default network (and only it) on eth0, as cri-o/ocicni does,
// and leaves no cache entry behind. The old code found nothing to DEL, so
// a pod set up before an upgrade, or by a process that died before
// recording anything, leaked. (TestTearDownWithoutCacheFallsBackTo...
// checks the DEL happens; this pins what it is sent to.)
func TestTearDownWithNothingCachedDelsOnlyDefaultOnEth0(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b")
	p := e.plugin(WithWatch(false))
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if got := testutil.Events(t, log); !reflect.DeepEqual(got, []string{"DEL a c1 eth0"}) {
		t.Fatalf("plugin calls = %v, want one DEL of the default network a on eth0", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
}
