package ocicni

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func webPod(t *testing.T, id string) PodNetwork {
	return PodNetwork{Name: "web", Namespace: "shop", ID: id, UID: "uid-1", NetNS: testutil.NewNetNS(t)}
}

// A plugin that exits non-zero with a CNI error: the caller gets the code
// and message through errors.As, the text names pod and network, and the
// failed ADD is rolled back with a DEL.
func TestFaultCNIErrorReachesCaller(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil,
		testutil.FaultyPlugin(log, map[string]string{"ADD": "error"}, "errorCode", 7, "errorMsg", "no addresses left in pool"))
	p := e.plugin()

	_, err := p.SetUpPod(webPod(t, "sb1"))
	var ce *cnitypes.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v does not carry a *types.Error", err)
	}
	if ce.Code != 7 || ce.Msg != "no addresses left in pool" {
		t.Fatalf("CNI error = code %d msg %q, want 7 and the plugin's message", ce.Code, ce.Msg)
	}
	for _, want := range []string{"shop/web", `"net1"`, "no addresses left in pool"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Network != "net1" || oe.Pod != "shop/web" || oe.Op != "add" {
		t.Fatalf("OpError = %+v", oe)
	}
	if IsRetryable(err) {
		t.Fatal("code 7 reported as retryable")
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin saw %v, want the failed ADD rolled back with DEL", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after failed setup = %v", got)
	}
}

// With the noop plugin failing both ADD and the rollback DEL, the ADD's
// CNI error still comes first and the rollback failure is reported too.
func TestFaultCNIErrorWithFailedRollback(t *testing.T) {
	e := newFaultEnv(t)
	dbg := e.noopDebug(debug.Debug{ReportError: "bridge is gone", ReportErrorCode: 5})
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", dbg)
	p := e.plugin()

	_, err := p.SetUpPod(webPod(t, "sb1"))
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != 5 || ce.Msg != "bridge is gone" {
		t.Fatalf("error %v: want the plugin's code 5 error", err)
	}
	if !strings.Contains(err.Error(), "rollback also failed") {
		t.Fatalf("error %q does not report the failed rollback", err)
	}
	if got := testutil.Commands(t, logs[0]); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("noop saw %v", got)
	}
}

// Code 11 ("try again later") is recognisable as retryable.
func TestFaultTryAgainLaterIsRetryable(t *testing.T) {
	e := newFaultEnv(t)
	dbg := e.noopDebug(debug.Debug{ReportError: "IPAM busy", ReportErrorCode: cnitypes.ErrTryAgainLater})
	e.writeNoopList("10-net.conflist", "net1", "1.0.0", dbg)
	p := e.plugin()

	_, err := p.SetUpPod(webPod(t, "sb1"))
	if !IsRetryable(err) {
		t.Fatalf("error %v not retryable", err)
	}
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != 11 {
		t.Fatalf("error %v: want code 11", err)
	}
}

