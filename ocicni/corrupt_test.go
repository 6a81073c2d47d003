package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// corruptions are what a crash or power loss can leave of a libcni cache
// file, which libcni writes without fsync or rename.
var corruptions = []struct {
	name string
	data string
}{
	{"empty", ""},
	{"truncated", `{"kind":"cniCacheV1","containerId":"sb1","config":"eyJjbmlWZXJza`},
	{"zeroes", "\x00\x00\x00\x00\x00\x00\x00\x00"},
	{"wrong kind", `{"kind":"somethingElse","containerId":"sb1","ifName":"eth0","networkName":"net1"}`},
	{"no config", `{"kind":"cniCacheV1","containerId":"sb1","ifName":"eth0","networkName":"net1"}`},
	{"config not a list", `{"kind":"cniCacheV1","containerId":"sb1","ifName":"eth0","networkName":"net1","config":"bm90IGpzb24="}`},
}

const fallbackMsg = "cached configuration unusable; falling back to the current configuration"

// corruptPod sets up pod sb1 on net1 (noop), then overwrites its cache file
// with data, and returns the plugin, the pod and noop's command log.
func corruptPod(t *testing.T, data string) (*env, *Plugin, PodNetwork, string) {
	t.Helper()
	e := newFaultEnv(t)
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin()
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	file := filepath.Join(e.cache, "results", "net1-sb1-eth0")
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, p, pod, logs[0]
}

// Teardown of a pod whose cache file is empty or corrupt still DELs it,
// with the current configuration, says so in the log, and leaves no cache
// file behind.
func TestCorruptCacheTeardown(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			e, p, pod, log := corruptPod(t, c.data)
			if err := p.TearDownPod(PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
				t.Fatalf("teardown: %v", err)
			}
			expectFallbackDEL(t, e, log)
		})
	}
}

// GC of a pod whose cache file is empty or corrupt still DELs it with the
// current configuration, logs it, and clears the cache; a corrupt entry of
// a pod that is still valid is left alone.
func TestCorruptCacheGC(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			e, p, pod, log := corruptPod(t, c.data)
			if err := p.GC(context.Background(), []*PodNetwork{&pod}); err != nil {
				t.Fatalf("GC keeping the pod: %v", err)
			}
			if got := testutil.Commands(t, log); !reflect.DeepEqual(got, []string{"ADD"}) {
				t.Fatalf("GC touched a valid pod: plugin calls = %v", got)
			}
			if err := p.GC(context.Background(), nil); err != nil {
				t.Fatalf("GC: %v", err)
			}
			expectFallbackDEL(t, e, log)
		})
	}
}

// expectFallbackDEL checks that net1's plugin got its DEL after the ADD,
// that the fallback to the current configuration was logged, and that no
// cache file is left.
func expectFallbackDEL(t *testing.T, e *env, log string) {
	t.Helper()
	if got := testutil.Commands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin calls = %v, want the DEL", got)
	}
	if !e.hasLogWith(fallbackMsg, "network", "net1") {
		t.Fatal("fallback to the current configuration not logged")
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache = %v", got)
	}
}

