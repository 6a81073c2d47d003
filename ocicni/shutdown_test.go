package ocicni

import (
	"context"
	"errors"
	"testing"

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
