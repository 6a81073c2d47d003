package ocicni

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// GetPodNetworkStatus reports the pod's attachments; see CNIPlugin.
func (p *Plugin) GetPodNetworkStatus(pod PodNetwork) ([]NetResult, error) {
	return p.GetPodNetworkStatusWithContext(context.Background(), pod)
}

// GetPodNetworkStatusWithContext reports, in attach order, each of the
// pod's attachments (the requested ones, or all the cache records). Where
// the configuration allows (cniVersion >= 0.4.0, disableCheck off) it first
// runs CHECK, and returns its error if the plugins find the attachment
// broken. The result is the cached ADD result or, where none exists, the
// addresses read from the interface inside the pod's netns.
func (p *Plugin) GetPodNetworkStatusWithContext(ctx context.Context, pod PodNetwork) ([]NetResult, error) {
	if err := validateID(&pod); err != nil {
		return nil, err
	}
	set, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	atts, err := p.planExisting(ctx, set, &pod)
	if err != nil {
		return nil, err
	}
	results := make([]NetResult, 0, len(atts))
	_, err = p.forEachNetwork(ctx, &pod, "status", atts, false, false, func(ctx context.Context, a *attachment) error {
		res, err := p.attachmentStatus(ctx, &pod, a)
		if err != nil {
			return err
		}
		results = append(results, NetResult{Result: res, NetAttachment: NetAttachment{Name: a.name, Ifname: a.ifname}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func (p *Plugin) attachmentStatus(ctx context.Context, pod *PodNetwork, a *attachment) (types.Result, error) {
	if a.list == nil {
		return nil, fmt.Errorf("%w: %q is neither cached for this sandbox nor loaded", ErrNetworkNotFound, a.name)
	}
	if pending, _ := a.rt.CapabilityArgs[pendingDelKey].(bool); pending {
		return nil, fmt.Errorf("setup of this attachment failed and so did its rollback DEL; tear the pod down to retry it")
	}
	cached, err := p.cni.GetNetworkListCachedResult(a.list, a.rt)
	if err != nil {
		p.log.WithFields(logFields(ctx)).WithError(err).Warn("cached result unreadable; reading addresses from the pod's netns")
		cached = nil
	}
	if cached != nil && !a.list.DisableCheck {
		if ok, _ := version.GreaterThanOrEqualTo(a.list.CNIVersion, "0.4.0"); ok {
			if err := p.cni.CheckNetworkList(ctx, a.list, a.rt); err != nil {
				return nil, withCtxErr(ctx, err)
			}
		}
	}
	if cached != nil {
		return cached, nil
	}
	netnsPath := a.rt.NetNS
	if netnsPath == "" {
		netnsPath = pod.NetNS
	}
	res, err := readNetNSResult(netnsPath, a.ifname, a.list.CNIVersion)
	if err != nil {
		return nil, fmt.Errorf("no cached result, and reading %s in %s failed: %w", a.ifname, netnsPath, err)
	}
	return res, nil
}

// Status reports whether pods can be set up; see CNIPlugin.
func (p *Plugin) Status() error {
	return p.StatusWithContext(context.Background())
}

// StatusWithContext returns nil when the default network is loaded, every
// plugin binary of its chain is present, and (for cniVersion 1.1.0) the
// plugins' STATUS verb reports ready. Otherwise the error matches
// ErrNotReady and says what an operator should fix.
func (p *Plugin) StatusWithContext(ctx context.Context) error {
	set, err := p.snapshot(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return p.statusOf(ctx, set)
}

// statusOf is StatusWithContext for one snapshot.
func (p *Plugin) statusOf(ctx context.Context, set *netSet) error {
	if set.def == nil {
		return notReadyError(set)
	}
	for _, t := range set.def.types {
		if _, err := findPlugin(t, set.binDirs); err != nil {
			return fmt.Errorf("%w: default network %q: %w", ErrNotReady, set.def.name, err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, defaultStatusTimeout)
	defer cancel()
	if err := p.cni.GetStatusNetworkList(sctx, set.def.list); err != nil {
		return fmt.Errorf("%w: default network %q: plugin STATUS: %w", ErrNotReady, set.def.name, withCtxErr(sctx, err))
	}
	return nil
}

// notReadyError explains why there is no default network.
func notReadyError(set *netSet) error {
	var b strings.Builder
	switch {
	case set.dirErr != nil:
		fmt.Fprintf(&b, "cannot read CNI configuration directory %s: %v", set.confDir, set.dirErr)
	case set.wantDefault != "" && len(set.ordered) > 0:
		fmt.Fprintf(&b, "default network %q not found in %s (loaded: %s)", set.wantDefault, set.confDir, loadedNames(set))
	case set.wantDefault != "":
		fmt.Fprintf(&b, "default network %q not found: no valid CNI configuration file in %s. Has your network provider started?", set.wantDefault, set.confDir)
	default:
		fmt.Fprintf(&b, "no valid CNI configuration file in %s. Has your network provider started?", set.confDir)
	}
	for _, s := range set.skipped {
		fmt.Fprintf(&b, "; skipped %s: %s", s.File, s.Reason)
	}
	return fmt.Errorf("%w: %w: %s", ErrNotReady, ErrNoDefaultNetwork, b.String())
}

func loadedNames(set *netSet) string {
	names := make([]string, len(set.ordered))
	for i, n := range set.ordered {
		names[i] = n.name
	}
	return strings.Join(names, ", ")
}

// WaitReady blocks until Status returns nil, ctx ends (the error then
// matches ctx.Err() and ErrNotReady), or the plugin is shut down (the error
// matches ErrShutdown, also when Shutdown came before the call). While
// watching it wakes on every configuration change; otherwise, and to re-ask
// the plugins' STATUS, it checks again every second.
func (p *Plugin) WaitReady(ctx context.Context) error {
	const retry = time.Second
	for {
		// One snapshot serves both the verdict and the channel to wait on,
		// so a change between the two cannot be missed, and the
		// directories are scanned once per round, not twice.
		set, err := p.snapshot(ctx)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrNotReady, err)
		} else {
			err = p.statusOf(ctx, set)
		}
		select {
		case <-p.life.Done():
			if err == nil {
				return ErrShutdown
			}
			return fmt.Errorf("%w: %w", ErrShutdown, err)
		default:
		}
		if err == nil {
			return nil
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-p.life.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrShutdown, err)
		case <-set.changed:
			t.Stop()
		case <-t.C:
		}
	}
}