// damage empties the cache file name, as a torn write leaves it.
func damage(t *testing.T, e *env, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.cache, "results", name), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A valid pod whose ID contains '-' keeps its damaged cache entry through
// GC, and its own teardown later DELs it as its own. The old GC read the
// file name net-cnitool-abc-eth0 as sandbox "cnitool" on interface
// "abc-eth0", DEL'd that phantom sandbox (libcni removing the unreadable
// file first), and the valid pod kept no entry: its address leaked when it
// was torn down (issue 17.2).
func TestGCKeepsDamagedEntryOfValidDashedPod(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "net")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "cnitool-abc", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "net", Ifname: "eth0"}}}
	setUp(t, p, pod)
	damage(t, e, "net-cnitool-abc-eth0")
	if err := p.GC(context.Background(), []*PodNetwork{&pod}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got, want := testutil.Events(t, log), []string{"ADD net cnitool-abc eth0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls after GC = %v, want %v", got, want)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net-cnitool-abc-eth0"}) {
		t.Fatalf("cache after GC = %v, want the valid pod's entry", got)
	}
	tearDown(t, p, PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
	if got, want := testutil.Events(t, log), []string{"ADD net cnitool-abc eth0", "DEL net cnitool-abc eth0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls after teardown = %v, want %v", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
}

// Tearing down sandbox "cnitool" by ID leaves alone the damaged entry of
// sandbox "cnitool-abc", whose other entry shows it exists: the old code
// read the damaged file's name as "cnitool"'s and DEL'd it (issue 17.2).
// (A caller naming network net1 on interface "abc-eth0" for "cnitool"
// names that very file, as libcni's naming allows; nothing can tell them
// apart.)
func TestTearDownLeavesDamagedEntryOfDashedNeighbour(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "net1", "net2")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	pod := PodNetwork{ID: "cnitool-abc", NetNS: ns, Networks: []NetAttachment{{Name: "net1", Ifname: "eth0"}, {Name: "net2", Ifname: "eth1"}}}
	setUp(t, p, pod)
	damage(t, e, "net1-cnitool-abc-eth0")
	tearDown(t, p, PodNetwork{ID: "cnitool", NetNS: ns})
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net1-cnitool-abc-eth0", "net2-cnitool-abc-eth1"}) {
		t.Fatalf("cache after tearing the other sandbox down = %v, want both of cnitool-abc's entries", got)
	}
	tearDown(t, p, PodNetwork{ID: pod.ID, NetNS: ns})
	var dels []string
	for _, ev := range testutil.Events(t, log) {
		if strings.HasPrefix(ev, "DEL") && strings.Contains(ev, "cnitool-abc") {
			dels = append(dels, ev)
		}
	}
	// The damaged entry has lost its attach order, so it goes first.
	if want := []string{"DEL net1 cnitool-abc eth0", "DEL net2 cnitool-abc eth1"}; !reflect.DeepEqual(dels, want) {
		t.Fatalf("DELs of cnitool-abc = %v, want %v", dels, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
}

// within runs f and fails the test unless it returns within a bound far
// past its own context's; a call still blocked is left behind.
func within(t *testing.T, what string, f func(context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(waitFor):
		t.Fatalf("%s still blocked %s after it started, past its 5s context", what, waitFor)
		return nil
	}
}

// A FIFO in the results directory, at another sandbox's entry path and at
// this one's, hangs neither teardown nor GC, and GC removes it. The old
// reader opened it for reading, which waits for a writer forever, past
// every context, and GC kept its token (issue 17.9).
func TestFIFOInResultsDirHangsNothing(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "net")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	for _, name := range []string{"net-sb1-eth9", "net-sb2-eth0"} {
		fifo := filepath.Join(e.cache, "results", name)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		// A writer at cleanup frees a reader the old code left blocked.
		t.Cleanup(func() {
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		})
	}
	if err := within(t, "teardown", func(ctx context.Context) error { return p.TearDownPodWithContext(ctx, pod) }); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	for range 2 {
		if err := within(t, "GC", func(ctx context.Context) error { return p.GC(ctx, nil) }); err != nil {
			t.Fatalf("GC: %v", err)
		}
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after GC = %v, want the FIFOs gone", got)
	}
}

// A sparse 1 GiB file at a pod's entry path is not read whole: the
// teardown DELs the attachment with the current configuration, allocating
// a few MiB, and the file goes. The old reader, and libcni after it, read
// it whole (issue 17.9).
func TestHugeCacheFileIsNotReadWhole(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "net")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	if err := os.Truncate(filepath.Join(e.cache, "results", "net-sb1-eth0"), 1<<30); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tearDown(t, p, pod)
	runtime.ReadMemStats(&after)
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("teardown over a sparse 1 GiB entry allocated %.1f MiB", float64(grew)/(1<<20))
	if grew > 64<<20 {
		t.Fatalf("teardown allocated %d MiB, want a few", grew>>20)
	}
	if got, want := testutil.Events(t, log), []string{"ADD net sb1 eth0", "DEL net sb1 eth0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want %v", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
}

