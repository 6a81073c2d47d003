package ocicni

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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
			versions := [][]byte{testutil.ConfBytes("a", "1.0.0"), testutil.ConfBytes("a", "1.0.0", "noop", "noop")}
			testutil.WriteFile(t, path, versions[0])
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
				testutil.WriteFile(t, path, versions[i%2])
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
				testutil.WriteFile(t, path, testutil.ConfBytes("a", "1.0.0"))
				p := open(e)
				waitDefault(t, p, "a")

				testutil.WriteFile(t, path, br.data)
				waitSkipped(t, p, path, br.reason)
				err := p.Status()
				if !errors.Is(err, ErrNoDefaultNetwork) || !strings.Contains(err.Error(), br.reason) {
					t.Fatalf("Status once the broken file settled = %v, want ErrNoDefaultNetwork naming %q", err, br.reason)
				}

				// Fixed again, it is used again.
				testutil.WriteFile(t, path, testutil.ConfBytes("a", "1.0.0"))
				waitDefault(t, p, "a")
				if err := p.Status(); err != nil {
					t.Fatalf("Status after the file was fixed = %v", err)
				}
			})
		}
	}
}

// waitNetwork waits until the named network is loaded and cond holds for it.
func waitNetwork(t *testing.T, p *Plugin, name string, cond func(NetworkInfo) bool) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		for _, n := range p.Networks().Networks {
			if n.Name == name {
				return cond(n)
			}
		}
		return false
	}, "network %q never reached the wanted state (view %+v)", name, p.Networks())
}

// waitSkipped waits until file is skipped with a reason containing want.
func waitSkipped(t *testing.T, p *Plugin, file, want string) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		for _, s := range p.Networks().Skipped {
			if s.File == file && strings.Contains(s.Reason, want) {
				return true
			}
		}
		return false
	}, "%s never skipped for %q (view %+v)", file, want, p.Networks())
}

// A default network with STATUS whose file is rewritten in place stays the
// default and ready at every step, each step seen by a reload: emptied (the
// reload keeps its last good version, and with it its STATUS answer),
// half-written, then whole with new content (loaded at once, ready on the
// earlier answer until its STATUS is asked again). The next network, whose
// STATUS was never asked, never becomes the default.
func TestStatusReadyWhileDefaultRewrittenInPlace(t *testing.T) {
	e := newFaultEnv(t)
	e.noopNet("20-other.conflist", "other", "1.1.0", "10.0.0.2", "")
	p, log := statusNet(t, e, WithWatch(false))
	waitAnswered(t, p)
	path := filepath.Join(e.confDir, "10-n.conflist")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		data []byte
	}{{"emptied", nil}, {"half-written", data[:len(data)/2]}}
	for _, s := range steps {
		testutil.WriteFile(t, path, s.data)
		if err := p.Status(); err != nil {
			t.Fatalf("Status with the default network's file %s = %v", s.name, err)
		}
		if got := p.GetDefaultNetworkName(); got != "n" {
			t.Fatalf("default network with its file %s = %q, want n", s.name, got)
		}
		if sk := p.Networks().Skipped; len(sk) != 0 {
			t.Fatalf("skipped with the default network's file %s: %+v", s.name, sk)
		}
	}
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, testutil.FaultyPlugin(log, nil))
	if err := p.Status(); err != nil {
		t.Fatalf("Status once the file was written whole = %v", err)
	}
	if n := p.Networks().Networks[0]; n.Name != "n" || !n.Default || !n.DisableGC {
		t.Fatalf("after the rewrite the first network is %+v; want n, the default, with its new content", n)
	}
}
