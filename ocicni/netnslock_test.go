package ocicni

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A setup registering in a namespace waits for an unchecked DEL holding
// its lock, and its wait ends with its context; a DEL sees only the
// setups of other sandboxes, and none once they have ended.
func TestNetNSLocksOrderSetupsAndUncheckedDELs(t *testing.T) {
	n := newNetNSLocks()
	ctx := context.Background()
	unlock, other, err := n.lockForDel(ctx, "ns1", "b")
	if err != nil || other {
		t.Fatalf("lockForDel with no setup = %v, %v; want no other setup", other, err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := n.settingUp(short, "ns1", "c"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("setup while a DEL holds the namespace: %v, want its context's deadline", err)
	}
	unlock()
	done, err := n.settingUp(ctx, "ns1", "c")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want bool
	}{{"b", true}, {"c", false}} {
		unlock, other, err := n.lockForDel(ctx, "ns1", c.id)
		if err != nil || other != c.want {
			t.Fatalf("DEL of %s during c's setup: other = %v, %v; want %v", c.id, other, err, c.want)
		}
		unlock()
	}
	done()
	unlock, other, err = n.lockForDel(ctx, "ns1", "b")
	if err != nil || other {
		t.Fatalf("DEL after c's setup ended: other = %v, %v; want none", other, err)
	}
	unlock()
	if len(n.setups) != 0 || n.locks.size() != 0 {
		t.Fatalf("registry keeps %d namespaces and %d locks after all ended", len(n.setups), n.locks.size())
	}
}
