package ocicnitest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/ocicni"
)

// statusTimeout bounds the STATUS verb, as in the real plugin.
const statusTimeout = 10 * time.Second

// GetPodNetworkStatus reports the pod's attachments; see
// GetPodNetworkStatusWithContext.
func (p *Plugin) GetPodNetworkStatus(pod ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	return p.GetPodNetworkStatusWithContext(context.Background(), pod)
}

// GetPodNetworkStatusWithContext runs CHECK on each of the pod's
// attachments (the requested ones, or all of them) in attach order and
// returns their results, the same addresses SetUpPod returned. It stops at
// the first failure: a CHECK that fails, an owed attachment, a requested
// network the sandbox does not have (ocicni.ErrNotAttached). With no
// network named and nothing attached, the answer is about the default
// network on eth0, as in the real plugin: an error matching
// ocicni.ErrNotAttached, never an empty list with a nil error.
func (p *Plugin) GetPodNetworkStatusWithContext(ctx context.Context, pod ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	c := p.begin("GetPodNetworkStatus", &pod)
	res, err := p.podStatus(ctx, c, &pod)
	p.end(c, err)
	return res, err
}

func (p *Plugin) podStatus(ctx context.Context, c *Call, pod *ocicni.PodNetwork) ([]ocicni.NetResult, error) {
	if err := validateID(pod); err != nil {
		return nil, err
	}
	if err := p.closed(); err != nil {
		return nil, err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	atts, err := p.planExisting(pod)
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		// As the real plugin (and cri-o/ocicni) reads it: the default
		// network on eth0, which the fake knows is not attached.
		p.mu.Lock()
		loaded, def := slices.Clone(p.loaded), p.defaultLocked()
		p.mu.Unlock()
		if def == "" {
			return nil, fmt.Errorf("%w: nothing attached to sandbox %s, and %w", ocicni.ErrNotAttached, pod.ID, notReady(loaded, p.opts.defaultNetwork))
		}
		return nil, &ocicni.OpError{Op: "status", Pod: podName(pod), ID: pod.ID, Network: def, Ifname: ocicni.DefaultInterfaceName,
			Err: fmt.Errorf("%w: nothing attached to this sandbox", ocicni.ErrNotAttached)}
	}
	results := make([]ocicni.NetResult, 0, len(atts))
	for _, e := range atts {
		r := e.NetAttachment
		var err error
		switch {
		case !e.known:
			err = fmt.Errorf("%w: %q is neither attached to this sandbox nor loaded", ocicni.ErrNetworkNotFound, r.Name)
		case e.att == nil:
			err = fmt.Errorf("%w: network %q is not attached on %s", ocicni.ErrNotAttached, r.Name, r.Ifname)
		case e.att.owed:
			err = errors.New("setup of this attachment failed and so did its rollback DEL; tear the pod down to retry it")
		default:
			err = p.run(ctx, c, Step{Verb: VerbCheck, Sandbox: pod.ID, Network: r.Name, Ifname: r.Ifname}, func() error {
				results = append(results, ocicni.NetResult{Result: p.pools[r.Name].result(e.att.host, r.Ifname, e.att.netns), NetAttachment: r})
				return nil
			})
		}
		if err != nil {
			return nil, &ocicni.OpError{Op: "status", Pod: podName(pod), ID: pod.ID, Network: r.Name, Ifname: r.Ifname, Err: err}
		}
	}
	return results, nil
}

// Status returns nil when the fake is ready; see StatusWithContext.
func (p *Plugin) Status() error {
	return p.StatusWithContext(context.Background())
}

// StatusWithContext returns nil when a default network is loaded and its
// STATUS verb succeeds. Otherwise the error matches ocicni.ErrNotReady:
// with ocicni.ErrNoDefaultNetwork when no default network is loaded, or
// wrapping the scripted *cnitypes.Error of a failing STATUS.
func (p *Plugin) StatusWithContext(ctx context.Context) error {
	c := p.begin("Status", nil)
	err := p.status(ctx, c)
	p.end(c, err)
	return err
}

func (p *Plugin) status(ctx context.Context, c *Call) error {
	if err := p.closed(); err != nil {
		return fmt.Errorf("%w: %w", ocicni.ErrNotReady, err)
	}
	p.mu.Lock()
	loaded, def := append([]string(nil), p.loaded...), p.defaultLocked()
	p.mu.Unlock()
	if def == "" {
		return notReady(loaded, p.opts.defaultNetwork)
	}
	sctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	if err := p.run(sctx, c, Step{Verb: VerbStatus, Network: def}, nil); err != nil {
		return statusFailure(def, err)
	}
	return nil
}

// statusFailure is a failed STATUS as the real plugin reports it: it
// matches ocicni.ErrNotReady and, for codes 50 and 51,
// ocicni.ErrNetworkUnavailable or ocicni.ErrLimitedConnectivity.
func statusFailure(network string, err error) error {
	wrapped := fmt.Errorf("%w: default network %q: plugin STATUS: %w", ocicni.ErrNotReady, network, err)
	var ce *cnitypes.Error
	if !errors.As(err, &ce) {
		return wrapped
	}
	switch ce.Code {
	case ocicni.CodeNotAvailable:
		return &matchesToo{err: wrapped, also: ocicni.ErrNetworkUnavailable}
	case ocicni.CodeLimitedConnectivity:
		return &matchesToo{err: wrapped, also: ocicni.ErrLimitedConnectivity}
	}
	return wrapped
}

// matchesToo is err, whose text already says what also means, made to
// match also with errors.Is.
type matchesToo struct{ err, also error }

func (e *matchesToo) Error() string   { return e.err.Error() }
func (e *matchesToo) Unwrap() []error { return []error{e.err, e.also} }

// notReady says why there is no default network.
func notReady(loaded []string, want string) error {
	if want != "" {
		return fmt.Errorf("%w: %w: default network %q not loaded by the fake (loaded: %v)", ocicni.ErrNotReady, ocicni.ErrNoDefaultNetwork, want, loaded)
	}
	return fmt.Errorf("%w: %w: the fake has no network loaded", ocicni.ErrNotReady, ocicni.ErrNoDefaultNetwork)
}

// WaitReady blocks until the fake is ready (see StatusWithContext), ctx
// ends (the error then matches ctx.Err() and ocicni.ErrNotReady), or the
// fake is shut down (the error matches ocicni.ErrShutdown, also when
// Shutdown came first). It checks again whenever SetNetworks, Inject or
// ClearFaults changes the fake, so no test needs to poll it.
func (p *Plugin) WaitReady(ctx context.Context) error {
	c := p.begin("WaitReady", nil)
	err := p.waitReady(ctx, c)
	p.end(c, err)
	return err
}

func (p *Plugin) waitReady(ctx context.Context, c *Call) error {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		err := p.status(ctx, c)
		select {
		case <-p.shutdown:
			if err == nil {
				return ocicni.ErrShutdown
			}
			return fmt.Errorf("%w: %w", ocicni.ErrShutdown, err)
		default:
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-p.shutdown:
			return fmt.Errorf("%w: %w", ocicni.ErrShutdown, err)
		case <-changed:
		}
	}
}
