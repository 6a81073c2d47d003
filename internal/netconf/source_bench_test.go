package netconf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// BenchmarkReloadCached500 measures one reload of a conf dir of 500 files
// whose validation is already cached, and reports the VERSION execs it
// caused (want 0). "scan-only" is what an operation pays without a
// watcher when nothing changed: the directory fingerprint alone.
func BenchmarkReloadCached500(b *testing.B) {
	p := plugin500(b, WithWatch(false))

	b.Run("reload", func(b *testing.B) {
		execs := stats(p.conf).VersionExecs
		for b.Loop() {
			reloadNow(p.conf)
		}
		b.ReportMetric(float64(stats(p.conf).VersionExecs-execs), "execs")
	})
	b.Run("scan-only", func(b *testing.B) {
		execs := stats(p.conf).VersionExecs
		for b.Loop() {
			if p.GetDefaultNetworkName() != "net000" {
				b.Fatal("default network lost")
			}
		}
		b.ReportMetric(float64(stats(p.conf).VersionExecs-execs), "execs")
	})
}

// plugin500 opens a Source on a conf dir of 500 valid two-plugin files,
// all loaded (so every later reload finds its validation cached).
func plugin500(b *testing.B, opts ...Option) *plugin {
	b.Helper()
	conf := b.TempDir()
	bin := testutil.LinkPlugins(b, "noop")
	for i := 0; i < 500; i++ {
		name := fmt.Sprintf("%03d-net.conflist", i)
		data := confBytes(fmt.Sprintf("net%03d", i), "1.0.0", "noop", "noop")
		if err := os.WriteFile(filepath.Join(conf, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cfg := Config{ConfDir: conf, BinDirs: []string{bin}, Watch: true, PollInterval: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	p := benchSource(b, cfg)
	if n := len(p.Networks().Networks); n != 500 {
		b.Fatalf("%d networks loaded, want 500", n)
	}
	return p
}

// BenchmarkReloadWatched500 is BenchmarkReloadCached500's reload as the
// inotify watcher does it: with watching on, the directory fingerprint is
// not needed.
func BenchmarkReloadWatched500(b *testing.B) {
	p := plugin500(b)
	if stats(p.conf).Polling {
		b.Skip("inotify unavailable; the watcher polls")
	}
	execs := stats(p.conf).VersionExecs
	for b.Loop() {
		reloadNow(p.conf)
	}
	b.ReportMetric(float64(stats(p.conf).VersionExecs-execs), "execs")
}

// benchSource opens a Source with cfg, a quiet log and real VERSION execs,
// closed when the benchmark ends.
func benchSource(b *testing.B, cfg Config) *plugin {
	b.Helper()
	cfg.Log = quietLog()
	cfg.Exec = pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: cfg.Log})
	s := Open(cfg)
	b.Cleanup(s.Close)
	return &plugin{conf: s}
}

// BenchmarkLoad1000 loads 1,000 two-plugin conf files: cold (a new
// Source, whose VERSION exec per binary is the floor) and warm (a reload
// of unchanged files, which parses and execs nothing).
func BenchmarkLoad1000(b *testing.B) {
	conf := b.TempDir()
	bin := testutil.LinkPlugins(b, "noop")
	for i := range 1000 {
		data := confBytes(fmt.Sprintf("net%04d", i), "1.0.0", "noop", "noop")
		if err := os.WriteFile(filepath.Join(conf, fmt.Sprintf("%04d-net.conflist", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			p := benchSource(b, Config{ConfDir: conf, BinDirs: []string{bin}})
			if n := len(p.Networks().Networks); n != 1000 {
				b.Fatalf("%d networks loaded", n)
			}
			_ = p.Shutdown()
		}
	})
	b.Run("warm", func(b *testing.B) {
		p := benchSource(b, Config{ConfDir: conf, BinDirs: []string{bin}})
		for b.Loop() {
			reloadNow(p.conf)
		}
	})
}
