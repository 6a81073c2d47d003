package ocicni

import (
	"context"
	"sync"
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
