package ocicni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestGCRemovesAttachmentsOfPodsNotValid(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	np := e.noopNet("10-n.conflist", "n", "1.1.0", "10.0.0.1", log)
	p := e.plugin(WithWatch(false))
	keep := PodNetwork{ID: "keep", NetNS: testutil.NewNetNS(t)}
	for _, pod := range []PodNetwork{keep, {ID: "stale", NetNS: testutil.NewNetNS(t)}} {
		setUp(t, p, pod)
	}
	if err := p.GC(context.Background(), []*PodNetwork{&keep}); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADD n keep eth0", "ADD n stale eth0", "DEL n stale eth0", "GC n"}
	if ev := testutil.WithoutStatus(testutil.Events(t, log)); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"n-keep-eth0"}) {
		t.Fatalf("cache after GC = %v", c)
	}
	valid := testutil.StdinConf(t, testutil.LastCall(t, np.debug).CmdArgs.StdinData)["cni.dev/valid-attachments"]
	if want := asJSONValue(t, []cnitypes.GCAttachment{{ContainerID: "keep", IfName: "eth0"}}); !reflect.DeepEqual(valid, want) {
		t.Fatalf("GC verb valid attachments = %v, want %v", valid, want)
	}
}

func TestGCRemovesAttachmentsOfDeletedNetworks(t *testing.T) {
	e := newEnv(t)
	gone := e.noopNet("10-gone.conflist", "gone", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false))
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if err := os.Remove(filepath.Join(e.confDir, "10-gone.conflist")); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := testutil.Commands(t, gone.log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("removed network's plugin got %v, want ADD DEL", got)
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after GC = %v", c)
	}
}

// expectGCSkips runs a GC on p and checks that it left network n alone:
// its plugin got no call after the ADD and pod c1's cache entry stays.
func expectGCSkips(t *testing.T, e *env, p *Plugin, np noopPlug) {
	t.Helper()
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := testutil.WithoutStatus(testutil.Commands(t, np.log)); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("plugin got %v, want only the ADD", got)
	}
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"n-c1-eth0"}) {
		t.Fatalf("cache after GC = %v", c)
	}
}

func TestGCHonoursDisableGC(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.1.0", "10.0.0.1")}, "", nil)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, conf)
	p := e.plugin(WithWatch(false))
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	expectGCSkips(t, e, p, np)
}

func TestGCHonoursDisableGCSetAfterSetup(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.1.0", "10.0.0.1")
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	// The operator turns GC off for the network after the pod was set up:
	// the cached configuration says nothing of it, the current one does.
	conf := map[string]any{"type": "noop", "debugFile": np.debug, "commandLog": np.log}
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, conf)
	repolled(t, p)
	expectGCSkips(t, e, p, np)
}

func TestGCKeepsGoingAndJoinsErrors(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "a", "b")
	a, b := nets[0], nets[1]
	p := e.plugin(WithWatch(false), serialGC())
	for _, id := range []string{"p1", "p2"} {
		pod := PodNetwork{ID: id, NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "a"}, {Name: "b"}}}
		setUp(t, p, pod)
	}
	testutil.SetDebug(t, a.debug, debug.Debug{ReportError: "a refuses", ReportErrorCode: 111})
	testutil.SetDebug(t, b.debug, debug.Debug{ReportError: "b refuses", ReportErrorCode: 112})
	err := p.GC(context.Background(), nil)
	codes := opErrorCodes(t, err, "gc")
	if !reflect.DeepEqual(codes, []int{111, 111, 112, 112}) {
		t.Fatalf("error codes = %v from %v, want one per stale attachment", codes, err)
	}
	for _, np := range []noopPlug{a, b} {
		if got := testutil.Commands(t, np.log); !reflect.DeepEqual(got, []string{"ADD", "ADD", "DEL", "DEL"}) {
			t.Fatalf("plugin got %v, want a DEL for each pod", got)
		}
	}
	if c := e.cacheFiles(); len(c) != 4 {
		t.Fatalf("cache after failed GC = %v, want every entry kept for a retry", c)
	}
}

