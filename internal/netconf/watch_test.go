package netconf

import (
	"context"
	"os"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// Rewriting a file in place with the bytes it already holds, however a
// reload catches it (empty, half written or whole), changes nothing: no
// VERSION exec, and the snapshot is not replaced, so no waiter wakes.
func TestUnchangedInPlaceRewriteChangesNothing(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "10-a.conflist")
	data := conflist("a")
	write(t, path, data)
	s := d.open(t, true)
	armed(t, s)
	execs, changes := s.Stats().VersionExecs, s.Stats().Changes

	for range 20 {
		before := s.Stats().Reloads
		write(t, path, data)
		testutil.Eventually(t, waitFor, func() bool { return s.Stats().Reloads > before }, "no reload after the rewrite")
	}
	// A new file flushes the watcher: once it loads, every rewrite before
	// it has been reloaded.
	if err := os.Rename(writeTemp(t, d, conflist("z")), confPath(d, "99-z.conflist")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() bool {
		cur, _ := s.Current(context.Background())
		return cur.Lookup("z") != nil
	}, "the flushing file never loaded")

	if n := s.Stats().Changes - changes; n != 1 {
		t.Fatalf("the snapshot changed %d times, want once (for the flushing file alone)", n)
	}
	if cur, _ := s.Current(context.Background()); cur.Default == nil || cur.Default.Name != "a" {
		t.Fatalf("default network after the rewrites = %+v, want a", cur.Default)
	}
	if n := s.Stats().VersionExecs - execs; n != 0 {
		t.Fatalf("rewriting an unchanged file caused %d VERSION execs, want 0", n)
	}
}

func writeTemp(t *testing.T, d testDirs, data []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
