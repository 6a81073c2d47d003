package ocicnitest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// BenchmarkSetUpTearDown measures one pod's setup, status and teardown on
// two networks: the cost the fake adds to a runtime's unit test.
func BenchmarkSetUpTearDown(b *testing.B) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	pod := fakePod("bench", "a", "b")
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := p.SetUpPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if _, err := p.GetPodNetworkStatusWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if err := p.TearDownPodWithContext(ctx, pod); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			p.ResetCalls()
		}
	}
}

// BenchmarkSetUpParallel measures setups of distinct pods from many
// goroutines, which contend only on the fake's bookkeeping lock.
func BenchmarkSetUpParallel(b *testing.B) {
	p := ocicnitest.New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pod := fakePod(fmt.Sprintf("p%p", &pb))
			if _, err := p.SetUpPod(pod); err != nil {
				b.Fatal(err)
			}
			if err := p.TearDownPod(ocicni.PodNetwork{ID: pod.ID}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