func TestGCRefusesNilPod(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.1.0", "10.0.0.1")
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if err := p.GC(context.Background(), []*PodNetwork{nil}); !errors.Is(err, ErrInvalidPodNetwork) {
		t.Fatalf("GC with a nil pod = %v, want ErrInvalidPodNetwork", err)
	}
	if got := testutil.WithoutStatus(testutil.Commands(t, np.log)); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("plugin got %v after a refused GC", got)
	}
}

// gcWaiting reports whether a GC is waiting, for the GC lock or for the
// lock of sandbox id, which an operation in flight holds.
func gcWaiting(p *Plugin, id string) bool {
	p.gc.mu.Lock()
	writer := p.gc.writersWaiting > 0
	p.gc.mu.Unlock()
	p.pods.mu.Lock()
	defer p.pods.mu.Unlock()
	l := p.pods.locks[id]
	return writer || (l != nil && l.refs > 1)
}

func TestGCWaitsForInFlightAdd(t *testing.T) {
	e := newEnv(t)
	marks, log := e.slowNet("1.1.0")
	p := e.plugin(WithWatch(false))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addDone := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
		addDone <- err
	}()
	testutil.Eventually(t, 20*time.Second, func() bool { return started(marks, "c1") }, "slow ADD never started")

	gcDone := make(chan error, 1)
	go func() { gcDone <- p.GC(context.Background(), nil) }()
	testutil.Eventually(t, 20*time.Second, func() bool {
		select {
		case err := <-gcDone:
			t.Fatalf("GC returned (%v) while an ADD was in flight", err)
		default:
		}
		return gcWaiting(p, "c1")
	}, "GC neither finished nor waited for the in-flight ADD")

	cancel()
	if err := <-addDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("ADD err = %v, want context.Canceled", err)
	}
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	// The rollback DEL of the cancelled ADD still came before the GC.
	want := []string{"ADD slow c1 eth0", "DEL slow c1 eth0", "GC slow"}
	if ev := testutil.WithoutStatus(testutil.Events(t, log)); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
}

// An attachment made under a configuration with disableGC stays when the
// operator later turns GC back on. GC skipped it but left it out of the
// valid attachments it handed libcni, whose GCNetworkList then DEL'd it
// with the current configuration, against both the cached disableGC and
// the rule that an attachment is removed by the plugins that added it.
func TestGCKeepsAttachmentCachedWithDisableGC(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	conf, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.1.0", "10.0.0.1")}, log, nil)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, conf)
	p := e.plugin(WithWatch(false))
	if _, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}); err != nil {
		t.Fatal(err)
	}
	e.writeList("10-n.conflist", "n", "1.1.0", nil, conf)
	repolled(t, p)
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if ev, want := testutil.WithoutStatus(testutil.Events(t, log)), []string{"ADD n c1 eth0", "GC n"}; !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v, want %v", ev, want)
	}
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"n-c1-eth0"}) {
		t.Fatalf("cache after GC = %v", c)
	}
}

