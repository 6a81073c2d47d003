package ocicni

import (
	"context"
	"fmt"
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
func benchEnv(b *testing.B) (*Plugin, PodNetwork, string) {
	b.Helper()
	testutil.RequireRoot(b)
	binDir := testutil.LinkPlugins(b, "noop")
	confDir := b.TempDir()
	dbg := b.TempDir() + "/debug.json"
	if err := (&debug.Debug{ReportResult: resultFor("1.0.0", "10.0.0.1")}).WriteDebug(dbg); err != nil {
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

// BenchmarkOverheadVsLibcni times the library's SetUpPod and libcni's
// AddNetworkList on the same configuration and arguments, interleaved so
// both see the same machine load, and reports the library's overhead as a
// share of the plugin exec time libcni alone spends. Medians, since on a
// shared machine a few slow execs would otherwise swamp a difference of a
// few percent.
func BenchmarkOverheadVsLibcni(b *testing.B) {
	p, pod, binDir := benchEnv(b)
	set := currentSet(p)
	list := set.Default.List
	rt := p.runtimeConf(&pod, "n", DefaultInterfaceName, 0)
	direct := libcni.NewCNIConfigWithCacheDir([]string{binDir}, b.TempDir(),
		&invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}})
	ctx := context.Background()
	var lib, ours []time.Duration
	n := 0
	// Each round uses a fresh sandbox ID on both sides: the library refuses
	// to ADD an attachment the cache already holds.
	timeLib := func() {
		rtN := *rt
		rtN.ContainerID = fmt.Sprintf("lib%d", n)
		t0 := time.Now()
		if _, err := direct.AddNetworkList(ctx, list, &rtN); err != nil {
			b.Fatal(err)
		}
		lib = append(lib, time.Since(t0))
	}
	timeOurs := func() {
		podN := pod
		podN.ID = fmt.Sprintf("ours%d", n)
		t0 := time.Now()
		if _, err := p.SetUpPodWithContext(ctx, podN); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(t0))
	}
	for b.Loop() {
		// Alternate which goes first, so neither always runs on a
		// warmer or colder cache.
		if n%2 == 0 {
			timeLib()
			timeOurs()
		} else {
			timeOurs()
			timeLib()
		}
		n++
	}
	libNs, oursNs := float64(median(lib).Nanoseconds()), float64(median(ours).Nanoseconds())
	b.ReportMetric(libNs, "libcni-ns/add")
	b.ReportMetric(oursNs, "ocicni-ns/add")
	b.ReportMetric(100*(oursNs-libNs)/libNs, "overhead-%")
}
