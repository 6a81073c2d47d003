package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/internal/testutil"
)

// openModes builds a Plugin that follows the conf dir with a watcher, and
// one that checks it on every operation instead.
func openModes() map[string]func(e *env) *Plugin {
	return map[string]func(e *env) *Plugin{
		"watching":         func(e *env) *Plugin { return e.watched() },
		"WithWatch(false)": func(e *env) *Plugin { return e.plugin(WithWatch(false)) },
	}
}

// Rewriting the default conflist in place (os.WriteFile truncates, then
// writes) used to make Status fail for a moment most of the time, because a
// reload read the file empty and skipped it. The file now keeps its last
// valid version while it settles, so a caller polling Status throughout
// never sees an error.
func TestStatusSteadyThroughInPlaceRewrites(t *testing.T) {
	for name, open := range openModes() {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			path := filepath.Join(e.confDir, "10-a.conflist")
			versions := [][]byte{confBytes("a", "1.0.0"), confBytes("a", "1.0.0", "noop", "noop")}
			writeFile(t, path, versions[0])
			p := open(e)
			if err := p.Status(); err != nil {
				t.Fatalf("Status before the rewrites = %v", err)
			}

			stop := make(chan struct{})
			polled := make(chan error, 1)
			var polls atomic.Int64
			go func() {
				for {
					select {
					case <-stop:
						polled <- nil
						return
					default:
					}
					polls.Add(1)
					if err := p.Status(); err != nil {
						polled <- err
						return
					}
				}
			}()

			const rewrites = 40
			for i := 1; i <= rewrites; i++ {
				writeFile(t, path, versions[i%2])
				wantTypes := i%2 + 1
				waitNetwork(t, p, "a", func(n NetworkInfo) bool { return len(n.PluginTypes) == wantTypes })
			}
			close(stop)
			if err := <-polled; err != nil {
				t.Fatalf("Status failed during in-place rewrites of the default network (after %d polls): %v", polls.Load(), err)
			}
			if polls.Load() < rewrites {
				t.Fatalf("Status was polled only %d times across %d rewrites; the test proves little", polls.Load(), rewrites)
			}
			for _, s := range p.Networks().Skipped {
				t.Errorf("file skipped after the rewrites: %+v", s)
			}
		})
	}
}

// A file that is rewritten into something broken and stays so is not kept
// forever: once it has settled it is skipped with the parse error, as a
// file found broken at start is.
func TestBrokenRewriteSkippedOnceSettled(t *testing.T) {
	breakers := map[string]struct {
		data   []byte
		reason string
	}{
		"emptied":  {nil, "is empty"},
		"not json": {[]byte("{not json"), "is not a JSON object"},
	}
	for bname, br := range breakers {
		for mname, open := range openModes() {
			t.Run(bname+"/"+mname, func(t *testing.T) {
				e := newEnv(t)
				e.t = t
				path := filepath.Join(e.confDir, "10-a.conflist")
				writeFile(t, path, confBytes("a", "1.0.0"))
				p := open(e)
				waitDefault(t, p, "a")

				writeFile(t, path, br.data)
				waitSkipped(t, p, path, br.reason)
				err := p.Status()
				if !errors.Is(err, ErrNoDefaultNetwork) || !strings.Contains(err.Error(), br.reason) {
					t.Fatalf("Status once the broken file settled = %v, want ErrNoDefaultNetwork naming %q", err, br.reason)
				}

				// Fixed again, it is used again.
				writeFile(t, path, confBytes("a", "1.0.0"))
				waitDefault(t, p, "a")
				if err := p.Status(); err != nil {
					t.Fatalf("Status after the file was fixed = %v", err)
				}
			})
		}
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
	if filepath.Base(path) == "sleep" && cniCommand(environ) == "VERSION" {
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
	p := e.watched(WithExec(g))
	// Armed and idle: the reload that added the watches and the one after.
	testutil.Eventually(t, waitFor, func() bool { return p.conf.Stats().Reloads >= 2 }, "the watcher never went idle")
	if p.conf.Stats().Polling {
		t.Skip("skipped: inotify unavailable, the watcher polls")
	}
	before := p.conf.Stats()

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
	testutil.Eventually(t, waitFor, func() bool { return p.conf.Stats().Events >= before.Events+6 },
		"the watcher received %d of 6 events", p.conf.Stats().Events-before.Events)
	close(g.gate)
	testutil.Eventually(t, waitFor, func() bool { return len(p.Networks().Networks) == 6 },
		"%d of 6 networks loaded (view %+v)", len(p.Networks().Networks), p.Networks())

	// One more landing, after all that: one more reload. It is in once it
	// loads, and every reload before it is counted by then.
	land("99-sentinel.conflist", confBytes("sentinel", "1.0.0"))
	waitNetwork(t, p, "sentinel", func(NetworkInfo) bool { return true })
	testutil.Eventually(t, waitFor, func() bool { return p.conf.Stats().Reloads >= before.Reloads+3 }, "reload count never caught up")
	if got := p.conf.Stats().Reloads - before.Reloads; got != 3 {
		t.Fatalf("%d reloads, want 3: the one held in VERSION, one follow-up for the five files landing meanwhile, and the sentinel's", got)
	}
}

func TestFiftyFilesCopiedExecVersionOncePerBinary(t *testing.T) {
	e := newEnv(t, "noop", "tuning")
	p := e.watched()
	execs := p.conf.Stats().VersionExecs
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
	if n := p.conf.Stats().VersionExecs - execs; n != 2 {
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
	execs := p.conf.Stats().VersionExecs
	for i := range 20 {
		want := fmt.Sprintf("b%d", i)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, confBytes(want, "1.0.0"))
		waitDefault(t, p, want)
	}
	if n := p.conf.Stats().VersionExecs - execs; n != 0 {
		t.Fatalf("replacing a file 20 times caused %d VERSION execs, want 0", n)
	}
}