// Garbage, nothing, half a document, the wrong shape, or death by signal:
// each is a clear error matching ErrInvalidPluginOutput that names the
// plugin and the pod, never a panic or a bare JSON decode error.
func TestFaultInvalidOutput(t *testing.T) {
	noopCase := func(d debug.Debug) func(e *env) {
		return func(e *env) { e.writeNoopList("10-net.conflist", "net1", "1.0.0", e.noopDebug(d)) }
	}
	faultyCase := func(fault string, extra ...any) func(e *env) {
		return func(e *env) {
			e.writeList("10-net.conflist", "net1", "1.0.0", nil,
				testutil.FaultyPlugin(e.logFile("log"), map[string]string{"ADD": fault}, extra...))
		}
	}
	cases := []struct {
		name, plugin, want string
		setup              func(e *env)
	}{
		{"noop garbage", "noop", "not a CNI result", noopCase(debug.Debug{ReportResult: "hello world"})},
		{"noop nothing", "noop", "printed no result", noopCase(debug.Debug{})},
		{"noop garbage then exit 1", "noop", "exited with status 1", noopCase(debug.Debug{ReportResult: "oops", ExitWithCode: 1})},
		{"garbage", "faulty", "not a CNI result", faultyCase("garbage")},
		{"garbage then exit 1", "faulty", "not a CNI error", faultyCase("garbage-exit1")},
		{"nothing", "faulty", "printed no result", faultyCase("nothing")},
		{"nothing then exit 1", "faulty", "without a CNI error", faultyCase("nothing-exit1")},
		{"truncated JSON", "faulty", "not a CNI result", faultyCase("truncated")},
		{"JSON null", "faulty", "not a CNI result", faultyCase("null")},
		{"wrong shape", "faulty", "not a valid CNI", faultyCase("wrong-shape")},
		{"unknown result version", "faulty", "not a valid CNI", faultyCase("bad-version")},
		{"SIGKILL", "faulty", "killed by signal", faultyCase("signal")},
		{"SIGTERM", "faulty", "killed by signal", faultyCase("signal", "signal", "TERM")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFaultEnv(t)
			c.setup(e)
			p := e.plugin()
			_, err := p.SetUpPod(webPod(t, "sb1"))
			if !errors.Is(err, ErrInvalidPluginOutput) {
				t.Fatalf("error %v does not match ErrInvalidPluginOutput", err)
			}
			for _, want := range []string{c.want, "plugin " + c.plugin, "shop/web", `"net1"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Where the rollback DEL failed as well (the plugin misbehaves
			// on every command), the owed DEL is recorded; nothing else is.
			for _, f := range e.cacheFiles() {
				if !e.isOwed(f) {
					t.Fatalf("cache after failed setup holds %s, which is not an owed DEL", f)
				}
			}
		})
	}
}

// A plugin that hangs on ADD is killed when the deadline passes, whether
// the caller's or the library's; the error says it timed out and names the
// plugin; the half-done chain is rolled back with DEL; no process is left.
func TestFaultHangKilledByDeadline(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     []Option
		deadline time.Duration
	}{
		{"caller deadline", nil, 700 * time.Millisecond},
		{"library plugin timeout", []Option{WithPluginTimeout(700 * time.Millisecond)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newFaultEnv(t)
			dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")})
			noopLog, faultyLogPath := e.logFile("noop.log"), e.logFile("faulty.log")
			e.writeList("10-net.conflist", "net1", "1.0.0", nil,
				noopPlugin(dbg, noopLog),
				testutil.FaultyPlugin(faultyLogPath, map[string]string{"ADD": "hang"}))
			p := e.plugin(c.opts...)
			ctx := context.Background()
			if c.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.deadline)
				defer cancel()
			}
			_, err := p.SetUpPodWithContext(ctx, webPod(t, "sb1"))
			if !errors.Is(err, ErrPluginTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v: want ErrPluginTimeout and context.DeadlineExceeded", err)
			}
			for _, want := range []string{"timed out", "plugin faulty (ADD)", `"net1"`, "shop/web"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if got := testutil.Commands(t, noopLog); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
				t.Fatalf("noop saw %v, want its ADD rolled back", got)
			}
			if got := testutil.FaultyCommands(t, faultyLogPath); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
				t.Fatalf("hung plugin saw %v, want ADD then the rollback DEL", got)
			}
			if got := testutil.ProcessesOf(t, e.binDir+"/faulty"); len(got) != 0 {
				t.Fatalf("hung plugin still running: pids %v", got)
			}
			if got := e.cacheFiles(); len(got) != 0 {
				t.Fatalf("cache after rolled-back setup = %v", got)
			}
		})
	}
}

// The sleep plugin never answers VERSION: its network is skipped with a
// reason saying it timed out, bounded by the plugin timeout, and a valid
// neighbour still loads.
func TestFaultHangOnVersionSkipsNetwork(t *testing.T) {
	e := newFaultEnv(t)
	testutil.WriteJSON(t, e.confDir, "10-slow.conf", `{"cniVersion":"1.0.0","name":"slow","type":"sleep"}`)
	e.writeNoopList("20-good.conflist", "good", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin(WithPluginTimeout(300 * time.Millisecond))

	ns := p.Networks()
	if ns.Default != "good" || len(ns.Networks) != 1 {
		t.Fatalf("networks = %+v", ns)
	}
	if len(ns.Skipped) != 1 || !strings.Contains(ns.Skipped[0].Reason, "timed out") || !strings.Contains(ns.Skipped[0].Reason, "sleep") {
		t.Fatalf("skipped = %+v, want the sleep network skipped as timed out", ns.Skipped)
	}
}

// A plugin that hangs on DEL: teardown is bounded by the deadline, says it
// timed out, and keeps the cache entry so a later teardown succeeds. The
// hang is acted out by the real sleep plugin taking the noop binary's place
// after setup.
func TestFaultHangOnDelKeepsCache(t *testing.T) {
	e := newFaultEnv(t)
	dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")})
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", dbg)
	p := e.plugin(WithPluginTimeout(500*time.Millisecond), WithWatch(false))
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	swapPlugin(t, e.binDir, "noop", "sleep")

	err := p.TearDownPod(pod)
	if !errors.Is(err, ErrPluginTimeout) || !strings.Contains(err.Error(), "plugin noop (DEL)") {
		t.Fatalf("teardown error %v: want a timeout naming the plugin", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net1-sb1-eth0"}) {
		t.Fatalf("cache after failed DEL = %v, want the entry kept", got)
	}

	swapPlugin(t, e.binDir, "noop", "noop")
	if err := p.TearDownPod(pod); err != nil {
		t.Fatalf("retried teardown: %v", err)
	}
	if got := testutil.Commands(t, logs[0]); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("noop saw %v", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after retried teardown = %v", got)
	}
}

// noopPlugin is one noop plugin entry with its debug file and command log.
func noopPlugin(debugFile, log string) map[string]any {
	return map[string]any{"type": "noop", "debugFile": debugFile, "commandLog": log}
}
