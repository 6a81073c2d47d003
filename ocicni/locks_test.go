package ocicni

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestPodLockRefusesDoneContextEvenWhenFree(t *testing.T) {
	locks := newPodLocks()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 100; i++ {
		unlock, err := locks.lock(ctx, "sandbox")
		if !errors.Is(err, context.Canceled) {
			if unlock != nil {
				unlock()
			}
			t.Fatalf("attempt %d: lock with a cancelled context returned %v, want context.Canceled", i, err)
		}
	}
	if n := locks.size(); n != 0 {
		t.Fatalf("%d lock entries left behind", n)
	}
}

// GC waiting for an ADD in flight before its verb holds pods that arrive
// meanwhile back for its hold-back bound only: then they go ahead, and the
// verb runs once the slow ADD is gone. Before, the waiting GC held every
// new setup back until the slow ADD ended (13.6 s behind a 15 s ADD;
// forever here, where the ADD runs until cancelled).
func TestGCHoldsNewPodsBackOnlyForItsBound(t *testing.T) {
	e := newEnv(t)
	marks, log := e.slowNet("1.1.0")
	e.noopNet("20-fast.conflist", "fast", "1.1.0", "10.0.0.2", "")
	p := e.plugin(WithWatch(false), WithGCHoldBack(200*time.Millisecond))
	cancelSlow, slowDone := slowSetUp(p, PodNetwork{ID: "a", NetNS: testutil.NewNetNS(t)})
	defer cancelSlow()
	testutil.Eventually(t, waitBound, func() bool { return started(marks, "a") }, "slow ADD never started")

	gcDone := make(chan error, 1)
	go func() { gcDone <- p.GC(context.Background(), []*PodNetwork{{ID: "a"}}) }()
	testutil.Eventually(t, waitBound, func() bool {
		p.gc.mu.Lock()
		defer p.gc.mu.Unlock()
		return p.gc.writersWaiting > 0
	}, "GC never waited for the in-flight ADD")

	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if _, err := p.SetUpPodWithContext(ctx, PodNetwork{ID: "b", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "fast"}}}); err != nil {
		t.Fatalf("a setup arriving while GC waits: %v; want it through once the hold-back passed", err)
	}
	select {
	case err := <-gcDone:
		t.Fatalf("GC ended (%v) while an ADD was in flight", err)
	default:
	}
	if !e.hasLog("GC: pod operations still in flight; letting new ones through, the GC verb waits until none is in flight") {
		t.Error("GC did not log that it let operations through")
	}

	cancelSlow()
	if err := <-slowDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("slow setup: %v, want context.Canceled", err)
	}
	if err := <-gcDone; err != nil {
		t.Fatal(err)
	}
	want := []string{"ADD slow a eth0", "DEL slow a eth0", "GC slow"}
	if ev := testutil.WithoutStatus(testutil.Events(t, log)); !reflect.DeepEqual(ev, want) {
		t.Fatalf("slow network's plugin calls = %v, want %v: the GC verb after the ADD in flight ended", ev, want)
	}
}
