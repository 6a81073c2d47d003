package attachstore

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Keys handed out at once by many callers, most within one microsecond,
// form disjoint rising ranges, so no two attachments of a sandbox ever
// share a key. The old key, the time in microseconds plus the network's
// position, gave callers within one microsecond the same range.
func TestAttachOrderKeysNeverOverlap(t *testing.T) {
	const callers, calls, n = 8, 500, 3
	var o orderClock
	var mu sync.Mutex
	var bases []int64
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]int64, 0, calls)
			prev := int64(-1)
			for range calls {
				k := o.next(n, -1)
				if k <= prev {
					t.Errorf("key %d after %d from the same caller; keys must rise", k, prev)
				}
				prev = k + n - 1
				local = append(local, k)
			}
			mu.Lock()
			bases = append(bases, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(bases)
	for i := 1; i < len(bases); i++ {
		if bases[i] < bases[i-1]+n {
			t.Fatalf("key ranges [%d,%d] and [%d,%d] overlap", bases[i-1], bases[i-1]+n-1, bases[i], bases[i]+n-1)
		}
	}
}

// A sandbox's next keys come after the keys its entries hold, however far
// ahead of the clock those are; another sandbox's keys do not hold it back.
func TestNextOrderFollowsRecordedKeys(t *testing.T) {
	s := New(t.TempDir())
	ahead := time.Now().Add(time.Hour).UnixMicro()
	owe(t, s, "net", "sb-1", "eth0", ahead)
	if k := s.NextOrder("sb-1", 2); k <= ahead {
		t.Fatalf("NextOrder(sb-1) = %d, want past the recorded %d", k, ahead)
	}
	if k := New(filepath.Dir(s.Dir())).NextOrder("sb", 1); k >= ahead {
		t.Fatalf("NextOrder(sb) = %d, want the clock's, not sb-1's %d", k, ahead)
	}
}
