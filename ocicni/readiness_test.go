package ocicni

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"go.uber.org/goleak"

	"github.com/netplumb/ocicni/internal/testutil"
)

// statusNet writes network "n" (cniVersion 1.1.0, one faulty plugin that
// logs to the returned file) and builds a Plugin on it with opts.
func statusNet(t *testing.T, e *env, opts ...Option) (*Plugin, string) {
	t.Helper()
	log := e.logFile("faulty.log")
	e.writeList("10-n.conflist", "n", "1.1.0", nil, testutil.FaultyPlugin(log, nil))
	return e.plugin(opts...), log
}

func failStatus(e *env, code int) {
	e.control(map[string]any{"faults": map[string]string{"STATUS": "error"}, "errorCode": code, "errorMsg": "provider restarting"})
}

// Status answers from what the background poll learnt: however often it
// is called, the plugin runs no STATUS of its own.
func TestStatusDoesNotExecPlugins(t *testing.T) {
	e := newFaultEnv(t)
	p, log := statusNet(t, e, WithWatch(false), WithStatusInterval(0))
	waitAnswered(t, p)
	for range 20 {
		if err := p.Status(); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.FaultyCommands(t, log); len(got) != 1 || got[0] != "STATUS" {
		t.Fatalf("plugin got %v; want the one STATUS of the load", got)
	}
}

// A STATUS that hangs holds neither Status nor Networks up: they report
// the last answer while it runs, and Shutdown kills it.
func TestStatusNotBlockedByHangingStatus(t *testing.T) {
	e := newFaultEnv(t)
	p, log := statusNet(t, e, WithStatusInterval(10*time.Millisecond))
	waitAnswered(t, p)
	if err := p.Status(); err != nil {
		t.Fatal(err)
	}
	e.control(map[string]any{"faults": map[string]string{"STATUS": "hang"}})
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, waitFor, func() bool { return len(testutil.ProcessesOf(t, bin)) > 0 }, "no STATUS started hanging")
	checked := p.Networks().Networks[0].Readiness.Checked

	done := make(chan error, 1)
	go func() { done <- p.Status() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Status during a hanging STATUS = %v; want the last answer, ready", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Status waited for the hanging STATUS")
	}
	if r := p.Networks().Networks[0].Readiness; !r.Ready || !r.Checked.Equal(checked) {
		t.Fatalf("readiness during the hang = %+v; want the answer checked at %v", r, checked)
	}
	if n := len(testutil.FaultyCommands(t, log)); n < 2 {
		t.Fatalf("plugin log has %d calls; want the hanging STATUS logged", n)
	}
	shutdownKills(t, p, bin)
}

// The poller goroutine ends with Shutdown, killing the STATUS in flight.
func TestStatusPollerStopsOnShutdown(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	e := newFaultEnv(t)
	e.control(map[string]any{"faults": map[string]string{"STATUS": "hang"}})
	p, _ := statusNet(t, e)
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, waitFor, func() bool { return len(testutil.ProcessesOf(t, bin)) > 0 }, "no STATUS started hanging")
	shutdownKills(t, p, bin)
	goleak.VerifyNone(t, ignore)
}

func shutdownKills(t *testing.T, p *Plugin, bin string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		_ = p.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(DefaultTimeouts().Status / 2):
		t.Fatal("Shutdown waited for the hanging STATUS")
	}
	testutil.Eventually(t, waitFor, func() bool { return len(testutil.ProcessesOf(t, bin)) == 0 }, "the hanging STATUS outlived Shutdown")
}

// A network whose STATUS has never answered, or never succeeded, is not
// ready at once, grace period or not.
func TestStatusNeverReadyGetsNoGrace(t *testing.T) {
	t.Run("not answered yet", func(t *testing.T) {
		e := newFaultEnv(t)
		e.control(map[string]any{"faults": map[string]string{"STATUS": "hang"}})
		p, _ := statusNet(t, e, WithStatusGracePeriod(time.Hour))
		err := p.Status()
		if !errors.Is(err, ErrNotReady) {
			t.Fatalf("Status before any STATUS answer = %v; want ErrNotReady", err)
		}
		if r := p.Networks().Networks[0].Readiness; r == nil || r.Ready || !r.Pending || !errors.Is(r.Err, ErrNotReady) {
			t.Fatalf("readiness before any answer = %+v; want pending, not ready", r)
		}
	})
	t.Run("failing from the start", func(t *testing.T) {
		e := newFaultEnv(t)
		failStatus(e, 50)
		p, _ := statusNet(t, e, WithStatusGracePeriod(time.Hour))
		waitAnswered(t, p)
		if err := p.Status(); !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrNetworkUnavailable) {
			t.Fatalf("Status = %v; want ErrNotReady and ErrNetworkUnavailable without grace", err)
		}
		if r := p.Networks().Networks[0].Readiness; r.Ready || r.InGrace || r.Code != 50 {
			t.Fatalf("readiness = %+v", r)
		}
	})
}

