//go:build linux

package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// Sandbox IDs and network names are full of '-' and prefixes of each
// other, so that cache file names (<network>-<sandbox>-<ifname>) can be
// split more than one way: "c" + "a-b" and "c-a" + "b" both give
// "c-a-b-eth0".
var (
	podIDs   = []string{"a", "a-b", "b", "a-b-c", "c", "b-eth0", "cnitool-1f", "cnitool-1f-2", "x-c-a", "eth0"}
	netNames = []string{"c", "c-a", "c-a-b"}
)

// The tester's bounds, stated in docs/testing.md: a call returns within
// its context's deadline plus callBound; an operation with no fault of its
// own gets quietDeadline and must succeed; the runtime's peak memory grows
// by less than memoryBound over what it was after start-up.
const (
	callBound     = 2 * time.Second
	quietDeadline = 10 * time.Second
	gcDeadline    = 30 * time.Second
	pluginTimeout = 25 * time.Second
	memoryBound   = 256 << 20
	runtimeAddr   = "192.168.250.1/24"
)

// world is one chaos run: its directories, networks, pods and the
// runtime (a Plugin, replaced on a restart).
type world struct {
	t                           *testing.T
	k                           knobs
	confDir, cacheDir, dataDir  string
	binDir, faultDir, faultyLog string
	hostAlias                   string // a named path to the runtime's own netns
	pods                        []*pod
	stats                       *stats
	memBase                     atomic.Int64 // peak memory after start-up

	rtMu    sync.Mutex // guards rt and retired
	rt      *runtimeInst
	retired sync.WaitGroup // old runtimes still finishing their calls

	confMu  sync.Mutex // guards hidden and the conf dir's files
	hidden  bool       // whether c-a-b's file is removed
	nsMu    sync.Mutex // guards nsOwner and tainted
	nsOwner map[string]*pod
	tainted map[string]*pod // netns names of pods whose record is damaged
	// nsSerial makes netns names unique when netns-reuse is left out.
	nsSerial atomic.Int64
	stop     chan struct{}
}

// runtimeInst is one instance of the runtime; calls hold calls while
// they use it, so a restart shuts it down only when they are done.
type runtimeInst struct {
	p     *ocicni.Plugin
	calls sync.WaitGroup
}

// TestChaos drives every public operation at random, concurrently, with
// faults, and checks the invariants of docs/testing.md after each step
// and at the end. A failing run names its seed: OCICNI_CHAOS_SEED=<seed>
// replays the same operations and faults.
func TestChaos(t *testing.T) {
	testutil.RequireRoot(t)
	k, err := readKnobs()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, k)
	t.Logf("chaos: seed %d, budget %s, %d workers (replay: OCICNI_CHAOS_SEED=%d)", k.seed, k.budget, k.workers, k.seed)
	for name := range k.skip {
		t.Logf("chaos: left out: %s %s", name, openIssues[name])
	}
	var wg sync.WaitGroup
	time.AfterFunc(k.budget, func() { close(w.stop) })
	for i := range k.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.worker(i, rand.New(rand.NewPCG(uint64(k.seed), uint64(i))))
		}()
	}
	wg.Wait()
	w.finish()
	t.Logf("chaos: %s", w.stats.summary())
	if v := w.stats.violationCount(); v > 0 {
		t.Errorf("chaos: %d invariant violations; replay with OCICNI_CHAOS_SEED=%d:\n%s", v, k.seed, w.stats.violationText())
	}
}

func newWorld(t *testing.T, k knobs) *world {
	w := &world{
		t: t, k: k, confDir: t.TempDir(), cacheDir: t.TempDir(), dataDir: t.TempDir(),
		binDir: testutil.LinkPlugins(t, "bridge", "host-local", "portmap"),
		stats:  newStats(), nsOwner: map[string]*pod{}, tainted: map[string]*pod{}, stop: make(chan struct{}),
	}
	testutil.CopyPlugin(t, "faulty", w.binDir)
	w.faultDir = filepath.Join(w.binDir, "faulty.chaos")
	w.faultyLog = filepath.Join(t.TempDir(), "faulty.log")
	if err := os.Mkdir(w.faultDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, n := range netNames {
		testutil.WriteJSON(t, w.confDir, confFile(n), w.netConf(i))
	}
	j := &journal{}
	for i, id := range podIDs {
		w.pods = append(w.pods, &pod{idx: i, id: id, journal: j})
		w.pods[i].publish()
	}
	w.runtimeNamespace()
	w.rt = &runtimeInst{p: w.newPlugin(true)}
	t.Cleanup(func() {
		w.rtMu.Lock()
		_ = w.rt.p.Shutdown()
		w.rtMu.Unlock()
		for i := range netNames {
			if l, err := netlink.LinkByName(fmt.Sprintf("chaosbr%d", i)); err == nil {
				_ = netlink.LinkDel(l)
			}
		}
	})
	w.memBase.Store(peakRSS())
	return w
}

func confFile(net string) string { return fmt.Sprintf("%d-%s.conflist", 10+len(net), net) }

func (w *world) netConf(i int) map[string]any {
	return bridgeConf(netNames[i], fmt.Sprintf("chaosbr%d", i), fmt.Sprintf("10.77.%d.0/24", i), w.dataDir, w.faultyLog)
}

// runtimeNamespace gives the runtime's own namespace (the sandbox's) an
// "eth0" with an address, as a node has, and a named path leading to that
// namespace, which a hostile or mistaken caller may pass as a pod's.
func (w *world) runtimeNamespace() {
	t := w.t
	// A bridge stands in for the node's NIC: the kernel may lack dummy.
	eth0 := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}}
	if err := netlink.LinkAdd(eth0); err != nil {
		t.Fatalf("runtime's eth0: %v", err)
	}
	addr, _ := netlink.ParseAddr(runtimeAddr)
	if err := netlink.AddrAdd(eth0, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(eth0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netlink.LinkDel(eth0) })
	w.hostAlias = "/run/netns/chaos-host"
	if err := os.WriteFile(w.hostAlias, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("/proc/self/ns/net", w.hostAlias, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("naming the runtime's netns: %v", err)
	}
	// The sandbox's /run/netns outlives one run of the test (-count=N).
	t.Cleanup(func() {
		_ = unix.Unmount(w.hostAlias, unix.MNT_DETACH)
		_ = os.Remove(w.hostAlias)
	})
}

