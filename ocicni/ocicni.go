// Package ocicni gives pods their networks through CNI. It is a drop-in
// replacement for cri-o/ocicni: the same CNIPlugin interface, the same
// InitCNI constructors and the same types, plus a functional-options
// constructor, New, and a few additions (network listing, change
// notification, WaitReady).
package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/containernetworking/cni/libcni"
	"github.com/sirupsen/logrus"
)

// Plugin implements CNIPlugin. Build one with New or an InitCNI function.
//
// Locking rule. Configuration is an immutable snapshot behind current; a
// reload builds a new one off to the side (holding reloadSlot, which only
// reloads take) and swaps the pointer. Pod operations read the pointer once
// and never hold reloadSlot while a pod plugin runs, so a slow plugin can
// never stall a reload, Status or another pod. Pod operations take, in this
// order, the sandbox's entry in pods and then gcLock for reading, giving up
// on either wait when their context ends; GC takes gcLock for writing,
// because the CNI spec forbids GC while an ADD or DEL is in flight. No other
// lock is held across a plugin exec.
type Plugin struct {
	opts options
	log  logrus.FieldLogger
	exec *pluginExec
	cni  *libcni.CNIConfig

	loader  *loader
	current atomic.Pointer[netSet]
	// reloadSlot holds a token while a reload runs: a channel rather than
	// a mutex so an operation can stop waiting for another's reload.
	reloadSlot chan struct{}
	lastScan   atomic.Value

	pods   *podLocks
	gcLock sync.RWMutex
	// gcUnresolved holds the corrupt cache files the last GC could not tie
	// to a network, so each is reported once. Guarded by gcLock.
	gcUnresolved map[string]bool

	// life is cancelled by Shutdown, and is how WaitReady learns of it.
	// Reloads run on it rather than on a caller's context: a caller giving
	// up must not make a plugin's VERSION look failed, while Shutdown must
	// not wait out a slow one.
	life         context.Context
	endLife      context.CancelFunc
	watch        *watcher
	shutdownOnce sync.Once
}

var _ CNIPlugin = (*Plugin)(nil)

// New builds a Plugin, loads the configuration once and, unless watching is
// turned off, starts watching the conf and plugin directories. It does not
// fail because the conf dir is empty or missing, nor because inotify is
// unavailable (it then polls): Status says what is missing instead.
func New(opts ...Option) (*Plugin, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	p := &Plugin{
		opts:       o,
		log:        o.logger,
		exec:       &pluginExec{inner: o.exec, timeout: o.pluginTimeout, log: o.logger},
		pods:       newPodLocks(),
		reloadSlot: make(chan struct{}, 1),
	}
	p.life, p.endLife = context.WithCancel(context.Background())
	p.cni = libcni.NewCNIConfigWithCacheDir(o.binDirs, o.cacheDir, p.exec)
	p.loader = &loader{
		confDir: o.confDir, binDirs: o.binDirs, wantDefault: o.defaultNetwork,
		exec: p.exec, cache: newValidCache(), log: o.logger,
	}
	p.reload(p.life)
	if o.watch {
		p.watch = newWatcher(p)
		p.watch.start()
	}
	return p, nil
}

// Name returns CNIPluginName.
func (p *Plugin) Name() string { return CNIPluginName }

// GetDefaultNetworkName returns the current default network's name, or ""
// when none is loaded.
func (p *Plugin) GetDefaultNetworkName() string {
	if set, _ := p.snapshot(context.Background()); set.def != nil {
		return set.def.name
	}
	return ""
}

// Networks returns a view of the loaded configuration: every network with
// its file, version and plugin types, the default, and every skipped file
// with the reason. Its Changed channel closes when the view goes stale.
func (p *Plugin) Networks() NetworkSet {
	set, _ := p.snapshot(context.Background())
	return set.info()
}

// reload loads the configuration and swaps it in if anything changed.
// Callers pass p.life, never an operation's context: see Plugin.life.
func (p *Plugin) reload(ctx context.Context) {
	p.reloadSlot <- struct{}{}
	defer func() { <-p.reloadSlot }()
	p.reloadLocked(ctx)
}

