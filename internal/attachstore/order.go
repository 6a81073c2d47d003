package attachstore

import (
	"sync"
	"time"
)

// orderClock hands out order keys. A key is the time in microseconds,
// forced to rise strictly within the process and to pass a floor: the
// last key a sandbox's entries hold, which a restarted process whose clock
// was stepped back would otherwise undercut.
type orderClock struct {
	mu   sync.Mutex // guards last
	last int64
}

// next reserves n consecutive keys above floor and returns the first.
func (o *orderClock) next(n int, floor int64) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := max(time.Now().UnixMicro(), floor+1)
	if k <= o.last {
		k = o.last + 1
	}
	o.last = k + int64(n) - 1
	return k
}
