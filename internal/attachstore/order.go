package attachstore

import (
	"sync"
	"time"
)

// orderClock hands out order keys. A key is the time in microseconds,
// forced to rise strictly within the process: a restarted process (whose
// clock has moved on) keeps ordering after the previous one.
type orderClock struct {
	mu   sync.Mutex // guards last
	last int64
}

// next reserves n consecutive keys and returns the first.
func (o *orderClock) next(n int) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := time.Now().UnixMicro()
	if k <= o.last {
		k = o.last + 1
	}
	o.last = k + int64(n) - 1
	return k
}
