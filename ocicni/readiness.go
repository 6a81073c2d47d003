package ocicni

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// Status reports whether pods can be set up; see CNIPlugin.
func (p *Plugin) Status() error {
	return p.StatusWithContext(context.Background())
}

// StatusWithContext returns nil when the default network is loaded, every
// plugin binary of its chain is present, and (for cniVersion 1.1.0 on) its
// plugins' STATUS, asked in the background, last said ready, or failed less
// than the grace period (WithStatusGracePeriod) after a success. Otherwise
// the error matches ErrNotReady and says what an operator should fix; a
// STATUS failure also matches ErrNetworkUnavailable (code 50) or
// ErrLimitedConnectivity (code 51), and errors.As finds the plugin's
// *types.Error. It never runs a plugin, so it answers at once even while a
// plugin's STATUS hangs; a default network whose STATUS has not answered
// yet is not ready.
func (p *Plugin) StatusWithContext(ctx context.Context) (err error) {
	ctx, span := p.tel.startOp(ctx, "ready", nil)
	defer span.endOp(&err)
	set, err := p.conf.Current(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return p.statusOf(set)
}

// statusOf is StatusWithContext for one snapshot.
func (p *Plugin) statusOf(set *netconf.Set) error {
	if set.Default == nil {
		return notReadyError(set)
	}
	for _, t := range set.Default.Types {
		if _, _, err := pluginexec.Find(t, set.BinDirs); err != nil {
			return fmt.Errorf("%w: default network %q: %w", ErrNotReady, set.Default.Name, err)
		}
	}
	if !hasStatusVerb(set.Default.List) {
		return nil
	}
	if v := p.ready.view(set.Default.Name, time.Now()); !v.Ready {
		return v.Err
	}
	return nil
}

// chainStatus asks every plugin of list for its STATUS at once, where
// libcni asks them one after another: the answers do not depend on each
// other (a STATUS carries no prevResult), and each exec costs tens of
// milliseconds with real plugins, which would otherwise add up in every
// Status and in the time from a configuration landing to ready. The error
// is the one the first failing plugin in chain order gave, as libcni's
// walk would report it.
func (p *Plugin) chainStatus(ctx context.Context, list *libcni.NetworkConfigList) error {
	if len(list.Plugins) < 2 {
		return p.cni.GetStatusNetworkList(ctx, list)
	}
	errs := make([]error, len(list.Plugins))
	var wg sync.WaitGroup
	for i, pl := range list.Plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			one := *list
			one.Plugins = []*libcni.PluginConfig{pl}
			errs[i] = p.cni.GetStatusNetworkList(ctx, &one)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// notReadyError explains why there is no default network.
func notReadyError(set *netconf.Set) error {
	var b strings.Builder
	switch {
	case set.DirErr != nil:
		fmt.Fprintf(&b, "cannot read CNI configuration directory %s: %v", set.ConfDir, set.DirErr)
	case set.WantDefault != "" && len(set.Ordered) > 0:
		fmt.Fprintf(&b, "default network %q not found in %s (loaded: %s)", set.WantDefault, set.ConfDir, loadedNames(set))
	case set.WantDefault != "":
		fmt.Fprintf(&b, "default network %q not found: no valid CNI configuration file in %s. Has your network provider started?", set.WantDefault, set.ConfDir)
	default:
		fmt.Fprintf(&b, "no valid CNI configuration file in %s. Has your network provider started?", set.ConfDir)
	}
	for _, s := range set.Skipped {
		fmt.Fprintf(&b, "; skipped %s: %s", s.File, s.Reason)
	}
	err := fmt.Errorf("%w: %w: %s", ErrNotReady, ErrNoDefaultNetwork, b.String())
	var causes []error
	switch {
	case set.DirErr != nil:
		causes = []error{set.DirErr}
	case set.WantDefault != "":
		if skip := set.SkipReason(set.WantDefault); skip != nil {
			causes = []error{skip}
		}
	case len(set.Ordered) == 0:
		// Any skipped network would have been the default.
		causes = set.SkipCauses()
	}
	if len(causes) == 0 {
		return err
	}
	return &causedError{err: err, causes: causes}
}

// causedError is err, whose text already tells the causes, made to match
// them too: a message saying a plugin binary is missing then matches
// ErrPluginNotFound, one saying the conf dir does not exist fs.ErrNotExist.
type causedError struct {
	err    error
	causes []error
}

func (e *causedError) Error() string { return e.err.Error() }

func (e *causedError) Unwrap() []error { return append([]error{e.err}, e.causes...) }

func loadedNames(set *netconf.Set) string {
	names := make([]string, len(set.Ordered))
	for i, n := range set.Ordered {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

// WaitReady blocks until Status returns nil, ctx ends (the error then
// matches ctx.Err() and ErrNotReady), or the plugin is shut down (the error
// matches ErrShutdown, also when Shutdown came before the call). It wakes
// on every configuration change and every background STATUS answer, and
// checks again every second for what nothing announces (a plugin binary
// removed while the directories are not watched).
func (p *Plugin) WaitReady(ctx context.Context) error {
	const retry = time.Second
	for {
		// One snapshot and one answer channel, both taken before the
		// verdict, serve the wait: a change between the two cannot be
		// missed, and the directories are scanned once per round.
		answered := p.ready.changes()
		set, err := p.conf.Current(ctx)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrNotReady, err)
		} else {
			err = p.statusOf(set)
		}
		select {
		case <-p.conf.Done():
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
			return fmt.Errorf("waiting for the network: %w: %w", ctx.Err(), err)
		case <-p.conf.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrShutdown, err)
		case <-set.Changed():
			t.Stop()
		case <-answered:
			t.Stop()
		case <-t.C:
		}
	}
}
