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
// class the order is first come, first served. A nil *Admission admits
// every exec at once. An Admission is safe for concurrent use.
type Admission struct {
	// mu guards everything below; it is never held while a plugin runs.
	mu      sync.Mutex
	limit   int
	running int
	// queues holds the waiters of each class, oldest first; a waiter's
	// channel is closed when it is handed a slot.
	queues [classes]list.List
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
	return &Admission{limit: limit}
}

// classOf returns the admission class of a CNI_COMMAND.
func classOf(cmd string) int {
	switch cmd {
	case "DEL", "GC", "STATUS":
		return classRelease
	}
	return classClaim
}

// Acquire waits, bounded by ctx, for a slot for an exec of cmd, and
// returns the function that gives the slot back (call it exactly once). A
// wait ended by ctx returns ctx.Err() and holds no slot.
func (a *Admission) Acquire(ctx context.Context, cmd string) (release func(), err error) {
	if a == nil {
		return func() {}, nil
	}
	a.mu.Lock()
	if a.running < a.limit && a.queues[classRelease].Len() == 0 && a.queues[classClaim].Len() == 0 {
		a.running++
		a.mu.Unlock()
		return a.release, nil
	}
	ready := make(chan struct{})
	q := &a.queues[classOf(cmd)]
	elem := q.PushBack(ready)
	a.mu.Unlock()

	select {
	case <-ready:
		return a.release, nil
	case <-ctx.Done():
		a.mu.Lock()
		select {
		case <-ready:
			// Handed a slot while giving up: pass it on.
			a.running--
			a.admit()
		default:
			q.Remove(elem)
		}
		a.mu.Unlock()
		return nil, ctx.Err()
	}
}

// release gives a slot back and hands it to the first waiter, if any.
func (a *Admission) release() {
	a.mu.Lock()
	a.running--
	a.admit()
	a.mu.Unlock()
}

// admit hands free slots to waiters, higher classes first. a.mu is held.
func (a *Admission) admit() {
	for c := range a.queues {
		q := &a.queues[c]
		for a.running < a.limit && q.Len() > 0 {
			close(q.Remove(q.Front()).(chan struct{}))
			a.running++
		}
	}
}
