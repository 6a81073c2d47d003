package ocicni

import (
	"context"
	"fmt"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// SetUpPod attaches the pod to its networks; see CNIPlugin.
func (p *Plugin) SetUpPod(pod PodNetwork) ([]NetResult, error) {
	return p.SetUpPodWithContext(context.Background(), pod)
}

// SetUpPodWithContext attaches the pod to its networks (the default network
// when pod.Networks is empty), bringing up lo in the pod's netns meanwhile.
// Before any plugin of a network receives its ADD configuration, what the
// network's DEL needs is on disk, so a process killed at any instant leaves
// a record that the next teardown or GC finishes.
// When any network fails, every network of the call, the failing one
// included, gets a DEL in reverse order before the error returns, even if
// ctx was cancelled. Results are in attach order.
//
// A call identical to a setup of the same sandbox still in flight (same
// networks, interface names, netns and runtime configuration) waits for
// that setup and returns its outcome, unless that setup ended because its
// own caller's context did, in which case this call runs the setup itself.
// A sandbox already attached to a requested network and interface is
// refused with ErrAlreadyAttached, except that with WithIdempotentSetup a
// call identical to the one that attached it returns the recorded results.
func (p *Plugin) SetUpPodWithContext(ctx context.Context, pod PodNetwork) (_ []NetResult, err error) {
	ctx, span := p.tel.startOp(ctx, "setup", &pod)
	defer span.endOp(&err)
	if err := validateSetup(&pod); err != nil {
		return nil, err
	}
	if err := refuseRuntimeNetNS(&pod); err != nil {
		return nil, err
	}
	set, err := p.conf.Current(ctx)
	if err != nil {
		return nil, err
	}
	atts, err := p.planSetup(set, &pod)
	if err != nil {
		return nil, err
	}
	key := setupKey(&pod, atts)
	for key != "" {
		call, leader := p.setups.begin(pod.ID, key)
		if call == nil {
			break
		}
		if leader {
			results, err := p.setUp(ctx, set, &pod, atts)
			p.setups.end(pod.ID, call, results, err, err != nil && ctx.Err() != nil)
			return results, err
		}
		p.opts.logger.WithFields(podFields(&pod)).Info("pod network setup already in progress for this sandbox; waiting for its outcome")
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the same setup of sandbox %s in progress: %w", pod.ID, ctx.Err())
		}
		if !call.ownContext {
			return call.outcome()
		}
	}
	return p.setUp(ctx, set, &pod, atts)
}

// setUp is SetUpPodWithContext from the pod lock on.
func (p *Plugin) setUp(ctx context.Context, set *netconf.Set, pod *PodNetwork, atts []*attachment) (_ []NetResult, err error) {
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if p.opts.idempotentSetup {
		if results, ok := p.recordedResults(set, pod, atts); ok {
			p.opts.logger.WithFields(podFields(pod)).Info("pod network setup repeats the one that attached the sandbox; returning its recorded results")
			return results, nil
		}
	}
	for _, a := range atts {
		release, o := p.store.Claim(a.name, pod.ID, a.ifname)
		if o != nil {
			return nil, fmt.Errorf("%w: network %q on %s for pod %s (sandbox %s) would use the cache file %s, which is held for sandbox %s on network %q",
				ErrCacheNameTaken, a.name, a.ifname, podName(pod), pod.ID, o.File, o.ID, o.Network)
		}
		defer release()
		if p.store.Exists(a.name, pod.ID, a.ifname) {
			return nil, fmt.Errorf("%w: network %q on %s for pod %s (sandbox %s); tear the pod down before setting it up again",
				ErrAlreadyAttached, a.name, a.ifname, podName(pod), pod.ID)
		}
	}
	// The order key is taken under the pod lock, so two setups of one
	// sandbox are ordered as they really ran.
	base := p.store.NextOrder(pod.ID, len(atts))
	// The namespace's identity goes into the record, so a teardown after
	// the path was reused for another namespace leaves that one alone.
	nsID := netnsIdentity(pod.NetNS)
	// Until this setup ends, a DEL of another sandbox that no record
	// vouches for does not go into its namespace: its records are not all
	// written yet, so the DEL's ownership check cannot see it.
	settled, err := p.netns.settingUp(ctx, nsID, pod.ID)
	if err != nil {
		return nil, err
	}
	defer settled()
	if p.opts.setupPause != nil {
		p.opts.setupPause(ctx, pod.ID)
	}
	for _, a := range atts {
		a.nsID = nsID
		a.rt.CapabilityArgs[attachstore.OrderKey] = base + int64(a.pos)
		if nsID != "" {
			a.rt.CapabilityArgs[attachstore.NetNSKey] = nsID
		}
	}
	// lo comes up while the plugins run: it needs no plugin and no plugin
	// needs it, and the netlink round trip into the pod's netns would
	// otherwise add to every setup's latency.
	loDone := make(chan error, 1)
	go func() { loDone <- bringUpLoopback(pod.NetNS) }()
	results := make([]NetResult, len(atts))
	err = p.forEachNetwork(ctx, pod, stepAdd, atts, forwardStopAtFirst, func(ctx context.Context, a *attachment) error {
		// The record is written while the first plugin's process starts:
		// the gate hands the plugin its configuration only once the record
		// is on disk, so the fsyncs cost no latency and no plugin acts
		// before its DEL is recorded.
		gate := pluginexec.NewGate()
		go func() { gate.Open(p.store.Owe(a.name, a.list, a.rt)) }()
		res, err := p.cni.AddNetworkList(pluginexec.WithGate(ctx, gate), a.list, a.rt)
		if recErr := gate.Wait(); recErr != nil {
			return recErr
		}
		p.store.DropCopy(a.name, a.rt.ContainerID, a.rt.IfName)
		a.started = true
		if err != nil {
			return pluginexec.ContextError(ctx, err)
		}
		results[a.pos] = NetResult{Result: res, NetAttachment: NetAttachment{Name: a.name, Ifname: a.ifname}}
		return nil
	})
	if loErr := <-loDone; loErr != nil && err == nil {
		err = fmt.Errorf("pod %s: bringing up lo in %s: %w", podName(pod), pod.NetNS, loErr)
	}
	if err == nil {
		return results, nil
	}
	var started []*attachment
	for _, a := range atts {
		if a.started {
			started = append(started, a)
		}
	}
	if rbErr := p.rollback(ctx, pod, started); rbErr != nil {
		return nil, fmt.Errorf("%w; rollback also failed: %w", err, rbErr)
	}
	return nil, err
}

// rollback DELs, in reverse, the attachments a failed setup touched. A
// failed ADD must be followed by a DEL (CNI spec), and the caller's context
// may be the reason it failed, so the DELs run on a detached context. A DEL
// that fails leaves its write-ahead record, so a later teardown or GC
// retries it.
func (p *Plugin) rollback(ctx context.Context, pod *PodNetwork, atts []*attachment) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	err := p.forEachNetwork(rctx, pod, stepDel, atts, reverseKeepGoing, p.del)
	if err != nil {
		p.opts.logger.WithFields(podFields(pod)).WithError(err).Error("rollback of failed pod network setup failed")
	}
	return err
}