// An empty directory at an entry's path is a damaged entry of the sandbox
// its name reads as: its first teardown DELs it once and removes it, and
// no later teardown DELs it again. A directory that is not empty is no
// entry (nobody's record turns into one, and only RemoveAll could clear
// it): it gets no DEL, stays, and GC reports it once. An older reader
// DEL'd a directory on every teardown and it never went; a later one
// skipped it, leaving its attachment (issue 17.9).
func TestDirectoryInResultsDirGetsOneDELAndIsRemoved(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "a", Ifname: "eth0"}}})
	results := filepath.Join(e.cache, "results")
	for _, dir := range []string{"b-sb1-eth1", "b-sb2-eth1/x"} {
		if err := os.MkdirAll(filepath.Join(results, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		tearDown(t, p, PodNetwork{ID: "sb1", NetNS: ns})
	}
	var dels []string
	for _, ev := range testutil.Events(t, log) {
		if strings.HasPrefix(ev, "DEL b") {
			dels = append(dels, ev)
		}
	}
	if want := []string{"DEL b sb1 eth1"}; !reflect.DeepEqual(dels, want) {
		t.Fatalf("DELs of network b over two teardowns = %v, want %v (plugin calls %v)", dels, want, testutil.Events(t, log))
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"b-sb2-eth1"}) {
		t.Fatalf("cache after teardown = %v, want the directory that is not empty alone", got)
	}
	for range 2 {
		if err := p.GC(context.Background(), nil); err != nil {
			t.Fatalf("GC: %v", err)
		}
	}
	for _, ev := range testutil.Events(t, log) {
		if strings.HasPrefix(ev, "DEL b sb2") {
			t.Fatalf("plugin calls = %v, want no DEL for the directory that is not empty", testutil.Events(t, log))
		}
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"b-sb2-eth1"}) {
		t.Fatalf("cache after GC = %v, want the directory that is not empty alone", got)
	}
	if n := e.countLog("a directory that is not empty sits in the CNI cache"); n != 1 {
		t.Fatalf("warned %d times about the directory over two GCs, want once", n)
	}
}

// GC with a pod valid whose entry is a sparse 1 GiB file allocates a few
// MiB: libcni, handed the GC verb, reads every entry whole, so GC empties
// an entry over the size limit first; the pod keeps its (damaged) entry,
// and its own teardown later DELs it. Found by test/chaos (17.9's
// residual: +513 MiB for a 256 MiB entry).
func TestGCWithValidPodDoesNotReadHugeEntry(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.1.0", "10.0.0.1")
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	file := filepath.Join(e.cache, "results", "n-sb1-eth0")
	if err := os.Truncate(file, 1<<30); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := p.GC(context.Background(), []*PodNetwork{&pod}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	runtime.ReadMemStats(&after)
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("GC over a sparse 1 GiB entry of a valid pod allocated %.1f MiB", float64(grew)/(1<<20))
	if grew > 64<<20 {
		t.Fatalf("GC allocated %d MiB, want a few", grew>>20)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-sb1-eth0"}) {
		t.Fatalf("cache after GC = %v, want the valid pod's entry", got)
	}
	tearDown(t, p, pod)
	if got, want := testutil.WithoutStatus(testutil.Commands(t, np.log)), []string{"ADD", "GC", "DEL"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want %v", got, want)
	}
}

// A FIFO at a valid pod's entry path hangs no GC: libcni, which would
// read every entry and block on it before the GC verb, is handed the verb
// alone. The FIFO stays a damaged entry of that pod, whose own teardown
// then DELs it and removes it.
func TestGCWithValidPodFIFOEntryHangsNothing(t *testing.T) {
	e := newEnv(t)
	_, p := e.oneNet("1.1.0", "10.0.0.1")
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	file := filepath.Join(e.cache, "results", "n-sb1-eth0")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(file, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(file, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	if err := within(t, "GC", func(ctx context.Context) error { return p.GC(ctx, []*PodNetwork{&pod}) }); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-sb1-eth0"}) {
		t.Fatalf("cache after GC = %v, want the valid pod's (damaged) entry", got)
	}
	tearDown(t, p, pod)
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the pod's teardown = %v, want it empty", got)
	}
}