// A corrupt cache file of a network that is no longer configured cannot be
// acted on, and GC used to warn about it on every run; it now says so
// once, and again only if the file goes and comes back.
func TestGCReportsUnresolvableCacheFileOnce(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false))
	results := filepath.Join(e.cache, "results")
	if err := os.MkdirAll(results, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(results, "gone-sb9-eth0")
	write := func() {
		if err := os.WriteFile(file, []byte("{truncated"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const msg = "cannot tell which network a corrupt cache file belongs to"
	write()
	for i := 0; i < 3; i++ {
		if err := p.GC(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.countLog(msg); n != 1 {
		t.Fatalf("warned %d times over three GCs, want once", n)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	write()
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := e.countLog(msg); n != 2 {
		t.Fatalf("warned %d times, want again once the file came back", n)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("GC removed the file it cannot act on: %v", err)
	}
}

// GC tears stale sandboxes down the way teardown does, under each
// sandbox's own lock, so a new pod is set up while a stale one's DEL hangs
// (it used to wait for the whole GC).
func TestSetUpProceedsWhileGCDelsStaleSandbox(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("f.log")
	e.writeList("10-f.conflist", "f", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	if _, err := p.SetUpPod(PodNetwork{ID: "old", NetNS: testutil.NewNetNS(t)}); err != nil {
		t.Fatal(err)
	}
	e.control(map[string]any{"faults": map[string]string{"DEL": "hang"}})
	gcCtx, stopGC := context.WithCancel(context.Background())
	gcDone := make(chan error, 1)
	go func() { gcDone <- p.GC(gcCtx, nil) }()
	defer func() {
		stopGC()
		<-gcDone
	}()
	testutil.Eventually(t, 10*time.Second, func() bool {
		return slices.Contains(testutil.FaultyLog(t, log), "DEL old eth0")
	}, "GC never started its DEL")

	e.control(map[string]any{"faults": map[string]string{"DEL:never": "hang"}})
	if _, err := p.SetUpPod(PodNetwork{ID: "new", NetNS: testutil.NewNetNS(t)}); err != nil {
		t.Fatalf("SetUpPod during GC: %v", err)
	}
	select {
	case err := <-gcDone:
		t.Fatalf("GC ended (%v) before the setup; the test proves nothing", err)
	default:
	}
}

// A setup that arrives while the GC verb runs (which must exclude ADD and
// DEL) gives up when its own context ends, and runs no plugin.
func TestSetUpWaitingForGCVerbHonoursContext(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("f.log")
	e.writeList("10-f.conflist", "f", "1.1.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	e.control(map[string]any{"faults": map[string]string{"GC": "hang"}})
	gcCtx, stopGC := context.WithCancel(context.Background())
	gcDone := make(chan error, 1)
	go func() { gcDone <- p.GC(gcCtx, nil) }()
	defer func() {
		stopGC()
		<-gcDone
	}()
	testutil.Eventually(t, 10*time.Second, func() bool {
		return slices.ContainsFunc(testutil.FaultyLog(t, log), func(l string) bool { return strings.HasPrefix(l, "GC ") })
	}, "GC never ran its verb")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := p.SetUpPodWithContext(ctx, PodNetwork{ID: "new", NetNS: testutil.NewNetNS(t)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetUpPod err = %v, want context.DeadlineExceeded", err)
	}
	select {
	case err := <-gcDone:
		t.Fatalf("GC ended (%v) before the check; the test proves nothing", err)
	default:
	}
	if l := testutil.FaultyLog(t, log); slices.ContainsFunc(l, func(s string) bool { return strings.Contains(s, " new ") }) {
		t.Fatalf("a plugin ran for the abandoned setup: %v", l)
	}
}

// GC's DELs of stale sandboxes run at a lower CPU priority, since no caller
// waits on them; a setup's ADD and a teardown's DEL run at the runtime's.
func TestGCRunsStaleDelsAtLowerPriority(t *testing.T) {
	e := newFaultEnv(t)
	log, nice := e.logFile("faulty.log"), e.logFile("nice.log")
	e.writeList("10-n.conflist", "n", "1.0.0", nil, testutil.FaultyPlugin(log, nil, "niceLog", nice))
	p := e.plugin(WithWatch(false))
	torn, stale := webPod(t, "torn"), webPod(t, "stale")
	setUp(t, p, torn)
	setUp(t, p, stale)
	tearDown(t, p, torn)
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	own := strconv.Itoa(testutil.Niceness(t, os.Getpid()))
	want := []string{"ADD " + own, "ADD " + own, "DEL " + own, "DEL 10"}
	if got := testutil.FaultyLog(t, nice); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls and their niceness = %v, want %v", got, want)
	}
}

// repolled has the plugin take in a rewritten default network and waits
// for the STATUS its change prompts to answer, so that STATUS does not run
// alongside what the test does next (the noop plugin rewrites its command
// log whole on every call, and of two calls at once one entry is lost).
func repolled(t *testing.T, p *Plugin) {
	t.Helper()
	since := time.Now()
	p.Networks()
	testutil.Eventually(t, waitFor, func() bool {
		for _, n := range p.Networks().Networks {
			if n.Default && n.Readiness != nil && n.Readiness.Checked.After(since) {
				return true
			}
		}
		return false
	}, "the rewritten default network's STATUS never answered")
}
