package ocicni

import (
	"context"
	"errors"
	"testing"
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