// reloadLocked throws away a load whose context ended: its VERSION execs
// were killed, so it would mark good networks invalid, and after Shutdown
// the last configuration is meant to stay.
func (p *Plugin) reloadLocked(ctx context.Context) {
	// Only operations that check the directories themselves use the
	// fingerprint; while inotify watches, taking it would stat every
	// file of the directories again for nothing.
	scan, racy := "", false
	if p.watch == nil || p.watch.polling.Load() {
		scan, racy = p.scanDirs()
	}
	set := p.loader.load(ctx)
	if ctx.Err() != nil {
		return
	}
	if racy {
		// A file changed so recently that a further change may not
		// show in the fingerprint: have the next operation load again.
		scan = ""
	}
	p.lastScan.Store(scan)
	old := p.current.Load()
	if old != nil && old.signature == set.signature {
		return
	}
	p.current.Store(set)
	if old != nil {
		close(old.changed)
	}
	p.logLoad(old, set)
}

func (p *Plugin) logLoad(old, set *netSet) {
	for _, s := range set.skipped {
		p.log.WithFields(logrus.Fields{"file": s.File, "reason": s.Reason}).Warn("skipping CNI configuration file")
	}
	name := ""
	if set.def != nil {
		name = set.def.name
	}
	oldName := ""
	if old != nil && old.def != nil {
		oldName = old.def.name
	}
	l := p.log.WithFields(logrus.Fields{"conf_dir": set.confDir, "networks": len(set.ordered), "skipped": len(set.skipped), "default_network": name})
	if old == nil || oldName != name {
		l.Info("CNI configuration loaded; default network changed")
		return
	}
	l.Info("CNI configuration reloaded")
}

// snapshot returns the current configuration. Without a watcher it first
// reloads when the directories' listings or stamps changed, so a change is
// never missed; that check costs a few stat calls. A reload may exec
// VERSION for a new binary (up to versionTimeout), so waiting for one
// another operation started ends with ctx, with ctx's error and the
// configuration as it was. After Shutdown it no longer reloads.
func (p *Plugin) snapshot(ctx context.Context) (*netSet, error) {
	if (p.watch == nil || p.watch.polling.Load()) && p.life.Err() == nil && !p.scanUnchanged() {
		select {
		case p.reloadSlot <- struct{}{}:
			if !p.scanUnchanged() {
				p.reloadLocked(p.life)
			}
			<-p.reloadSlot
		case <-ctx.Done():
			return p.current.Load(), fmt.Errorf("waiting for a CNI configuration reload: %w", ctx.Err())
		}
	}
	return p.current.Load(), nil
}

// scanUnchanged reports whether the directories' fingerprint still matches
// the one taken for the last load.
func (p *Plugin) scanUnchanged() bool {
	last, _ := p.lastScan.Load().(string)
	fp, _ := p.scanDirs()
	return last != "" && last == fp
}

// SetUpPod attaches the pod to its networks; see CNIPlugin.
func (p *Plugin) SetUpPod(pod PodNetwork) ([]NetResult, error) {
	return p.SetUpPodWithContext(context.Background(), pod)
}

// SetUpPodWithContext attaches the pod to its networks (the default network
// when pod.Networks is empty), bringing up lo in the pod's netns meanwhile. When
// any network fails, every network of the call, the failing one included,
// gets a DEL in reverse order before the error returns, even if ctx was
// cancelled. Results are in attach order.
func (p *Plugin) SetUpPodWithContext(ctx context.Context, pod PodNetwork) ([]NetResult, error) {
	if err := validateSetup(&pod); err != nil {
		return nil, err
	}
	set, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	atts, err := p.planSetup(set, &pod)
	if err != nil {
		return nil, err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()

	for _, a := range atts {
		if _, err := os.Lstat(p.cachePath(a.name, pod.ID, a.ifname)); err == nil {
			return nil, fmt.Errorf("%w: network %q on %s for pod %s (sandbox %s); tear the pod down before setting it up again",
				ErrAlreadyAttached, a.name, a.ifname, podName(&pod), pod.ID)
		}
	}
	// lo comes up while the plugins run: it needs no plugin and no plugin
	// needs it, and the netlink round trip into the pod's netns would
	// otherwise add to every setup's latency.
	loDone := make(chan error, 1)
	go func() { loDone <- bringUpLoopback(pod.NetNS) }()
	results := make([]NetResult, len(atts))
	n, err := p.forEachNetwork(ctx, &pod, "add", atts, false, false, func(ctx context.Context, a *attachment) error {
		res, err := p.cni.AddNetworkList(ctx, a.list, a.rt)
		if err != nil {
			return withCtxErr(ctx, err)
		}
		results[a.index] = NetResult{Result: res, NetAttachment: NetAttachment{Name: a.name, Ifname: a.ifname}}
		return nil
	})
	if loErr := <-loDone; loErr != nil && err == nil {
		err = fmt.Errorf("pod %s: bringing up lo in %s: %w", podName(&pod), pod.NetNS, loErr)
	}
	if err == nil {
		return results, nil
	}
	// A failed ADD must be followed by a DEL (CNI spec), and the caller's
	// context may be the reason it failed: roll back on a detached one.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_, rbErr := p.forEachNetwork(rctx, &pod, "del", atts[:n], true, true, func(ctx context.Context, a *attachment) error {
		err := p.cni.DelNetworkList(ctx, a.list, a.rt)
		if err != nil {
			if rerr := p.recordPendingDel(a); rerr != nil {
				p.log.WithFields(logFields(ctx)).WithError(rerr).Error("cannot record the failed rollback in the cache; this attachment may leak")
			}
		}
		return err
	})
	if rbErr != nil {
		p.log.WithFields(podFields(&pod)).WithError(rbErr).Error("rollback of failed pod network setup failed")
		return nil, fmt.Errorf("%w; rollback also failed: %w", err, rbErr)
	}
	return nil, err
}

