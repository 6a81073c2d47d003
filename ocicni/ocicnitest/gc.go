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
// "gc" for a DEL) are joined and GC never stops early. A nil or ID-less
// entry in validPods is refused with ocicni.ErrInvalidPodNetwork before
// anything is deleted. GC waits for pod operations in flight, and new ones
// wait for it; either wait ends with the waiter's context.
func (p *Plugin) GC(ctx context.Context, validPods []*ocicni.PodNetwork) error {
	c := p.begin("GC", nil)
	err := p.gc(ctx, c, validPods)
	p.end(c, err)
	return err
}

func (p *Plugin) gc(ctx context.Context, c *Call, validPods []*ocicni.PodNetwork) error {
	valid := map[string]bool{}
	var ids []string
	for i, pod := range validPods {
		if pod == nil {
			return invalidf("validPods[%d] is nil", i)
		}
		if pod.ID == "" {
			return invalidf("validPods[%d] has no sandbox ID", i)
		}
		valid[pod.ID] = true
		ids = append(ids, pod.ID)
	}
	p.mu.Lock()
	c.ValidPods = ids
	p.mu.Unlock()

	unlock, err := p.lockGC(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	var errs []error
	for _, s := range p.stale(valid) {
		err := p.run(ctx, c, Step{Verb: VerbDel, Sandbox: s.id, Network: s.Name, Ifname: s.Ifname}, func() error {
			p.detachLocked(s.id, s.NetAttachment)
			return nil
		})
		if err != nil {
			errs = append(errs, &ocicni.OpError{Op: "gc", Pod: s.id, ID: s.id, Network: s.Name, Ifname: s.Ifname, Err: err})
		}
	}
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

// staleAttachment is an attachment of a sandbox GC was not told to keep.
type staleAttachment struct {
	id string
	ocicni.NetAttachment
}

// stale lists the attachments of sandboxes not in valid, in the order GC
// DELs them.
func (p *Plugin) stale(valid map[string]bool) []staleAttachment {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id := range p.pods {
		if !valid[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []staleAttachment
	for _, id := range ids {
		for _, a := range slices.Backward(p.pods[id]) {
			out = append(out, staleAttachment{id: id, NetAttachment: ocicni.NetAttachment{Name: a.network, Ifname: a.ifname}})
		}
	}
	return out
}
