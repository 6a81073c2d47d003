package netconf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

// A burst copied in while a reload is in flight costs one follow-up reload,
// not one per file, and one VERSION exec per plugin binary. The burst is
// copied while a reload is held in VERSION, so the count does not depend on
// how the scheduler interleaves the copy with reloads: copied freely, on a
// loaded machine each file may land after the previous reload ended and get
// a reload of its own (18 to 55 of them were seen at load 30), which is the
// design (no quiet window delays a change) and not a failure to coalesce.
func TestBurstIsCoalesced(t *testing.T) {
	e := newEnv(t)
	g := &gateExec{started: make(chan struct{}, 1), gate: make(chan struct{})}
	p := e.watched(withExec(g))
	if stats(p.conf).Polling {
		t.Skip("skipped: inotify unavailable, the watcher polls")
	}
	src := t.TempDir()
	for i := 0; i < 100; i++ {
		writeFile(t, filepath.Join(src, fmt.Sprintf("%03d.conflist", i)), confBytes(fmt.Sprintf("net%03d", i), "1.0.0"))
	}
	before := stats(p.conf)

	// A network on the sleep plugin lands in one event (a rename) and its
	// reload hangs in VERSION until the gate opens.
	writeFile(t, filepath.Join(src, "00-slow.conflist"), confBytes("slow", "1.0.0", "sleep"))
	rename(t, filepath.Join(src, "00-slow.conflist"), filepath.Join(e.confDir, "00-slow.conflist"))
	select {
	case <-g.started:
	case <-time.After(waitFor):
		t.Fatal("the reload never asked the sleep plugin for VERSION")
	}
	// As cp(1) does: create, write and close each file in turn.
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("%03d.conflist", i)
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(e.confDir, name), data)
	}
	// Each file's creation is an event of its own (inotify merges only
	// repeats of one event on one name), so by now the watcher holds the
	// burst, bar perhaps the writes of the last files.
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Events >= before.Events+101 },
		"the watcher received %d of at least 101 events", stats(p.conf).Events-before.Events)
	close(g.gate)
	testutil.Eventually(t, waitFor, func() bool { return len(p.Networks().Networks) == 101 },
		"only %d of 101 networks loaded", len(p.Networks().Networks))
	settle(t, e, p, "sentinel")

	got := stats(p.conf).Reloads - before.Reloads
	t.Logf("100 files copied in: %d reloads, %d events, %d VERSION execs",
		got, stats(p.conf).Events-before.Events, stats(p.conf).VersionExecs-before.VersionExecs)
	if got > 12 {
		t.Fatalf("copying 100 files caused %d reloads, want a handful", got)
	}
	// Two plugin binaries, noop and sleep: one VERSION exec each, whatever
	// the number of files.
	if n := stats(p.conf).VersionExecs - before.VersionExecs; n != 2 {
		t.Fatalf("copying 100 files that use one plugin (and one on sleep) caused %d VERSION execs, want 2", n)
	}
}

func TestUnchangedRewriteExecsNothing(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.confDir, "10-a.conflist")
	data := confBytes("a", "1.0.0")
	writeFile(t, path, data)
	p := e.watched()
	execs := stats(p.conf).VersionExecs

	// Replaced atomically with the same bytes: the reload finds nothing
	// new, so watchers of the view are not woken either.
	view := p.Networks()
	reloads := stats(p.conf).Reloads
	writeFile(t, path+".tmp", data)
	rename(t, path+".tmp", path)
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Reloads > reloads }, "no reload after the rewrite")
	select {
	case <-view.Changed:
		t.Fatal("rewriting a file with the same bytes woke the Changed channel")
	default:
	}

	// Truncated, reloaded while empty, and only then written back: still
	// nothing to ask the plugin, as the binary has not changed.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	waitSkipped(t, p, path, "is empty")
	writeFile(t, path, data)
	waitDefault(t, p, "a")

	// Rewritten in place (truncate, then write): a reload may see the file
	// empty in between, but even then nothing is exec'ed again.
	writeFile(t, path, data)
	if err := os.Chtimes(path, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	settle(t, e, p, "sentinel")

	if n := stats(p.conf).VersionExecs - execs; n != 0 {
		t.Fatalf("rewriting an unchanged file caused %d VERSION execs, want 0", n)
	}
	if p.GetDefaultNetworkName() != "a" {
		t.Fatalf("default network = %q after the rewrite, want a", p.GetDefaultNetworkName())
	}
}

// A caller that gives up must not poison the configuration: without a
// watcher, the reload an operation triggers used to run its VERSION execs
// on the caller's context, so a cancelled caller got the new network
// recorded as skipped ("did not answer VERSION: context canceled"), and
// since the directories then looked unchanged, every later operation kept
// that verdict until some unrelated file changed.
func TestReloadIgnoresCallerCancellation(t *testing.T) {
	e := newEnv(t)
	p := e.plugin(WithWatch(false))
	if err := p.Status(); err == nil {
		t.Fatal("ready with an empty conf dir")
	}
	writeFile(t, filepath.Join(e.confDir, "10-n.conflist"), confBytes("n", "1.0.0"))
	testutil.Eventually(t, 5*time.Second, p.conf.settled, "directory stamps never settled")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = p.conf.Current(ctx)

	if err := p.Status(); err != nil {
		t.Fatalf("a cancelled caller's reload left the network unusable: %v", err)
	}
	if s := p.Networks().Skipped; len(s) != 0 {
		t.Fatalf("skipped files after a cancelled caller: %v", s)
	}
}