// withCtxErr adds the context's verdict to err, since libcni reports a
// plugin killed on cancellation only as "signal: killed".
func withCtxErr(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w: %w", err, ErrPluginTimeout, cerr)
		}
		return fmt.Errorf("%w: %w", err, cerr)
	}
	return err
}

// lockPod takes the sandbox's lock and then gcLock for reading. Both
// waits end with ctx, and a ctx that ended meanwhile is reported rather
// than handed to an ADD, whose instant failure would cost a rollback DEL.
func (p *Plugin) lockPod(ctx context.Context, id string) (func(), error) {
	unlockPod, err := p.pods.lock(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("waiting for another operation on sandbox %s: %w", id, err)
	}
	if err := p.rlockGC(ctx); err != nil {
		unlockPod()
		return nil, fmt.Errorf("waiting for a CNI garbage collection to finish: %w", err)
	}
	unlock := func() {
		p.gcLock.RUnlock()
		unlockPod()
	}
	if err := ctx.Err(); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// rlockGC takes gcLock for reading unless ctx ends first. A GC holds the
// lock across one DEL per stale attachment, which can take far longer than
// a caller's deadline. sync.RWMutex cannot abandon a wait, so a contended
// wait happens in a helper goroutine, which, if the caller gives up,
// releases the lock as soon as it gets it.
func (p *Plugin) rlockGC(ctx context.Context) error {
	if p.gcLock.TryRLock() {
		return nil
	}
	got := make(chan struct{})
	go func() {
		p.gcLock.RLock()
		close(got)
	}()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() {
			<-got
			p.gcLock.RUnlock()
		}()
		return ctx.Err()
	}
}

// TearDownPod detaches the pod; see CNIPlugin.
func (p *Plugin) TearDownPod(pod PodNetwork) error {
	return p.TearDownPodWithContext(context.Background(), pod)
}

// TearDownPodWithContext detaches the pod from the requested networks, or
// from every network the result cache records for the sandbox when none are
// requested, in reverse attach order. Each DEL uses the configuration and
// arguments cached at ADD time, so a network whose file changed or vanished
// is still removed by the plugins that added it. It keeps going past
// failures and returns them joined; a failed DEL leaves its cache entry so a
// later call can retry. Tearing down twice, or with an empty or deleted
// netns path, succeeds.
func (p *Plugin) TearDownPodWithContext(ctx context.Context, pod PodNetwork) error {
	if err := validateID(&pod); err != nil {
		return err
	}
	set, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return err
	}
	defer unlock()
	atts, err := p.planExisting(ctx, set, &pod)
	if err != nil {
		return err
	}
	_, err = p.forEachNetwork(ctx, &pod, "del", atts, true, true, func(ctx context.Context, a *attachment) error {
		if a.list == nil {
			p.log.WithFields(logrus.Fields(logFields(ctx))).Warn("nothing cached and network not configured; nothing to tear down")
			return nil
		}
		if a.noCache {
			p.log.WithFields(logFields(ctx)).Warn("no cache entry for this attachment; tearing down with the current configuration of the network")
		} else if a.net == nil || a.net.list != a.list {
			p.log.WithFields(logFields(ctx)).Debug("tearing down with the configuration cached at setup")
		}
		return withCtxErr(ctx, p.cni.DelNetworkList(ctx, a.list, a.rt))
	})
	return err
}

// Shutdown stops the watcher and waits for its goroutine. It may be called
// more than once; pod operations keep working with the last configuration.
func (p *Plugin) Shutdown() error {
	p.shutdownOnce.Do(func() {
		p.endLife()
		if p.watch != nil {
			p.watch.stop()
		}
	})
	return nil
}