func (w *world) newPlugin(watch bool) *ocicni.Plugin {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	p, err := ocicni.New(ocicni.WithConfDir(w.confDir), ocicni.WithCacheDir(w.cacheDir),
		ocicni.WithBinDirs(w.binDir), ocicni.WithLogger(quiet), ocicni.WithWatch(watch),
		ocicni.WithPollInterval(200*time.Millisecond), ocicni.WithPluginTimeout(pluginTimeout))
	if err != nil {
		w.t.Fatalf("starting the runtime: %v", err)
	}
	return p
}

// runtime returns the current runtime and a function to call when done
// with it.
func (w *world) runtime() (*ocicni.Plugin, func()) {
	w.rtMu.Lock()
	defer w.rtMu.Unlock()
	rt := w.rt
	rt.calls.Add(1)
	return rt.p, rt.calls.Done
}

// opWeights says how often each operation is picked.
var opWeights = []struct {
	name   string
	weight int
	run    func(*world, *rand.Rand)
}{
	{"setup", 26, (*world).opSetup},
	{"teardown", 20, (*world).opTeardown},
	{"status", 10, (*world).opStatus},
	{"gc", 5, (*world).opGC},
	{"validate", 4, (*world).opValidate},
	{"ready", 4, (*world).opReady},
	{"reload", 5, (*world).opReload},
	{"kill", 4, (*world).opKill},
	{"restart", 2, (*world).opRestart},
	{"netns-delete", 4, (*world).opNetnsDelete},
	{"cache-damage", 5, (*world).opCacheDamage},
	{"runtime-netns", 2, (*world).opRuntimeNetns},
}

func (w *world) worker(i int, rng *rand.Rand) {
	if i == 0 && !w.k.skip["flood"] {
		w.opFlood(rng)
	}
	total := 0
	for _, o := range opWeights {
		total += o.weight
	}
	for !w.stopped() {
		n := rng.IntN(total)
		for _, o := range opWeights {
			if n -= o.weight; n < 0 {
				if !w.k.skip[o.name] {
					w.stats.op(o.name)
					o.run(w, rng)
					w.checkGlobal(o.name)
				}
				break
			}
		}
	}
}

func (w *world) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return w.stats.halted()
	}
}

// finish waits for retired runtimes, runs a GC with no valid pods and no
// faults, and checks that nothing at all is left.
func (w *world) finish() {
	w.rtMu.Lock()
	w.rtMu.Unlock()
	w.retired.Wait()
	if w.stats.halted() {
		return
	}
	_ = os.RemoveAll(w.faultDir)
	// A runtime that passes no valid pod has no sandboxes left: their
	// namespaces are gone, as it deletes them.
	for _, p := range w.pods {
		p.mu.Lock()
		defer p.mu.Unlock()
		w.dropSandbox(p)
	}
	p, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), gcDeadline)
	defer cancel()
	err, ok := w.call("final gc", gcDeadline, func() error { return p.GC(ctx, nil) })
	if !ok {
		return
	}
	if err != nil {
		w.violate("final-clean", "final GC with no valid pods and no faults failed: %v", err)
	}
	w.checkNothingLeft()
	w.checkFaultyLog()
}

// call runs fn, which must return within d plus callBound; it reports
// false when fn never returned (the run then halts: its pod stays locked).
func (w *world) call(what string, d time.Duration, fn func() error) (error, bool) {
	return w.callSlack(what, d, 0, fn)
}

// callSlack is call for a setup, whose failure may add a rollback: its
// DELs run detached from the caller's context, each bounded by the plugin
// timeout (docs/plugins.md), so a failed setup may take slack more.
func (w *world) callSlack(what string, d, slack time.Duration, fn func() error) (error, bool) {
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err == nil {
			slack = 0
		}
		if el := time.Since(start); el > d+slack+callBound {
			w.violate("deadline", "%s took %s with a deadline of %s (bound %s): %v", what, el.Round(time.Millisecond), d, callBound, err)
		}
		return err, true
	case <-time.After(d + slack + callBound + 30*time.Second):
		w.violate("deadline", "%s never returned (deadline %s)", what, d)
		w.stats.halt()
		return nil, false
	}
}
