package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestNoWatchFindsDefaultAddedLater(t *testing.T) {
	build := map[string]func(e *env) CNIPlugin{
		"WithWatch(false)": func(e *env) CNIPlugin { return e.plugin(WithWatch(false)) },
		"InitCNINoInotify": func(e *env) CNIPlugin {
			p, err := InitCNINoInotify("", e.confDir, e.cache, e.binDir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Shutdown() })
			return p
		},
	}
	for name, mk := range build {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			p := mk(e)
			if watcherRunning() {
				t.Fatal("a watcher was started")
			}
			if err := p.Status(); !errors.Is(err, ErrNoDefaultNetwork) {
				t.Fatalf("Status on an empty dir = %v", err)
			}
			// No waiting: the very next operation must see the file.
			testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0"))
			if err := p.Status(); err != nil {
				t.Fatalf("Status right after a default network was added = %v", err)
			}
			if got := p.GetDefaultNetworkName(); got != "a" {
				t.Fatalf("default network = %q, want a", got)
			}
			// Replaced by one of the same size in the same instant: the
			// stamps must still tell them apart.
			testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("b", "1.0.0"))
			if got := p.GetDefaultNetworkName(); got != "b" {
				t.Fatalf("default network = %q after a same-size rewrite, want b", got)
			}
			for i := 0; i < 100; i++ {
				want := fmt.Sprintf("x%03d", i)
				testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes(want, "1.0.0"))
				if got := p.GetDefaultNetworkName(); got != want {
					t.Fatalf("iteration %d: default network = %q after a same-size rewrite, want %s", i, got, want)
				}
			}
			if err := os.Remove(filepath.Join(e.confDir, "10-a.conflist")); err != nil {
				t.Fatal(err)
			}
			if err := p.Status(); !errors.Is(err, ErrNoDefaultNetwork) {
				t.Fatalf("Status after the file was removed = %v", err)
			}
		})
	}
}

// sleepExec runs every plugin for real, except that it answers VERSION and
// DEL for the sleep plugin, which can do neither (it only sleeps): that is
// the one part no real plugin here can act out. It reports each sleep ADD
// as it starts.
type sleepExec struct {
	invoke.RawExec
	version.PluginDecoder
	addStarted chan struct{}
}

func (s *sleepExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	if filepath.Base(path) == "sleep" {
		switch testutil.CNICommand(environ) {
		case "VERSION":
			return []byte(`{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}`), nil
		case "DEL":
			return nil, nil
		case "ADD":
			s.addStarted <- struct{}{}
		}
	}
	return s.RawExec.ExecPlugin(ctx, path, stdin, environ)
}

func TestReloadNotBlockedByPluginInFlight(t *testing.T) {
	e := newEnv(t)
	ex := &sleepExec{addStarted: make(chan struct{}, 1)}
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-slow.conflist"), testutil.ConfBytes("slow", "1.0.0", "sleep"))
	p := e.watched(WithExec(ex))
	waitDefault(t, p, "slow")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slowPod := PodNetwork{Name: "slow", Namespace: "ns", ID: "slow1", NetNS: testutil.NewNetNS(t)}
	addDone := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, slowPod)
		addDone <- err
	}()
	select {
	case <-ex.addStarted:
	case <-time.After(waitFor):
		t.Fatal("the sleep plugin's ADD never started")
	}

	// While it sleeps, a new default network arrives and is used.
	dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.7")})
	e.writeNoopList("05-fast.conflist", "fast", "1.0.0", dbg)
	waitDefault(t, p, "fast")
	if err := p.Status(); err != nil {
		t.Fatalf("Status with a plugin call in flight = %v", err)
	}
	res, err := p.SetUpPod(PodNetwork{Name: "fast", Namespace: "ns", ID: "fast1", NetNS: testutil.NewNetNS(t)})
	if err != nil {
		t.Fatalf("SetUpPod on the new default network with a plugin call in flight: %v", err)
	}
	r, err := current.NewResultFromResult(res[0].Result)
	if err != nil || res[0].Name != "fast" || r.IPs[0].Address.IP.String() != "10.1.0.7" {
		t.Fatalf("result = %+v (%v), want network fast with 10.1.0.7", res, err)
	}
	select {
	case err := <-addDone:
		t.Fatalf("the sleep plugin's ADD returned (%v) before the test was done with it", err)
	default:
	}

	cancel()
	if err := <-addDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ADD returned %v, want context.Canceled", err)
	}
}

func TestFailedReloadKeepsTeardown(t *testing.T) {
	breakConfig := map[string]func(t *testing.T, e *env){
		"every file invalid": func(t *testing.T, e *env) {
			testutil.WriteFile(t, filepath.Join(e.confDir, "10-net.conflist"), []byte("{not json"))
		},
		"conf dir deleted": func(t *testing.T, e *env) {
			if err := os.RemoveAll(e.confDir); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, breakIt := range breakConfig {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.9")})
			logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", dbg)
			p := e.watched()
			pod := PodNetwork{Name: "web", Namespace: "ns", ID: "pod1", NetNS: testutil.NewNetNS(t)}
			setUp(t, p, pod)

			breakIt(t, e)
			waitDefault(t, p, "")
			if err := p.Status(); !errors.Is(err, ErrNoDefaultNetwork) {
				t.Fatalf("Status with no valid file = %v", err)
			}
			if err := p.TearDownPod(PodNetwork{Name: "web", Namespace: "ns", ID: "pod1", NetNS: pod.NetNS}); err != nil {
				t.Fatalf("teardown after the config went bad: %v", err)
			}
			if got := testutil.Commands(t, logs[0]); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
				t.Fatalf("plugin saw %v, want ADD then DEL", got)
			}
			if got := e.cacheFiles(); len(got) != 0 {
				t.Fatalf("cache after teardown = %v", got)
			}
		})
	}
}

// Without a watcher, the operation that finds the directories changed
// reloads, and a new binary's VERSION exec may take up to versionTimeout.
// Another operation that needs the same reload used to wait for it
// whatever its own deadline; it now gives up when its context ends.
func TestWaitForAnotherReloadHonoursContext(t *testing.T) {
	e := newFaultEnv(t)
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false), WithPluginTimeout(5*time.Second))
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	e.writeList("20-b.conflist", "b", "1.0.0", nil, testutil.FaultyPlugin(e.logFile("b.log"), nil))

	firstDone := make(chan struct{})
	go func() {
		_ = p.Status()
		close(firstDone)
	}()
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(testutil.ProcessesOf(t, bin)) > 0 },
		"the first operation's reload never exec'd VERSION")
	defer func() {
		for _, pid := range testutil.ProcessesOf(t, bin) {
			if n, err := strconv.Atoi(pid); err == nil {
				_ = syscall.Kill(n, syscall.SIGKILL)
			}
		}
		<-firstDone
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() { second <- p.StatusWithContext(ctx) }()
	var err error
	testutil.Eventually(t, 2*time.Second, func() bool {
		select {
		case err = <-second:
			return true
		default:
			return false
		}
	}, "Status waited for another operation's reload past its own deadline")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotReady) {
		t.Fatalf("Status err = %v, want ErrNotReady and context.DeadlineExceeded", err)
	}
	select {
	case <-firstDone:
		t.Fatal("the first reload ended before the check; the test proves nothing")
	default:
	}
}

// watcherRunning reports whether a configuration watcher's goroutine is
// alive in this process.
func watcherRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "netconf.(*watcher).run")
}
