package netconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

// Rewriting a file in place with the bytes it already holds, however a
// reload catches it (empty, half written or whole), changes nothing: no
// VERSION exec, and the snapshot is not replaced, so no waiter wakes.
func TestUnchangedInPlaceRewriteChangesNothing(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "10-a.conflist")
	data := confBytes("a", "1.0.0")
	writeFile(t, path, data)
	s := d.open(t, true)
	armed(t, s)
	execs, changes := s.Stats().VersionExecs, stats(s).Changes

	for range 20 {
		before := s.Stats().Reloads
		writeFile(t, path, data)
		testutil.Eventually(t, waitFor, func() bool { return s.Stats().Reloads > before }, "no reload after the rewrite")
	}
	// A new file flushes the watcher: once it loads, every rewrite before
	// it has been reloaded.
	if err := os.Rename(writeTemp(t, d, confBytes("z", "1.0.0")), confPath(d, "99-z.conflist")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() bool {
		cur, _ := s.Current(context.Background())
		return cur.Lookup("z") != nil
	}, "the flushing file never loaded")

	if n := stats(s).Changes - changes; n != 1 {
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

func TestWatchCreateThenWrite(t *testing.T) {
	e := newEnv(t)
	p := e.watched()
	path := filepath.Join(e.confDir, "10-a.conflist")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	waitSkipped(t, p, path, "is empty")
	if _, err := f.Write(confBytes("a", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	waitDefault(t, p, "a")
}

func TestWatchTempFileRenamedIntoPlace(t *testing.T) {
	e := newEnv(t)
	p := e.watched()
	tmp := filepath.Join(e.confDir, ".10-a.conflist.ansible_tmp")
	writeFile(t, tmp, confBytes("a", "1.0.0"))
	rename(t, tmp, filepath.Join(e.confDir, "10-a.conflist"))
	waitDefault(t, p, "a")

	// Replacing an existing file the same way is seen too.
	writeFile(t, tmp, confBytes("b", "1.0.0"))
	rename(t, tmp, filepath.Join(e.confDir, "10-a.conflist"))
	waitDefault(t, p, "b")
}

func TestWatchOverwriteInPlace(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.confDir, "10-a.conflist")
	writeFile(t, path, confBytes("a", "1.0.0"))
	p := e.watched()
	waitNetwork(t, p, "a", func(n types.NetworkInfo) bool { return n.CNIVersion == "1.0.0" })
	writeFile(t, path, confBytes("a", "0.4.0"))
	waitNetwork(t, p, "a", func(n types.NetworkInfo) bool { return n.CNIVersion == "0.4.0" })
	writeFile(t, path, confBytes("a", "0.4.0", "noop", "noop"))
	waitNetwork(t, p, "a", func(n types.NetworkInfo) bool { return slices.Equal(n.PluginTypes, []string{"noop", "noop"}) })
}

func TestWatchDelete(t *testing.T) {
	e := newEnv(t)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	writeFile(t, filepath.Join(e.confDir, "20-b.conflist"), confBytes("b", "1.0.0"))
	p := e.watched()
	waitDefault(t, p, "a")

	// Deleting a file that is not the default is seen as well (cri-o's
	// watcher ignores it), so the network cannot be used any more.
	if err := os.Remove(filepath.Join(e.confDir, "20-b.conflist")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, waitFor, func() bool { return slices.Equal(networkNames(p.Networks()), []string{"a"}) },
		"networks are %v after deleting b", networkNames(p.Networks()))

	if err := os.Remove(filepath.Join(e.confDir, "10-a.conflist")); err != nil {
		t.Fatal(err)
	}
	waitDefault(t, p, "")
	if err := p.Status(); !errors.Is(err, types.ErrNoDefaultNetwork) || !errors.Is(err, types.ErrNotReady) {
		t.Fatalf("Status after deleting every file = %v, want types.ErrNoDefaultNetwork and types.ErrNotReady", err)
	}
}

func TestWatchChmodPluginBinary(t *testing.T) {
	e := newEnv(t)
	bin := t.TempDir()
	testutil.CopyPlugin(t, "noop", bin)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	p := e.watched(WithBinDirs(bin))
	waitDefault(t, p, "a")

	if err := os.Chmod(filepath.Join(bin, "noop"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitDefault(t, p, "")
	if err := os.Chmod(filepath.Join(bin, "noop"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitDefault(t, p, "a")
}

func TestWatchSymlinkedConfigTargetChanges(t *testing.T) {
	e := newEnv(t)
	elsewhere := t.TempDir()
	target := filepath.Join(elsewhere, "a.conflist")
	writeFile(t, target, confBytes("a", "1.0.0"))
	symlink(t, target, filepath.Join(e.confDir, "10-a.conflist"))
	p := e.watched()
	waitDefault(t, p, "a")

	// The target is replaced the safe way, outside the conf dir.
	writeFile(t, target+".tmp", confBytes("a2", "1.0.0"))
	rename(t, target+".tmp", target)
	waitDefault(t, p, "a2")

	// The link is pointed at a file in a third directory, and that
	// directory is then watched in its turn.
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "b.conflist"), confBytes("b", "1.0.0"))
	link := filepath.Join(e.confDir, "10-a.conflist")
	symlink(t, filepath.Join(other, "b.conflist"), link+".new")
	rename(t, link+".new", link)
	waitDefault(t, p, "b")
	writeFile(t, filepath.Join(other, "b.conflist"), confBytes("b2", "1.0.0"))
	waitDefault(t, p, "b2")
}

// configMapSwap lays out dir the way the kubelet projects a ConfigMap:
// files in a timestamped directory, "..data" pointing at it, and every
// visible file a link through "..data". Each call publishes a new
// generation by renaming a fresh "..data" link over the old one and then
// deleting the old generation.
func configMapSwap(t *testing.T, dir, gen string, files map[string][]byte) {
	t.Helper()
	genDir := filepath.Join(dir, "..2026_01_01_00_00_00."+gen)
	mkdir(t, genDir)
	for name, data := range files {
		writeFile(t, filepath.Join(genDir, name), data)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	symlink(t, filepath.Base(genDir), filepath.Join(dir, "..data_tmp"))
	rename(t, filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data"))
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err != nil {
			symlink(t, filepath.Join("..data", name), link)
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWatchConfigMapLayout(t *testing.T) {
	e := newEnv(t)
	configMapSwap(t, e.confDir, "1", map[string][]byte{"10-net.conflist": confBytes("gen1", "1.0.0")})
	p := e.watched()
	waitDefault(t, p, "gen1")
	for i := 2; i <= 4; i++ {
		want := fmt.Sprintf("gen%d", i)
		configMapSwap(t, e.confDir, fmt.Sprint(i), map[string][]byte{"10-net.conflist": confBytes(want, "1.0.0")})
		waitDefault(t, p, want)
	}
	if got := p.Networks().Networks[0].File; got != filepath.Join(e.confDir, "10-net.conflist") {
		t.Fatalf("network file = %s, want the visible link in the conf dir", got)
	}
}

// capturedWatchers makes the plugin hand every inotify watcher it creates
// to the test, which can then feed its error channel or close it under the
// event loop.
func capturedWatchers(made chan<- *fsnotify.Watcher) Option {
	return func(c *Config) {
		c.newFSWatcher = func() (*fsnotify.Watcher, error) {
			w, err := fsnotify.NewWatcher()
			if err == nil {
				made <- w
			}
			return w, err
		}
	}
}

func nextWatcher(t *testing.T, made <-chan *fsnotify.Watcher) *fsnotify.Watcher {
	t.Helper()
	select {
	case w := <-made:
		return w
	case <-time.After(waitFor):
		t.Fatalf("no new inotify watcher within %s", waitFor)
		return nil
	}
}

func TestWatchErrorReArms(t *testing.T) {
	e := newEnv(t)
	made := make(chan *fsnotify.Watcher, 4)
	p := e.watched(capturedWatchers(made))
	first := nextWatcher(t, made)

	first.Errors <- errors.New("injected watcher failure")
	second := nextWatcher(t, made)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	waitDefault(t, p, "a")

	// The loop seeing its watcher closed under it is survived the same way.
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	nextWatcher(t, made)
	writeFile(t, filepath.Join(e.confDir, "05-b.conflist"), confBytes("b", "1.0.0"))
	waitDefault(t, p, "b")

	if stats(p.conf).Polling {
		t.Fatal("the watcher fell back to polling; it should have re-armed inotify")
	}
	var rearms int
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, "re-establishing") {
			rearms++
		}
	}
	if rearms != 2 {
		t.Fatalf("logged %d re-arms, want 2", rearms)
	}
}
