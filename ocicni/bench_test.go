package ocicni

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// benchEnv writes one noop network (no command log, so every call costs
// the same) and returns a plugin on it and a pod in a fresh netns.
func benchEnv(b testing.TB) (*Plugin, PodNetwork, string) {
	b.Helper()
	testutil.RequireRoot(b)
	binDir := testutil.LinkPlugins(b, "noop")
	confDir := b.TempDir()
	dbg := b.TempDir() + "/debug.json"
	if err := (&debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")}).WriteDebug(dbg); err != nil {
		b.Fatal(err)
	}
	testutil.WriteJSON(b, confDir, "10-n.conflist", map[string]any{
		"cniVersion": "1.0.0", "name": "n", "plugins": []any{map[string]any{"type": "noop", "debugFile": dbg}},
	})
	p, err := New(WithConfDir(confDir), WithBinDirs(binDir), WithCacheDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown() })
	pod := PodNetwork{Name: "web", Namespace: "prod", ID: "bench", UID: "u1", NetNS: testutil.NewNetNS(b)}
	return p, pod, binDir
}

func BenchmarkSetUpTearDown(b *testing.B) {
	p, pod, _ := benchEnv(b)
	for b.Loop() {
		if _, err := p.SetUpPod(pod); err != nil {
			b.Fatal(err)
		}
		if err := p.TearDownPod(pod); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverheadVsLibcni times the library's SetUpPod + TearDownPod and
// libcni's AddNetworkList + DelNetworkList on the same configuration,
// plugins, arguments and netns, in interleaved rounds after a warm-up
// round, and reports the library's overhead as a share of what libcni
// alone spends. Medians, since on a shared machine a few slow execs would
// otherwise swamp a difference of a few percent; run it with -benchtime of
// at least 30x.
func BenchmarkOverheadVsLibcni(b *testing.B) {
	p, pod, binDir := benchEnv(b)
	set := currentSet(p)
	list := set.Default.List
	rt := p.runtimeConf(&pod, "n", DefaultInterfaceName)
	direct := libcni.NewCNIConfigWithCacheDir([]string{binDir}, b.TempDir(),
		&invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}})
	ctx := context.Background()
	var lib, ours []time.Duration
	timeLib := func() time.Duration {
		t0 := time.Now()
		if _, err := direct.AddNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
		if err := direct.DelNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	timeOurs := func() time.Duration {
		t0 := time.Now()
		if _, err := p.SetUpPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if err := p.TearDownPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	timeLib()
	timeOurs()
	n := 0
	for b.Loop() {
		// Alternate which goes first, so neither always runs on a
		// warmer or colder cache.
		if n%2 == 0 {
			lib = append(lib, timeLib())
			ours = append(ours, timeOurs())
		} else {
			ours = append(ours, timeOurs())
			lib = append(lib, timeLib())
		}
		n++
	}
	libNs, oursNs := float64(testutil.Median(lib).Nanoseconds()), float64(testutil.Median(ours).Nanoseconds())
	b.ReportMetric(libNs, "libcni-ns/pod")
	b.ReportMetric(oursNs, "ocicni-ns/pod")
	b.ReportMetric(100*(oursNs-libNs)/libNs, "overhead-%")
}
