package ocicnitest

import (
	"context"
	"errors"
	"slices"

	"github.com/netplumb/ocicni/ocicni"
)

// TearDownPod detaches the pod; see TearDownPodWithContext.
func (p *Plugin) TearDownPod(pod ocicni.PodNetwork) error {
	return p.TearDownPodWithContext(context.Background(), pod)
}

// TearDownPodWithContext DELs the networks the pod names or, when it names
// none, every attachment of the sandbox in reverse attach order. It keeps
// going past a failing DEL and returns the errors joined, each an
// *ocicni.OpError; an attachment whose DEL failed stays, so a later call
// retries it. A named network the sandbox does not have still gets its
// DEL when it is loaded (DEL is idempotent in CNI) and is skipped when it
// is not. Tearing down twice, or with an empty netns path, succeeds.
func (p *Plugin) TearDownPodWithContext(ctx context.Context, pod ocicni.PodNetwork) error {
	c := p.begin("TearDownPod", &pod)
	err := p.tearDown(ctx, c, &pod)
	p.end(c, err)
	return err
}

func (p *Plugin) tearDown(ctx context.Context, c *Call, pod *ocicni.PodNetwork) error {
	if err := validateID(pod); err != nil {
		return err
	}
	if err := p.closed(); err != nil {
		return err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return err
	}
	defer unlock()
	atts, err := p.planExisting(pod)
	if err != nil {
		return err
	}
	if len(atts) == 0 && len(pod.Networks) == 0 {
		// As the real plugin does (and cri-o/ocicni): with nothing
		// attached and no network named, the default network gets a DEL
		// on eth0, which succeeds and removes nothing.
		p.mu.Lock()
		def := p.defaultLocked()
		p.mu.Unlock()
		if def != "" {
			err := p.run(ctx, c, Step{Verb: VerbDel, Sandbox: pod.ID, Network: def, Ifname: ocicni.DefaultInterfaceName}, nil)
			if err != nil {
				return &ocicni.OpError{Op: "del", Pod: podName(pod), ID: pod.ID, Network: def, Ifname: ocicni.DefaultInterfaceName, Err: err}
			}
		}
		return nil
	}
	var errs []error
	for _, a := range slices.Backward(atts) {
		if !a.known {
			continue
		}
		r := a.NetAttachment
		err := p.run(ctx, c, Step{Verb: VerbDel, Sandbox: pod.ID, Network: r.Name, Ifname: r.Ifname}, func() error {
			p.detachLocked(pod.ID, r)
			return nil
		})
		if err != nil {
			// As with the real plugin, a failed DEL leaves the attachment
			// owing one: status reports it instead of CHECKing it.
			p.owe(pod, r)
			errs = append(errs, &ocicni.OpError{Op: "del", Pod: podName(pod), ID: pod.ID, Network: r.Name, Ifname: r.Ifname, Err: err})
		}
	}
	return errors.Join(errs...)
}

// existing is one attachment a teardown or status acts on.
type existing struct {
	ocicni.NetAttachment
	// att is the sandbox's attachment, nil when it has none matching.
	att *attachment
	// known is set when the fake can act on it: it is attached (owed
	// included) or its network is loaded.
	known bool
}

// planExisting finds what a teardown or status acts on: the requested
// networks, or every attachment of the sandbox, in attach order. A
// request without an interface name matches the network's attachment
// whatever interface it is on, as the real plugin matches its cache:
// exact matches are taken first, so such a request never steals one.
func (p *Plugin) planExisting(pod *ocicni.PodNetwork) ([]existing, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	have := p.pods[pod.ID]
	if len(pod.Networks) == 0 {
		out := make([]existing, len(have))
		for i, a := range have {
			out[i] = existing{NetAttachment: ocicni.NetAttachment{Name: a.network, Ifname: a.ifname}, att: a, known: true}
		}
		return out, nil
	}
	ifnames, err := planIfnames(pod.Networks)
	if err != nil {
		return nil, err
	}
	out := make([]existing, len(pod.Networks))
	taken := map[*attachment]bool{}
	claim := func(i int, match func(*attachment) bool) {
		for _, a := range have {
			if !taken[a] && a.network == pod.Networks[i].Name && match(a) {
				taken[a] = true
				out[i] = existing{NetAttachment: ocicni.NetAttachment{Name: a.network, Ifname: a.ifname}, att: a, known: true}
				return
			}
		}
	}
	for i := range pod.Networks {
		claim(i, func(a *attachment) bool { return a.ifname == ifnames[i] })
	}
	for i, r := range pod.Networks {
		if out[i].att == nil && r.Ifname == "" {
			claim(i, func(*attachment) bool { return true })
		}
	}
	for i, r := range pod.Networks {
		if out[i].att == nil {
			out[i] = existing{NetAttachment: ocicni.NetAttachment{Name: r.Name, Ifname: ifnames[i]}, known: slices.Contains(p.loaded, r.Name)}
		}
	}
	return out, nil
}