// Within the grace period a STATUS failing after a success still reports
// ready, with the failure logged and shown in Networks; past it, or
// without one, the failure is reported.
func TestStatusGracePeriod(t *testing.T) {
	t.Run("within", func(t *testing.T) {
		e := newFaultEnv(t)
		p, _ := statusNet(t, e, WithStatusInterval(10*time.Millisecond), WithStatusGracePeriod(time.Hour))
		waitAnswered(t, p)
		failStatus(e, 51)
		testutil.Eventually(t, waitFor, func() bool { return p.Networks().Networks[0].Readiness.InGrace }, "the failing STATUS never showed")
		if err := p.Status(); err != nil {
			t.Fatalf("Status within the grace period = %v; want ready", err)
		}
		r := p.Networks().Networks[0].Readiness
		if !r.Ready || r.Code != 51 || !errors.Is(r.Err, ErrLimitedConnectivity) || r.FailingSince.IsZero() || r.Error == "" {
			t.Fatalf("readiness in grace = %+v; want ready, code 51, the failure shown", r)
		}
		if !e.hasLogWith("default CNI network's STATUS failed", "network", "n") {
			t.Fatal("the failure in grace was not logged")
		}
		e.control(nil)
		testutil.Eventually(t, waitFor, func() bool { r := p.Networks().Networks[0].Readiness; return r.Ready && !r.InGrace },
			"STATUS never recovered")
		if r := p.Networks().Networks[0].Readiness; r.Code != 0 || r.Err != nil || !r.FailingSince.IsZero() {
			t.Fatalf("readiness after recovery = %+v", r)
		}
		if !e.hasLog("default CNI network's STATUS succeeds again") {
			t.Fatal("the recovery was not logged")
		}
	})
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"expired", 30 * time.Millisecond}, {"off", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFaultEnv(t)
			p, _ := statusNet(t, e, WithStatusInterval(10*time.Millisecond), WithStatusGracePeriod(tc.grace))
			waitAnswered(t, p)
			failStatus(e, 50)
			testutil.Eventually(t, waitFor, func() bool { return p.Status() != nil }, "the failing STATUS never reported")
			if err := p.Status(); !errors.Is(err, ErrNetworkUnavailable) {
				t.Fatalf("Status = %v; want ErrNetworkUnavailable", err)
			}
		})
	}
}

// STATUS codes 50 and 51 are told apart in Status and Networks; any other
// code is not ready with neither sentinel, and always the plugin's error.
func TestStatusCodesToldApart(t *testing.T) {
	for _, tc := range []struct {
		code             int
		unavail, limited bool
	}{{50, true, false}, {51, false, true}, {52, false, false}} {
		t.Run(fmt.Sprint("code ", tc.code), func(t *testing.T) {
			e := newFaultEnv(t)
			failStatus(e, tc.code)
			p, _ := statusNet(t, e)
			waitAnswered(t, p)
			err := p.Status()
			var ce *cnitypes.Error
			if !errors.Is(err, ErrNotReady) || !errors.As(err, &ce) || int(ce.Code) != tc.code ||
				errors.Is(err, ErrNetworkUnavailable) != tc.unavail || errors.Is(err, ErrLimitedConnectivity) != tc.limited {
				t.Fatalf("Status = %v; want code %d, unavailable %v, limited %v", err, tc.code, tc.unavail, tc.limited)
			}
			r := p.Networks().Networks[0].Readiness
			if r.Ready || int(r.Code) != tc.code || errors.Is(r.Err, ErrNetworkUnavailable) != tc.unavail ||
				errors.Is(r.Err, ErrLimitedConnectivity) != tc.limited {
				t.Fatalf("readiness = %+v", r)
			}
		})
	}
}

// With no interval, a change of the default network's file is what has its
// STATUS asked again; a change elsewhere is not.
func TestStatusPolledOnConfigChange(t *testing.T) {
	e := newFaultEnv(t)
	p, log := statusNet(t, e, WithStatusInterval(0))
	waitAnswered(t, p)
	e.noopNet("20-other.conflist", "other", "1.1.0", "10.0.0.2", "")
	testutil.Eventually(t, waitFor, func() bool { return len(p.Networks().Networks) == 2 }, "the second network never loaded")
	failStatus(e, 50)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableGC": true}, testutil.FaultyPlugin(log, nil))
	testutil.Eventually(t, waitFor, func() bool { return errors.Is(p.Status(), ErrNetworkUnavailable) },
		"the rewritten default network's STATUS was never asked")
	if got := testutil.FaultyCommands(t, log); len(got) != 2 {
		t.Fatalf("plugin got %v; want one STATUS on load and one on the rewrite", got)
	}
}

// WaitReady wakes on a STATUS answer, not only on configuration changes.
func TestWaitReadyWakesOnStatusAnswer(t *testing.T) {
	e := newFaultEnv(t)
	failStatus(e, 50)
	p, _ := statusNet(t, e, WithStatusInterval(10*time.Millisecond))
	waitAnswered(t, p)
	e.control(nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady = %v", err)
	}
}
