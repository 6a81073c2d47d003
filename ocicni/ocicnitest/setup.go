package ocicnitest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

// rollbackTimeout bounds the DELs of a failed setup, as in the real plugin.
const rollbackTimeout = time.Minute

// SetUpPod attaches the pod to its networks; see SetUpPodWithContext.
func (p *Plugin) SetUpPod(pod ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	return p.SetUpPodWithContext(context.Background(), pod)
}

// SetUpPodWithContext attaches the pod to the networks it names, or to the
// default network, and returns one result per network in attach order. It
// refuses what the real plugin refuses, in the same order: an invalid
// PodNetwork (ocicni.ErrInvalidPodNetwork), no default network
// (ocicni.ErrNotReady), an unknown network (ocicni.ErrNetworkNotFound),
// an attachment the sandbox already has or owes a DEL for
// (ocicni.ErrAlreadyAttached). When an ADD fails, every network the call
// touched, the failing one included, gets a DEL in reverse order on a
// context detached from ctx before the error returns.
func (p *Plugin) SetUpPodWithContext(ctx context.Context, pod ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	c := p.begin("SetUpPod", &pod)
	res, err := p.setUp(ctx, c, &pod)
	p.end(c, err)
	return res, err
}

func (p *Plugin) setUp(ctx context.Context, c *Call, pod *ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	// The one refusal the fake lets through is the runtime's own netns:
	// it enters no namespace, and /proc/self/ns/net is the one namespace
	// file every unprivileged test can name.
	if err := ocicni.ValidatePodNetwork(*pod); err != nil && !errors.Is(err, ocicni.ErrRuntimeNetNS) {
		return nil, err
	}
	if err := p.closed(); err != nil {
		return nil, err
	}
	reqs, err := p.planSetup(pod)
	if err != nil {
		return nil, err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := p.refuseAttached(pod, reqs); err != nil {
		return nil, err
	}

	results := make([]ocicni.NetResult, 0, len(reqs))
	for i, r := range reqs {
		err := p.run(ctx, c, Step{Verb: VerbAdd, Sandbox: pod.ID, Network: r.Name, Ifname: r.Ifname}, func() error {
			pl := p.pools[r.Name]
			host, err := pl.take(r.Name)
			if err != nil {
				return err
			}
			p.pods[pod.ID] = append(p.pods[pod.ID], &attachment{network: r.Name, ifname: r.Ifname, netns: pod.NetNS, host: host})
			results = append(results, ocicni.NetResult{Result: pl.result(host, r.Ifname, pod.NetNS), NetAttachment: r})
			return nil
		})
		if err != nil {
			err = &ocicni.OpError{Op: "add", Pod: podName(pod), ID: pod.ID, Network: r.Name, Ifname: r.Ifname, Err: err}
			return nil, p.rollBack(ctx, c, pod, reqs[:i+1], err)
		}
	}
	return results, nil
}

// planSetup resolves the networks of a setup and their interface names.
func (p *Plugin) planSetup(pod *ocicni.PodNetwork) ([]ocicni.NetAttachment, error) {
	p.mu.Lock()
	loaded, def := slices.Clone(p.loaded), p.defaultLocked()
	p.mu.Unlock()
	reqs := pod.Networks
	if len(reqs) == 0 {
		if def == "" {
			return nil, notReady(loaded, p.opts.defaultNetwork)
		}
		reqs = []ocicni.NetAttachment{{Name: def}}
	}
	ifnames, err := planIfnames(reqs)
	if err != nil {
		return nil, err
	}
	out := make([]ocicni.NetAttachment, len(reqs))
	for i, r := range reqs {
		if !slices.Contains(loaded, r.Name) {
			return nil, fmt.Errorf("%w: %q is not loaded by the fake (loaded: %v)", ocicni.ErrNetworkNotFound, r.Name, loaded)
		}
		if err := ocicni.ValidateAttachment(pod.ID, r.Name, ifnames[i]); err != nil {
			return nil, err
		}
		out[i] = ocicni.NetAttachment{Name: r.Name, Ifname: ifnames[i]}
	}
	return out, nil
}

// refuseAttached fails with ocicni.ErrAlreadyAttached when the sandbox
// already has, or owes a DEL for, one of the planned attachments.
func (p *Plugin) refuseAttached(pod *ocicni.PodNetwork, reqs []ocicni.NetAttachment) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range reqs {
		for _, a := range p.pods[pod.ID] {
			if a.network == r.Name && a.ifname == r.Ifname {
				return fmt.Errorf("%w: network %q on %s for pod %s (sandbox %s); tear the pod down before setting it up again",
					ocicni.ErrAlreadyAttached, r.Name, r.Ifname, podName(pod), pod.ID)
			}
		}
	}
	return nil
}

// rollBack DELs the networks a failed setup touched, last first. A DEL
// that fails leaves its attachment owed.
func (p *Plugin) rollBack(ctx context.Context, c *Call, pod *ocicni.PodNetwork, touched []ocicni.NetAttachment, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var errs []error
	for i := len(touched) - 1; i >= 0; i-- {
		r := touched[i]
		err := p.run(rctx, c, Step{Verb: VerbDel, Sandbox: pod.ID, Network: r.Name, Ifname: r.Ifname}, func() error {
			p.detachLocked(pod.ID, r)
			return nil
		})
		if err != nil {
			p.owe(pod, r)
			errs = append(errs, &ocicni.OpError{Op: "del", Pod: podName(pod), ID: pod.ID, Network: r.Name, Ifname: r.Ifname, Err: err})
		}
	}
	if len(errs) == 0 {
		return cause
	}
	return fmt.Errorf("%w; rollback also failed: %w", cause, errors.Join(errs...))
}

// detachLocked removes an attachment and frees its address. The caller
// holds p.mu.
func (p *Plugin) detachLocked(id string, r ocicni.NetAttachment) {
	atts := p.pods[id]
	for i, a := range atts {
		if a.network != r.Name || a.ifname != r.Ifname {
			continue
		}
		if a.host != 0 {
			p.pools[a.network].release(a.host)
		}
		atts = slices.Delete(atts, i, i+1)
		break
	}
	if len(atts) == 0 {
		delete(p.pods, id)
		return
	}
	p.pods[id] = atts
}

// owe marks an attachment whose DEL failed (in a rollback, a teardown or
// a GC) as owed,
// recording it if its ADD never completed.
func (p *Plugin) owe(pod *ocicni.PodNetwork, r ocicni.NetAttachment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.pods[pod.ID] {
		if a.network == r.Name && a.ifname == r.Ifname {
			a.owed = true
			return
		}
	}
	p.pods[pod.ID] = append(p.pods[pod.ID], &attachment{network: r.Name, ifname: r.Ifname, netns: pod.NetNS, owed: true})
}
