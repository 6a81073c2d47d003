package ocicni

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestShutdownIsIdempotentAndStopsGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
	p := e.plugin() // watching
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	for i := range 3 {
		if err := p.Shutdown(); err != nil {
			t.Fatalf("shutdown %d: %v", i+1, err)
		}
	}
	goleak.VerifyNone(t, ignore)
	// Waiting for readiness after shutdown ends at once.
	empty := newEnv(t)
	q := empty.plugin()
	_ = q.Shutdown()
	if err := q.WaitReady(context.Background()); !errors.Is(err, ErrShutdown) || !errors.Is(err, ErrNotReady) {
		t.Fatalf("WaitReady after shutdown = %v", err)
	}
}

// Shutdown used to wait for a reload's VERSION exec, up to versionTimeout
// (10 s) for a plugin that never answers. It now kills it, and the
// interrupted load does not replace the configuration pods still use.
func TestShutdownInterruptsSlowVersion(t *testing.T) {
	e := newFaultEnv(t)
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin()
	if p.GetDefaultNetworkName() != "a" {
		t.Fatalf("default = %q", p.GetDefaultNetworkName())
	}
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	e.writeList("20-b.conflist", "b", "1.0.0", nil, testutil.FaultyPlugin(e.logFile("b.log"), nil))
	bin := filepath.Join(e.binDir, "faulty")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(testutil.ProcessesOf(t, bin)) > 0 },
		"the reload never exec'd the hanging VERSION")

	done := make(chan struct{})
	go func() {
		_ = p.Shutdown()
		close(done)
	}()
	testutil.Eventually(t, 5*time.Second, func() bool { // half the 10 s VERSION bound
		select {
		case <-done:
			return true
		default:
			return false
		}
	}, "Shutdown waited for the hanging VERSION exec")
	testutil.Eventually(t, 5*time.Second, func() bool { return len(testutil.ProcessesOf(t, bin)) == 0 },
		"the hanging VERSION process outlived Shutdown")

	view := p.Networks()
	if view.Default != "a" || len(view.Networks) != 1 {
		t.Fatalf("after Shutdown: default %q, networks %v", view.Default, testutil.NetworkNames(view))
	}
	for _, s := range view.Skipped {
		if strings.Contains(s.Reason, "canceled") {
			t.Fatalf("the interrupted load was kept: %v", s)
		}
	}
}
