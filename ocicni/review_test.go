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
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// waitScanSettled waits until no file in the watched directories is recent
// enough to make the fingerprint distrusted, so an operation's fingerprint
// check, not racy-stamp caution, decides whether it reloads.
func waitScanSettled(t *testing.T, p *Plugin) {
	t.Helper()
	testutil.Eventually(t, 5*time.Second, func() bool {
		return p.conf.Settled()
	}, "directory stamps never settled")
}

// A caller that gives up must not poison the configuration: without a
// watcher, the reload an operation triggers used to run its VERSION execs
// on the caller's context, so a cancelled caller got the new network
// recorded as skipped ("did not answer VERSION: context canceled"), and
// since the directories then looked unchanged, every later operation kept
// that verdict until some unrelated file changed.
func TestReloadIgnoresCallerCancellation(t *testing.T) {
	e := newEnv(t)
	p := e.plugin(WithWatch(false))
	if err := p.Status(); err == nil {
		t.Fatal("ready with an empty conf dir")
	}
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
	waitScanSettled(t, p)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.StatusWithContext(ctx)

	if err := p.Status(); err != nil {
		t.Fatalf("a cancelled caller's reload left the network unusable: %v", err)
	}
	if s := p.Networks().Skipped; len(s) != 0 {
		t.Fatalf("skipped files after a cancelled caller: %v", s)
	}
}

// Shutdown used to wait for a reload's VERSION exec, up to versionTimeout
// (10 s) for a plugin that never answers. It now kills it, and the
// interrupted load does not replace the configuration pods still use.
func TestShutdownInterruptsSlowVersion(t *testing.T) {
	e := newFaultEnv(t)
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin()
	if p.GetDefaultNetworkName() != "a" {
		t.Fatalf("default = %q", p.GetDefaultNetworkName())
	}
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	e.writeList("20-b.conflist", "b", "1.0.0", nil, faultyPlugin(e.logFile("b.log"), nil))
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(processesOf(t, bin)) > 0 },
		"the reload never exec'd the hanging VERSION")

	done := make(chan struct{})
	go func() {
		_ = p.Shutdown()
		close(done)
	}()
	testutil.Eventually(t, 5*time.Second, func() bool { // half the 10 s VERSION bound
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, "Shutdown waited for the hanging VERSION exec")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(processesOf(t, bin)) == 0 },
		"the hanging VERSION process outlived Shutdown")

	view := p.Networks()
	if view.Default != "a" || len(view.Networks) != 1 {
		t.Fatalf("after Shutdown: default %q, networks %v", view.Default, networkNames(view))
	}
	for _, s := range view.Skipped {
		if strings.Contains(s.Reason, "canceled") {
			t.Fatalf("the interrupted load was kept: %v", s)
		}
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
	conf, _ := e.noopConf(debug.Debug{ReportResult: resultFor("1.1.0", "10.0.0.1")}, log, nil)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, conf)
	p := e.plugin(WithWatch(false))
	if _, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}); err != nil {
		t.Fatal(err)
	}
	e.writeList("10-n.conflist", "n", "1.1.0", nil, conf)
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if ev, want := events(t, log), []string{"ADD n c1 eth0", "GC n"}; !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v, want %v", ev, want)
	}
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"n-c1-eth0"}) {
		t.Fatalf("cache after GC = %v", c)
	}
}

// A load looks each plugin binary up once, however many files name it. It
// used to do so per file, and since a timed-out VERSION is not remembered
// (the binary may only have been slow), a plugin that hangs on VERSION
// held a reload up once for every file naming it.
func TestLoadAsksHangingBinaryOncePerLoad(t *testing.T) {
	e := newFaultEnv(t)
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	for _, n := range []string{"a", "b", "c"} {
		e.writeList("10-"+n+".conflist", n, "1.0.0", nil, faultyPlugin(e.logFile(n+".log"), nil))
	}
	p := e.plugin(WithWatch(false), WithPluginTimeout(300*time.Millisecond))
	before := p.conf.Stats().VersionExecs
	p.conf.Reload()
	if n := p.conf.Stats().VersionExecs - before; n != 1 {
		t.Fatalf("%d VERSION execs of the hanging plugin in one load, want 1", n)
	}
	if s := currentSet(p).Skipped; len(s) != 3 {
		t.Fatalf("skipped %v, want all three files", s)
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

// A setup that arrives while GC holds its lock gives up when its own
// context ends, instead of waiting for the GC however long it runs, and
// runs no plugin.
func TestSetUpWaitingForGCHonoursContext(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("f.log")
	e.writeList("10-f.conflist", "f", "1.0.0", nil, faultyPlugin(log, nil))
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
		return slices.Contains(faultyLog(t, log), "DEL old eth0")
	}, "GC never started its DEL")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	setupDone := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, PodNetwork{ID: "new", NetNS: testutil.NewNetNS(t)})
		setupDone <- err
	}()
	var err error
	testutil.Eventually(t, 5*time.Second, func() bool {
		select {
		case err = <-setupDone:
			return true
		default:
			return false
		}
	}, "SetUpPod waited for the GC past its own deadline")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetUpPod err = %v, want context.DeadlineExceeded", err)
	}
	select {
	case err := <-gcDone:
		t.Fatalf("GC ended (%v) before the check; the test proves nothing", err)
	default:
	}
	if l := faultyLog(t, log); slices.ContainsFunc(l, func(s string) bool { return strings.Contains(s, " new ") }) {
		t.Fatalf("a plugin ran for the abandoned setup: %v", l)
	}
}

// Without a watcher, the operation that finds the directories changed
// reloads, and a new binary's VERSION exec may take up to versionTimeout.
// Another operation that needs the same reload used to wait for it
// whatever its own deadline; it now gives up when its context ends.
func TestWaitForAnotherReloadHonoursContext(t *testing.T) {
	e := newFaultEnv(t)
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false), WithPluginTimeout(5*time.Second))
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	e.writeList("20-b.conflist", "b", "1.0.0", nil, faultyPlugin(e.logFile("b.log"), nil))

	firstDone := make(chan struct{})
	go func() {
		_ = p.Status()
		close(firstDone)
	}()
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(processesOf(t, bin)) > 0 },
		"the first operation's reload never exec'd VERSION")
	defer func() {
		for _, pid := range processesOf(t, bin) {
			if n, err := strconv.Atoi(pid); err == nil {
				_ = syscall.Kill(n, syscall.SIGKILL)
			}
		}
		<-firstDone
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() { second <- p.StatusWithContext(ctx) }()
	var err error
	testutil.Eventually(t, 2*time.Second, func() bool {
		select {
		case err = <-second:
			return true
		default:
			return false
		}
	}, "Status waited for another operation's reload past its own deadline")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotReady) {
		t.Fatalf("Status err = %v, want ErrNotReady and context.DeadlineExceeded", err)
	}
	select {
	case <-firstDone:
		t.Fatal("the first reload ended before the check; the test proves nothing")
	default:
	}
}
