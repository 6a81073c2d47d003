package ocicnitest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/netplumb/ocicni/ocicni"
)

// GC DELs every attachment whose sandbox is not among validPods, then
// sends the GC verb to every loaded network. Sandboxes are visited in
// order of their IDs, each one's attachments last attached first. A stale
// attachment whose DEL fails stays; errors (an *ocicni.OpError with Op
// "gc" for a DEL) are joined and GC never stops early. validPods is
// checked with ocicni.ValidateGCPods before anything is deleted.
//
// As with the real plugin, a stale sandbox's DELs wait for that sandbox's
// operations and hold it while they run, so setups and teardowns of other
// sandboxes go on meanwhile; only the GC verb waits for every pod
// operation in flight and keeps new ones waiting. One GC runs at a time.
// Every wait ends with ctx.
func (p *Plugin) GC(ctx context.Context, validPods []*ocicni.PodNetwork) error {
	c := p.begin("GC", nil)
	err := p.gc(ctx, c, validPods)
	p.end(c, err)
	return err
}

func (p *Plugin) gc(ctx context.Context, c *Call, validPods []*ocicni.PodNetwork) error {
	if err := ocicni.ValidateGCPods(validPods); err != nil {
		return err
	}
	if err := p.closed(); err != nil {
		return err
	}
	valid := map[string]bool{}
	var ids []string
	for _, pod := range validPods {
		valid[pod.ID] = true
		ids = append(ids, pod.ID)
	}
	p.mu.Lock()
	c.ValidPods = ids
	p.mu.Unlock()

	err := p.waitFor(ctx, func() bool { return !p.gcActive }, func() { p.gcActive = true })
	if err != nil {
		return fmt.Errorf("waiting for another GC to finish: %w", err)
	}
	defer p.release(func() { p.gcActive = false })

	var errs []error
	for _, id := range p.staleSandboxes(valid) {
		errs = append(errs, p.collect(ctx, c, id)...)
	}

	unlock, err := p.lockGC(ctx)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer unlock()
	p.mu.Lock()
	loaded := slices.Clone(p.loaded)
	p.mu.Unlock()
	for _, n := range loaded {
		if err := p.run(ctx, c, Step{Verb: VerbGC, Network: n}, nil); err != nil {
			errs = append(errs, fmt.Errorf("GC of network %q: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// staleSandboxes lists, in order of their IDs, the sandboxes with
// attachments that are not in valid.
func (p *Plugin) staleSandboxes(valid map[string]bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id := range p.pods {
		if !valid[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// collect DELs the attachments of the stale sandbox id, last attached
// first, holding the sandbox as a teardown does.
func (p *Plugin) collect(ctx context.Context, c *Call, id string) []error {
	unlock, err := p.lockPod(ctx, id)
	if err != nil {
		return []error{err}
	}
	defer unlock()
	p.mu.Lock()
	var atts []ocicni.NetAttachment
	for _, a := range slices.Backward(p.pods[id]) {
		atts = append(atts, ocicni.NetAttachment{Name: a.network, Ifname: a.ifname})
	}
	p.mu.Unlock()
	var errs []error
	for _, a := range atts {
		err := p.run(ctx, c, Step{Verb: VerbDel, Sandbox: id, Network: a.Name, Ifname: a.Ifname}, func() error {
			p.detachLocked(id, a)
			return nil
		})
		if err != nil {
			p.owe(&ocicni.PodNetwork{ID: id}, a)
			errs = append(errs, &ocicni.OpError{Op: "gc", Pod: id, ID: id, Network: a.Name, Ifname: a.Ifname, Err: err})
		}
	}
	return errs
}
