package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// BenchmarkStatus compares Status, answered from the background poll, with
// what it cost when every call exec'd the default chain's STATUS (as
// containerd still does per CRI Status call), on a two-plugin 1.1.0 chain
// of the noop test plugin, in the same run.
func BenchmarkStatus(b *testing.B) {
	conf, bin := b.TempDir(), testutil.LinkPlugins(b, "noop")
	if err := os.WriteFile(filepath.Join(conf, "10-n.conflist"), testutil.ConfBytes("n", "1.1.0", "noop", "noop"), 0o644); err != nil {
		b.Fatal(err)
	}
	p := benchPlugin(b, WithConfDir(conf), WithBinDirs(bin), WithStatusInterval(0))
	set, _ := p.conf.Current(context.Background())
	if set.Default == nil {
		b.Fatal("network not loaded")
	}
	b.Run("polled", func(b *testing.B) {
		for b.Loop() {
			if err := p.Status(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exec-per-call", func(b *testing.B) {
		for b.Loop() {
			if err := p.chainStatus(context.Background(), set.Default.List); err != nil {
				b.Fatal(err)
			}
		}
	})
}
