//go:build linux

package e2e

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// benchPodSeq keeps sandbox IDs unique across a benchmark's repeated runs.
var benchPodSeq atomic.Int64

func benchID() string { return fmt.Sprintf("bench%d", benchPodSeq.Add(1)) }

// benchWorld is a world with the benchmark chain (bridge + host-local +
// tuning) as its only network.
func benchWorld(b *testing.B) (*world, string) {
	w := newWorld(b)
	file := w.writeConf("10-podnet.conflist", w.bridgeNet("podnet", tuningPlugin(1500)))
	return w, file
}

// Per-pod setup+teardown latency with the real bridge chain: through the
// library, and through libcni directly on the same file, plugins and
// namespace. Each iteration runs one pod each way, alternating, so both
// see the same machine load; the difference is the library's own cost.
func BenchmarkSetupTeardown(b *testing.B) {
	w, file := benchWorld(b)
	netnsPath := testutil.NewNetNS(b)
	ctx := context.Background()
	p := w.plugin()
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}, PluginDecoder: version.PluginDecoder{}}
	cni := libcni.NewCNIConfigWithCacheDir([]string{w.binDir}, b.TempDir(), exec)
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		b.Fatal(err)
	}

	viaLibrary := func() {
		pod := ocicni.PodNetwork{Name: "bench", Namespace: "e2e", ID: benchID(), NetNS: netnsPath}
		if _, err := p.SetUpPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if err := p.TearDownPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
	}
	viaLibcni := func() {
		id := benchID()
		rt := &libcni.RuntimeConf{
			ContainerID: id, NetNS: netnsPath, IfName: "eth0",
			Args: [][2]string{
				{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "e2e"}, {"K8S_POD_NAME", "bench"},
				{"K8S_POD_INFRA_CONTAINER_ID", id}, {"K8S_POD_UID", ""},
			},
		}
		if _, err := cni.AddNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
	}

	var lib, raw time.Duration
	for b.Loop() {
		start := time.Now()
		viaLibrary()
		mid := time.Now()
		viaLibcni()
		lib, raw = lib+mid.Sub(start), raw+time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(lib.Seconds()*1000/n, "library-ms/pod")
	b.ReportMetric(raw.Seconds()*1000/n, "libcni-ms/pod")
	b.ReportMetric((lib-raw).Seconds()*1000/n, "overhead-ms/pod")
	assertClean(b, w, "podnet")
}

// Pods per second (setup and teardown of each) at concurrency 1, 4 and
// 16, through the library with the real bridge chain.
func BenchmarkPodsPerSecond(b *testing.B) {
	for _, c := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			w, _ := benchWorld(b)
			p := w.plugin()
			netnsPaths := make([]string, c)
			for i := range netnsPaths {
				netnsPaths[i] = testutil.NewNetNS(b)
			}
			ctx := context.Background()
			var next atomic.Int64
			var failed atomic.Pointer[error]
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, netnsPath := range netnsPaths {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) && failed.Load() == nil {
						pod := ocicni.PodNetwork{Name: "bench", Namespace: "e2e", ID: benchID(), NetNS: netnsPath}
						_, err := p.SetUpPodWithContext(ctx, pod)
						if err == nil {
							err = p.TearDownPodWithContext(ctx, pod)
						}
						if err != nil {
							failed.Store(&err)
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
			assertClean(b, w, "podnet")
		})
	}
}
