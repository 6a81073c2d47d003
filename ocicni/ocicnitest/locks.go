package ocicnitest

import (
	"context"
	"fmt"
)

// lockPod waits until no other operation holds the sandbox and no GC
// runs, then holds the sandbox. Like the real plugin it gives up when ctx
// ends, and reports a ctx that ended meanwhile rather than starting.
func (p *Plugin) lockPod(ctx context.Context, id string) (func(), error) {
	err := p.waitFor(ctx, func() bool { return !p.busy[id] && !p.gcRunning }, func() { p.busy[id] = true })
	if err != nil {
		return nil, fmt.Errorf("waiting for another operation on sandbox %s: %w", id, err)
	}
	unlock := func() { p.release(func() { delete(p.busy, id) }) }
	if err := ctx.Err(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// lockGC waits until no pod operation runs, then keeps them all out while
// the GC verb runs, as the CNI spec requires of it.
func (p *Plugin) lockGC(ctx context.Context) (func(), error) {
	err := p.waitFor(ctx, func() bool { return len(p.busy) == 0 && !p.gcRunning }, func() { p.gcRunning = true })
	if err != nil {
		return nil, fmt.Errorf("waiting for pod operations to finish before GC: %w", err)
	}
	return func() { p.release(func() { p.gcRunning = false }) }, nil
}

// waitFor runs take under p.mu as soon as free holds, or returns ctx's
// error when it ends first.
func (p *Plugin) waitFor(ctx context.Context, free func() bool, take func()) error {
	p.mu.Lock()
	for !free() {
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	take()
	p.mu.Unlock()
	return nil
}

// release runs drop under p.mu and wakes every waiter.
func (p *Plugin) release(drop func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	drop()
	close(p.wake)
	p.wake = make(chan struct{})
}

// run records and performs one network operation. It is called without
// p.mu, because a scripted hang waits for its context. When the operation
// succeeds, apply (if any) updates the attachments under p.mu and may still
// fail it, so the bookkeeping and the step's record change together.
func (p *Plugin) run(ctx context.Context, c *Call, s Step, apply func() error) error {
	p.mu.Lock()
	f := p.takeFault(s.Verb, s.Network)
	c.Steps = append(c.Steps, s)
	i := len(c.Steps) - 1
	p.mu.Unlock()

	err := p.act(ctx, f)

	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && apply != nil {
		err = apply()
	}
	c.Steps[i].Done, c.Steps[i].Err = true, err
	return err
}
