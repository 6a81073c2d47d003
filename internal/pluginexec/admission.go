package pluginexec

import (
	"container/list"
	"context"
	"sync"
)

// Admission bounds how many plugin processes run at once. When a burst of
// pods arrives, every exec competes for the same cores, and a node whose
// address pool is tight keeps moving only if teardowns free addresses
// before new setups ask for them; so an exec that releases something (DEL,
// GC) or that readiness depends on (STATUS) waiting for a slot is let in
// before any waiting ADD, CHECK or VERSION, whichever came first. Within a
// class the order is first come, first served.
//
// Background execs (WithBackground: GC's DELs of stale sandboxes) are
// served in their class but never hold more than limit-1 slots (one when
// the limit is 1), so a GC of thousands of sandboxes cannot keep every pod
// waiting until it ends. A nil *Admission admits every exec at once. An
// Admission is safe for concurrent use.
type Admission struct {
	// mu guards everything below; it is never held while a plugin runs.
	mu        sync.Mutex
	limit     int
	bgLimit   int
	running   int
	bgRunning int
	// queues holds the *waiters of each class, oldest first.
	queues [classes]list.List
}

// A waiter's ready channel is closed when it is handed a slot.
type waiter struct {
	ready      chan struct{}
	background bool
}

// An admission class; lower is served first.
const (
	classRelease = iota // DEL, GC, STATUS
	classClaim          // ADD, CHECK, VERSION and anything else
	classes
)

// NewAdmission returns an Admission that lets at most limit execs run at
// once; limit 0 or less means no bound, and then it returns nil.
func NewAdmission(limit int) *Admission {
	if limit <= 0 {
		return nil
	}
	return &Admission{limit: limit, bgLimit: max(1, limit-1)}
}

// classOf returns the admission class of a CNI_COMMAND.
func classOf(cmd string) int {
	switch cmd {
	case "DEL", "GC", "STATUS":
		return classRelease
	}
	return classClaim
}

// Acquire waits, bounded by ctx, for a slot for an exec of cmd, run in the
// background or not, and returns the function that gives the slot back
// (call it exactly once). A wait ended by ctx returns ctx.Err() and holds
// no slot.
func (a *Admission) Acquire(ctx context.Context, cmd string, background bool) (release func(), err error) {
	if a == nil {
		return func() {}, nil
	}
	w := &waiter{ready: make(chan struct{}), background: background}
	a.mu.Lock()
	q := &a.queues[classOf(cmd)]
	elem := q.PushBack(w)
	a.admit()
	a.mu.Unlock()

	release = func() {
		a.mu.Lock()
		a.free(w)
		a.admit()
		a.mu.Unlock()
	}
	select {
	case <-w.ready:
		return release, nil
	case <-ctx.Done():
		a.mu.Lock()
		defer a.mu.Unlock()
		select {
		case <-w.ready:
			// Handed a slot while giving up: pass it on.
			a.free(w)
			a.admit()
		default:
			q.Remove(elem)
		}
		return nil, ctx.Err()
	}
}

// admit hands free slots to the waiters that may have them, classes in
// order, each oldest first. a.mu is held.
func (a *Admission) admit() {
	for c := range a.queues {
		q := &a.queues[c]
		for e := q.Front(); e != nil && a.running < a.limit; {
			next := e.Next()
			if w := e.Value.(*waiter); !w.background || a.bgRunning < a.bgLimit {
				q.Remove(e)
				a.running++
				if w.background {
					a.bgRunning++
				}
				close(w.ready)
			}
			e = next
		}
	}
}

// free gives back w's slot. a.mu is held.
func (a *Admission) free(w *waiter) {
	a.running--
	if w.background {
		a.bgRunning--
	}
}
