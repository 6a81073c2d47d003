package ocicni

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// GetPodNetworkStatus reports the pod's attachments; see CNIPlugin.
func (p *Plugin) GetPodNetworkStatus(pod PodNetwork) ([]NetResult, error) {
	return p.GetPodNetworkStatusWithContext(context.Background(), pod)
}

// GetPodNetworkStatusWithContext reports, in attach order, each of the
// pod's attachments (the requested ones, or all the cache records; with
// none recorded and none requested, the default network on eth0, as
// cri-o/ocicni reads an empty Networks). It never returns an empty list
// with a nil error: a network with neither a record nor an interface in
// the pod's netns is an error matching ErrNotAttached. Where
// the configuration allows (cniVersion >= 0.4.0, disableCheck off) it first
// runs CHECK, and returns its error if the plugins find the attachment
// broken. The result is the cached ADD result or, where none exists, the
// addresses read from the interface inside the pod's netns.
func (p *Plugin) GetPodNetworkStatusWithContext(ctx context.Context, pod PodNetwork) (_ []NetResult, err error) {
	ctx, span := p.tel.startOp(ctx, "status", &pod)
	defer span.endOp(&err)
	if err := validateID(&pod); err != nil {
		return nil, err
	}
	set, err := p.conf.Current(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	atts, err := p.planExisting(set, &pod)
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		// Nothing recorded and no network named: the question is about
		// the default network on eth0, as cri-o/ocicni reads it. CRI-O
		// takes [0] of the answer unchecked, so an empty list with a nil
		// error would crash it; the netns read below answers for a
		// sandbox set up without a record, or ErrNotAttached.
		if set.Default == nil {
			return nil, fmt.Errorf("%w: nothing recorded for sandbox %s, and %w", ErrNotAttached, pod.ID, notReadyError(set))
		}
		n := set.Default
		atts = []*attachment{{name: n.Name, ifname: DefaultInterfaceName, net: n, list: n.List,
			rt: p.existingConf(&pod, n.Name, DefaultInterfaceName), noCache: true}}
	}
	results := make([]NetResult, 0, len(atts))
	err = p.forEachNetwork(ctx, &pod, stepStatus, atts, forwardStopAtFirst, func(ctx context.Context, a *attachment) error {
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
	if a.owed {
		return nil, fmt.Errorf("this attachment owes a DEL (its setup did not finish, or a DEL failed); tear the pod down to retry it")
	}
	// libcni reads the entry again, following symlinks and without bound,
	// so it is asked only for an entry the store read whole.
	var cached types.Result
	if a.readable {
		var err error
		if cached, err = p.cni.GetNetworkListCachedResult(a.list, a.rt); err != nil {
			p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(err).Warn("cached result unreadable; reading addresses from the pod's netns")
			cached = nil
		}
	}
	// disableCheck is honoured from the configuration cached at ADD and
	// from the current one, as disableGC is: an operator who turns CHECK
	// off for a misbehaving plugin means the pods already running too.
	checkOff := a.list.DisableCheck || (a.net != nil && a.net.List.DisableCheck)
	if cached != nil && !checkOff {
		if ok, _ := version.GreaterThanOrEqualTo(a.list.CNIVersion, "0.4.0"); ok {
			if err := p.cni.CheckNetworkList(ctx, a.list, a.rt); err != nil {
				return nil, pluginexec.ContextError(ctx, err)
			}
		}
	}
	if cached != nil {
		return cached, nil
	}
	// a.rt.NetNS is empty when the namespace the attachment went into is
	// gone, or its path now leads elsewhere: reading the caller's path
	// would report another namespace's addresses.
	netnsPath := a.rt.NetNS
	if netnsPath == "" {
		return nil, fmt.Errorf("%w: no cached result, and the network namespace it was set up in (%s) is gone", ErrNotAttached, pod.NetNS)
	}
	res, err := readNetNSResult(netnsPath, a.ifname, a.list.CNIVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: no cached result, and reading %s in %s failed: %w", ErrNotAttached, a.ifname, netnsPath, err)
	}
	return res, nil
}
