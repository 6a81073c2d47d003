package ocicni

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// podLocks serializes operations on one sandbox while letting different
// sandboxes proceed in parallel. Waiting for a lock honours the caller's
// context, so a stuck operation on a pod cannot pin its callers forever.
type podLocks struct {
	mu    sync.Mutex // guards locks; never held while waiting or exec'ing
	locks map[string]*podLock
}

type podLock struct {
	ch   chan struct{} // holds one token while the lock is taken
	refs int           // callers holding or waiting; the entry goes at zero
}

func newPodLocks() *podLocks {
	return &podLocks{locks: map[string]*podLock{}}
}

// lock takes the lock for id and returns its release function.
func (p *podLocks) lock(ctx context.Context, id string) (func(), error) {
	// select picks at random among ready cases, so a done context must be
	// checked first or it could still win a free lock.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	l, ok := p.locks[id]
	if !ok {
		l = &podLock{ch: make(chan struct{}, 1)}
		p.locks[id] = l
	}
	l.refs++
	p.mu.Unlock()

	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			p.unref(id, l)
		}, nil
	case <-ctx.Done():
		p.unref(id, l)
		return nil, ctx.Err()
	}
}

func (p *podLocks) unref(id string, l *podLock) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(p.locks, id)
	}
}

// size is the number of sandboxes with a lock held or awaited.
func (p *podLocks) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.locks)
}

// gcLock is a readers-writer lock whose waits end with a context and which
// starts no goroutine. Pod operations hold it for reading across their
// plugin execs; GC holds it for writing while the CNI GC verb runs, since
// the spec forbids GC while an ADD or DEL is in flight. A waiting writer
// holds new readers back for a bounded time, so a GC is not starved by a
// stream of pods; past that bound it lets them through and takes the lock
// at the first instant none is in flight, so one slow ADD in flight does
// not stall every pod that arrives after the GC.
type gcLock struct {
	mu             sync.Mutex // guards the fields below; never held while waiting
	readers        int
	writer         bool
	writersWaiting int
	// holdingBack counts the waiting writers that still hold new readers
	// back; it is at most writersWaiting.
	holdingBack int
	// changed is closed and replaced whenever the state above changes in a
	// way a waiter may be waiting for.
	changed chan struct{}
}

func newGCLock() *gcLock { return &gcLock{changed: make(chan struct{})} }

func (g *gcLock) wakeLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// rlock takes the lock for reading unless ctx ends first.
func (g *gcLock) rlock(ctx context.Context) error {
	for {
		g.mu.Lock()
		if !g.writer && g.holdingBack == 0 {
			g.readers++
			g.mu.Unlock()
			return nil
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (g *gcLock) runlock() {
	g.mu.Lock()
	g.readers--
	if g.readers == 0 {
		g.wakeLocked()
	}
	g.mu.Unlock()
}

// lock takes the lock for writing unless ctx ends first. For up to
// holdBack it holds new readers back while those in flight finish; then
// it lets them in again and calls yielded (once) before waiting on for an
// instant with no reader. A holdBack of zero or less never holds readers
// back.
func (g *gcLock) lock(ctx context.Context, holdBack time.Duration, yielded func()) error {
	g.mu.Lock()
	g.writersWaiting++
	var expired <-chan time.Time
	if holdBack > 0 {
		g.holdingBack++
		t := time.NewTimer(holdBack)
		defer t.Stop()
		expired = t.C
	}
	holding := holdBack > 0
	stopHolding := func() {
		if holding {
			holding = false
			g.holdingBack--
			g.wakeLocked()
		}
	}
	for g.writer || g.readers > 0 {
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-expired:
			expired = nil
			if yielded != nil {
				yielded()
			}
			g.mu.Lock()
			stopHolding()
			g.mu.Unlock()
		case <-ctx.Done():
			g.mu.Lock()
			stopHolding()
			g.writersWaiting--
			g.wakeLocked()
			g.mu.Unlock()
			return ctx.Err()
		}
		g.mu.Lock()
	}
	stopHolding()
	g.writersWaiting--
	g.writer = true
	g.mu.Unlock()
	return nil
}

func (g *gcLock) unlock() {
	g.mu.Lock()
	g.writer = false
	g.wakeLocked()
	g.mu.Unlock()
}

// lockPod takes the sandbox's lock and then the GC lock for reading. Both
// waits end with ctx, and a ctx that ended meanwhile is reported rather
// than handed to an ADD, whose instant failure would cost a rollback DEL.
func (p *Plugin) lockPod(ctx context.Context, id string) (func(), error) {
	unlockPod, err := p.pods.lock(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("waiting for another operation on sandbox %s: %w", id, err)
	}
	if err := p.gc.rlock(ctx); err != nil {
		unlockPod()
		return nil, fmt.Errorf("waiting for a CNI garbage collection to finish: %w", err)
	}
	unlock := func() {
		p.gc.runlock()
		unlockPod()
	}
	if err := ctx.Err(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}
