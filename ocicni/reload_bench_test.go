package ocicni

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

func benchPlugin(b *testing.B, opts ...Option) *Plugin {
	b.Helper()
	base := []Option{WithCacheDir(b.TempDir())}
	p, err := New(append(base, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// waitView blocks until cond holds for the current view, waking on each
// change of it.
func waitView(b *testing.B, p *Plugin, cond func(NetworkSet) bool) {
	b.Helper()
	deadline := time.After(waitFor)
	for {
		v := p.Networks()
		if cond(v) {
			return
		}
		select {
		case <-v.Changed:
		case <-deadline:
			b.Fatalf("configuration never reached the wanted state: %+v", v)
		}
	}
}

// BenchmarkWatchToReady measures the time from a conflist being renamed
// into an empty, watched conf dir to WaitReady returning (Status() == nil).
//
// "idle": each round starts a fresh Plugin on an empty dir and waits until
// its watcher is armed and idle, so the round also pays the plugin's first
// VERSION exec. "back-to-back": one Plugin; each round's file lands right
// after the previous round's removal was reloaded, so it falls within the
// reload gap and shows what coalescing costs a change that follows another.
func BenchmarkWatchToReady(b *testing.B) {
	b.Run("idle", func(b *testing.B) {
		bin := testutil.LinkPlugins(b, "noop")
		ctx := context.Background()
		var lat []time.Duration
		var execs int64
		for b.Loop() {
			b.StopTimer()
			conf, staging := b.TempDir(), b.TempDir()
			p := benchPlugin(b, WithConfDir(conf), WithBinDirs(bin))
			// Armed: one reload that added the watches, one that found
			// nothing new; the loop then waits for events.
			testutil.Eventually(b, waitFor, func() bool { return p.conf.Stats().Reloads >= 2 }, "watcher never armed")
			src := filepath.Join(staging, "net.conflist")
			if err := os.WriteFile(src, testutil.ConfBytes("net", "1.0.0"), 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()

			start := time.Now()
			if err := os.Rename(src, filepath.Join(conf, "10-net.conflist")); err != nil {
				b.Fatal(err)
			}
			if err := p.WaitReady(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))

			b.StopTimer()
			execs += p.conf.Stats().VersionExecs
			_ = p.Shutdown()
			b.StartTimer()
		}
		b.ReportMetric(float64(testutil.Median(lat).Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(execs)/float64(len(lat)), "execs/op")
	})
	b.Run("back-to-back", func(b *testing.B) {
		conf, staging := b.TempDir(), b.TempDir()
		bin := testutil.LinkPlugins(b, "noop")
		p := benchPlugin(b, WithConfDir(conf), WithBinDirs(bin))
		testutil.Eventually(b, waitFor, func() bool { return p.conf.Stats().Reloads >= 2 }, "watcher never armed")
		ctx := context.Background()
		var lat []time.Duration
		execs := p.conf.Stats().VersionExecs
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			src := filepath.Join(staging, "net.conflist")
			if err := os.WriteFile(src, testutil.ConfBytes(fmt.Sprintf("net%d", i), "1.0.0"), 0o644); err != nil {
				b.Fatal(err)
			}
			dst := filepath.Join(conf, "10-net.conflist")
			b.StartTimer()

			start := time.Now()
			if err := os.Rename(src, dst); err != nil {
				b.Fatal(err)
			}
			if err := p.WaitReady(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))

			b.StopTimer()
			if err := os.Remove(dst); err != nil {
				b.Fatal(err)
			}
			waitView(b, p, func(v NetworkSet) bool { return v.Default == "" })
			b.StartTimer()
		}
		b.ReportMetric(float64(testutil.Median(lat).Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(p.conf.Stats().VersionExecs-execs)/float64(len(lat)), "execs/op")
	})
	// "after-removal": as "back-to-back", but the new file lands a few
	// milliseconds after the old one was removed, without waiting for the
	// removal to be reloaded: a delete-then-create replacement. The round
	// ends when the new network is the default.
	b.Run("after-removal", func(b *testing.B) {
		conf, staging := b.TempDir(), b.TempDir()
		bin := testutil.LinkPlugins(b, "noop")
		p := benchPlugin(b, WithConfDir(conf), WithBinDirs(bin))
		testutil.Eventually(b, waitFor, func() bool { return p.conf.Stats().Reloads >= 2 }, "watcher never armed")
		dst := filepath.Join(conf, "10-net.conflist")
		if err := os.WriteFile(dst, testutil.ConfBytes("net", "1.0.0"), 0o644); err != nil {
			b.Fatal(err)
		}
		waitView(b, p, func(v NetworkSet) bool { return v.Default == "net" })
		var lat []time.Duration
		execs := p.conf.Stats().VersionExecs
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			want := fmt.Sprintf("net%d", i)
			src := filepath.Join(staging, "net.conflist")
			if err := os.WriteFile(src, testutil.ConfBytes(want, "1.0.0"), 0o644); err != nil {
				b.Fatal(err)
			}
			if err := os.Remove(dst); err != nil {
				b.Fatal(err)
			}
			time.Sleep(3 * time.Millisecond)
			b.StartTimer()

			start := time.Now()
			if err := os.Rename(src, dst); err != nil {
				b.Fatal(err)
			}
			waitView(b, p, func(v NetworkSet) bool { return v.Default == want })
			lat = append(lat, time.Since(start))
		}
		b.ReportMetric(float64(testutil.Median(lat).Microseconds())/1000, "ms-median")
		b.ReportMetric(float64(p.conf.Stats().VersionExecs-execs)/float64(len(lat)), "execs/op")
	})
}
