package ocicni

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// BenchmarkReloadWatched500 is BenchmarkReloadCached500's reload as the
// inotify watcher does it: with watching on, the directory fingerprint is
// not needed.
func BenchmarkReloadWatched500(b *testing.B) {
	conf := b.TempDir()
	bin := testutil.LinkPlugins(b, "noop")
	for i := 0; i < 500; i++ {
		name := fmt.Sprintf("%03d-net.conflist", i)
		data := confBytes(fmt.Sprintf("net%03d", i), "1.0.0", "noop", "noop")
		if err := os.WriteFile(filepath.Join(conf, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	p := benchPlugin(b, WithConfDir(conf), WithBinDirs(bin))
	if p.watch.polling.Load() {
		b.Skip("inotify unavailable; the watcher polls")
	}
	if n := len(p.Networks().Networks); n != 500 {
		b.Fatalf("%d networks loaded, want 500", n)
	}
	execs := p.versionExecs()
	for b.Loop() {
		p.reload(p.life)
	}
	b.ReportMetric(float64(p.versionExecs()-execs), "execs")
}