// gateExec runs every plugin for real, except that VERSION of the sleep
// plugin (which cannot answer VERSION itself) reports that it started and
// then waits for the test to open the gate: it holds a reload in flight
// for as long as the test needs.
type gateExec struct {
	invoke.RawExec
	version.PluginDecoder
	started chan struct{}
	gate    chan struct{}
}

func (g *gateExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	if filepath.Base(path) == "sleep" && slices.Contains(environ, "CNI_COMMAND=VERSION") {
		g.started <- struct{}{}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []byte(`{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}`), nil
	}
	return g.RawExec.ExecPlugin(ctx, path, stdin, environ)
}

func TestEventsDuringReloadFoldIntoOneFollowUp(t *testing.T) {
	e := newEnv(t)
	g := &gateExec{started: make(chan struct{}, 1), gate: make(chan struct{})}
	p := e.watched(withExec(g))
	// Armed and idle: the reload that added the watches and the one after.
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Reloads >= 2 }, "the watcher never went idle")
	if stats(p.conf).Polling {
		t.Skip("skipped: inotify unavailable, the watcher polls")
	}
	before := stats(p.conf)

	// Files are renamed in from a staging directory, so each landing is
	// exactly one event.
	staging := t.TempDir()
	land := func(file string, data []byte) {
		t.Helper()
		writeFile(t, filepath.Join(staging, file), data)
		rename(t, filepath.Join(staging, file), filepath.Join(e.confDir, file))
	}
	land("10-slow.conflist", confBytes("slow", "1.0.0", "sleep"))
	select {
	case <-g.started:
	case <-time.After(waitFor):
		t.Fatal("the reload never asked the sleep plugin for VERSION")
	}
	// That reload now hangs in VERSION while five more files land.
	for i := range 5 {
		land(fmt.Sprintf("2%d-n.conflist", i), confBytes(fmt.Sprintf("n%d", i), "1.0.0"))
	}
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Events >= before.Events+6 },
		"the watcher received %d of 6 events", stats(p.conf).Events-before.Events)
	close(g.gate)
	testutil.Eventually(t, waitFor, func() bool { return len(p.Networks().Networks) == 6 },
		"%d of 6 networks loaded (view %+v)", len(p.Networks().Networks), p.Networks())

	// One more landing, after all that: one more reload. It is in once it
	// loads, and every reload before it is counted by then.
	land("99-sentinel.conflist", confBytes("sentinel", "1.0.0"))
	waitNetwork(t, p, "sentinel", func(types.NetworkInfo) bool { return true })
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Reloads >= before.Reloads+3 }, "reload count never caught up")
	if got := stats(p.conf).Reloads - before.Reloads; got != 3 {
		t.Fatalf("%d reloads, want 3: the one held in VERSION, one follow-up for the five files landing meanwhile, and the sentinel's", got)
	}
}

func TestFiftyFilesCopiedExecVersionOncePerBinary(t *testing.T) {
	e := newEnv(t, "noop", "tuning")
	p := e.watched()
	execs := stats(p.conf).VersionExecs
	// As cp(1) does: create, write and close each file in turn. Half use
	// noop alone, half chain tuning after it: two binaries in all.
	for i := range 50 {
		types := []string{"noop"}
		if i%2 == 1 {
			types = append(types, "tuning")
		}
		writeFile(t, filepath.Join(e.confDir, fmt.Sprintf("%02d.conflist", i)), confBytes(fmt.Sprintf("net%02d", i), "1.0.0", types...))
	}
	testutil.Eventually(t, waitFor, func() bool { return len(p.Networks().Networks) == 50 },
		"%d of 50 networks loaded (view %+v)", len(p.Networks().Networks), p.Networks())
	if n := stats(p.conf).VersionExecs - execs; n != 2 {
		t.Fatalf("copying 50 files that use two plugin binaries caused %d VERSION execs, want 2", n)
	}
}

// Removing a file and creating its replacement a moment later is two
// changes; the second must not wait for the first's reload to be folded
// with anything, and nothing is exec'ed again.
func TestRemoveThenCreateLoadsReplacement(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.confDir, "10-a.conflist")
	writeFile(t, path, confBytes("a", "1.0.0"))
	p := e.watched()
	waitDefault(t, p, "a")
	execs := stats(p.conf).VersionExecs
	for i := range 20 {
		want := fmt.Sprintf("b%d", i)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, confBytes(want, "1.0.0"))
		waitDefault(t, p, want)
	}
	if n := stats(p.conf).VersionExecs - execs; n != 0 {
		t.Fatalf("replacing a file 20 times caused %d VERSION execs, want 0", n)
	}
}
