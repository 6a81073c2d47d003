//go:build linux

package chaos

import (
	"context"
	"math/rand/v2"

	"github.com/netplumb/ocicni/ocicni"
)

// opGC runs GC as a runtime does: every pod it knows is valid except the
// ones it has chosen to forget. Pods another operation holds are always
// listed (the runtime knows them); of the others, most attached ones are
// listed and most of the rest are not.
func (w *world) opGC(rng *rand.Rand) {
	var valid []*ocicni.PodNetwork
	var held, forgotten []*pod
	for _, p := range w.pods {
		if !p.mu.TryLock() {
			valid = append(valid, p.view.Load())
			continue
		}
		keep := rng.IntN(10) < 7
		if p.state != attached {
			keep = rng.IntN(10) < 2
		}
		if keep {
			held = append(held, p)
			r := p.request()
			valid = append(valid, &r)
			continue
		}
		forgotten = append(forgotten, p)
	}
	benign := map[*pod]bool{}
	for _, p := range forgotten {
		benign[p] = w.faults(p, rng, "DEL") && !p.damaged
	}
	rt, done := w.runtime()
	ctx, cancel := context.WithTimeout(context.Background(), gcDeadline)
	err, ok := w.call("gc", gcDeadline, func() error { return rt.GC(ctx, valid) })
	cancel()
	done()
	if !ok {
		return
	}
	for _, p := range held {
		p.note("GC listing it valid: %v", err)
		w.checkPod(p, "valid-keeps-address", "after a GC that listed it valid")
		p.mu.Unlock()
	}
	for _, p := range forgotten {
		p.note("GC not listing it: %v", err)
		if p.state != clean {
			p.state = dirty
			if err == nil && benign[p] {
				p.state, p.damaged, p.ips = clean, false, nil
				w.untaint(p)
				w.checkPod(p, "gc-collects", "after a GC that did not list it returned nil")
			}
		}
		p.mu.Unlock()
	}
}
