package ocicni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/internal/testutil"
)

// scaleStale is how many stale attachments BenchmarkGCStale collects:
// OCICNI_BENCH_STALE, or 1000 so that make test's single iteration stays
// short (the README quotes a run with 10000).
func scaleStale(b *testing.B) int {
	if s := os.Getenv("OCICNI_BENCH_STALE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 1000
}

// scaleEnv is benchEnv with the faulty test plugin, which keeps no state
// between calls, so GC may run many of its DELs at once (noop rewrites a
// shared debug file on every call).
func scaleEnv(b *testing.B) (*Plugin, PodNetwork) {
	b.Helper()
	testutil.RequireRoot(b)
	binDir := testutil.LinkPlugins(b, "faulty")
	confDir := b.TempDir()
	testutil.WriteJSON(b, confDir, "10-n.conflist", map[string]any{
		"cniVersion": "1.1.0", "name": "n", "plugins": []any{map[string]any{"type": "faulty", "ip": "10.0.0.1/24"}},
	})
	p := benchPlugin(b, WithConfDir(confDir), WithBinDirs(binDir), WithWatch(false))
	return p, PodNetwork{Name: "web", Namespace: "prod", ID: "bench", UID: "u1", NetNS: testutil.NewNetNS(b)}
}

// fillCache writes n cache entries of network "n" for sandboxes
// <prefix>0..<prefix>n-1, as libcni would have after n setups.
func fillCache(b *testing.B, p *Plugin, prefix string, n int) {
	b.Helper()
	set, _ := p.conf.Current(context.Background())
	list := set.Lookup("n").List
	dir := p.store.Dir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		data, err := json.Marshal(map[string]any{
			"kind": libcni.CNICacheV1, "containerId": id, "config": list.Bytes, "ifName": "eth0",
			"networkName": "n", "result": json.RawMessage(testutil.ResultFor("1.0.0", "10.0.0.1")),
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "n-"+id+"-eth0"), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScale times one pod's setup, status and teardown with no other
// attachment cached and with 10,000 of other sandboxes: they must cost the
// same, since an operation reads only its own sandbox's entries.
func BenchmarkScale(b *testing.B) {
	for _, others := range []int{0, 10000} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			p, pod := scaleEnv(b)
			fillCache(b, p, "other", others)
			// The first operation lists the directory once to build the
			// index; that is a one-time cost per process.
			setUp(b, p, pod)
			tearDown(b, p, pod)
			var setup, status, teardown time.Duration
			for b.Loop() {
				t0 := time.Now()
				setUp(b, p, pod)
				t1 := time.Now()
				if _, err := p.GetPodNetworkStatus(pod); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				tearDown(b, p, pod)
				setup, status, teardown = setup+t1.Sub(t0), status+t2.Sub(t1), teardown+time.Since(t2)
			}
			n := float64(b.N)
			b.ReportMetric(float64(setup.Microseconds())/n/1000, "setup-ms")
			b.ReportMetric(float64(status.Microseconds())/n/1000, "status-ms")
			b.ReportMetric(float64(teardown.Microseconds())/n/1000, "teardown-ms")
		})
	}
}

// BenchmarkGCStale times a GC that removes scaleStale stale attachments,
// and a SetUpPod issued while it runs: the setup waits for no stale DEL,
// only for its own plugins, whose processes get the CPU before GC's
// (compare setup-during-gc-ms with setup-idle-ms, the same setup once GC
// is done). bare-exec/s is the rate GC cannot beat on this machine.
func BenchmarkGCStale(b *testing.B) {
	stale := scaleStale(b)
	for b.Loop() {
		b.StopTimer()
		p, pod := scaleEnv(b)
		fillCache(b, p, "stale", stale)
		b.StartTimer()
		t0 := time.Now()
		done := make(chan error, 1)
		go func() { done <- p.GC(context.Background(), []*PodNetwork{&pod}) }()
		// Wait until GC is busy with the stale sandboxes, then set up.
		testutil.Eventually(b, time.Minute, func() bool {
			entries, _ := os.ReadDir(p.store.Dir())
			return len(entries) < stale
		}, "GC never started")
		s0 := time.Now()
		setUp(b, p, pod)
		setupDur := time.Since(s0)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		gcDur := time.Since(t0)
		b.StopTimer()
		// The same setup on the idle machine: what the setup's own
		// plugins take, against which the one during GC is judged.
		tearDown(b, p, pod)
		i0 := time.Now()
		setUp(b, p, pod)
		idleDur := time.Since(i0)
		bare := bareDels(b, p, stale)
		b.StartTimer()
		b.ReportMetric(float64(setupDur.Microseconds())/1000, "setup-during-gc-ms")
		b.ReportMetric(float64(idleDur.Microseconds())/1000, "setup-idle-ms")
		b.ReportMetric(float64(gcDur.Milliseconds()), "gc-ms")
		b.ReportMetric(float64(stale)/gcDur.Seconds(), "stale/s")
		b.ReportMetric(float64(stale)/bare.Seconds(), "bare-exec/s")
	}
}

// bareDels is the floor under BenchmarkGCStale: n DELs of the same plugin
// and configuration exec'd straight from os/exec, as many at once as GC
// runs, with nothing of the library around them. On a machine where the
// execs themselves saturate the CPUs, GC cannot beat this rate.
func bareDels(b *testing.B, p *Plugin, n int) time.Duration {
	b.Helper()
	set, _ := p.conf.Current(context.Background())
	conf := set.Lookup("n").List.Plugins[0].Bytes
	bin := filepath.Join(p.opts.binDirs[0], "faulty")
	jobs := make(chan int)
	errs := make(chan error, defaultGCWorkers)
	t0 := time.Now()
	for range defaultGCWorkers {
		go func() {
			var err error
			for i := range jobs {
				c := exec.Command(bin)
				c.Env = []string{"CNI_COMMAND=DEL", "CNI_CONTAINERID=bare" + strconv.Itoa(i), "CNI_IFNAME=eth0", "CNI_NETNS=", "CNI_PATH=" + filepath.Dir(bin)}
				c.Stdin = bytes.NewReader(conf)
				if e := c.Run(); e != nil && err == nil {
					err = e
				}
			}
			errs <- err
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	for range defaultGCWorkers {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// BenchmarkGCMostlyValid times a GC over 10,000 cached attachments of
// which 9,900 belong to valid pods: 100 DELs plus the bookkeeping.
func BenchmarkGCMostlyValid(b *testing.B) {
	p, _ := scaleEnv(b)
	var valid []*PodNetwork
	for i := range 9900 {
		valid = append(valid, &PodNetwork{ID: fmt.Sprintf("valid%d", i)})
	}
	for b.Loop() {
		b.StopTimer()
		fillCache(b, p, "valid", 9900)
		fillCache(b, p, "gone", 100)
		b.StartTimer()
		if err := p.GC(context.Background(), valid); err != nil {
			b.Fatal(err)
		}
	}
}
