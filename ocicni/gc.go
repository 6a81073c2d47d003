package ocicni

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/containernetworking/cni/libcni"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/sirupsen/logrus"
)

// gcVerbCacheDir names, under the cache directory, the cache directory
// GC hands libcni with the GC verb. Nothing is ever written there: libcni
// finds no results directory in it, so no cached attachment to DEL.
const gcVerbCacheDir = "gc-verb-only"

// defaultGCWorkers bounds how many stale sandboxes GC tears down at once.
// The plugin execs are the cost and host-local serialises on a file lock,
// so a few in flight keep the CPUs busy without swamping a small node.
const defaultGCWorkers = 8

// GC removes every cached attachment whose sandbox is not among validPods,
// then sends the CNI GC verb (cniVersion >= 1.1.0) to every loaded network.
//
// Stale attachments are torn down sandbox by sandbox as TearDownPod would
// (under the sandbox's lock, in reverse attach order, with the
// configuration cached at ADD and the current one as a fallback), several
// sandboxes at once, while other pods keep being set up and torn down.
// Attachments of networks whose file is gone are cleaned up too; those
// whose cached or current configuration sets disableGC stay. Only the GC
// verb itself excludes ADD and DEL, as the CNI spec asks; the attachments
// it reports as valid are those of validPods (the default network on eth0
// for a pod that names none, as cri-o/ocicni computes them) together with
// everything still cached, so a running pod whose cache entry was lost is
// not freed by a plugin's GC. libcni is handed the verb alone: it DELs no
// cached attachment itself, so no DEL goes to a netns path recorded at ADD
// that a later pod's namespace has taken. Waiting for the ADDs and DELs in flight to
// end before the verb, GC holds new pod operations back for at most
// WithGCHoldBack's bound; then they go ahead and the verb waits for an
// instant with none in flight. One GC runs at a time. GC keeps going past
// failures and returns them joined; a nil or ID-less entry in validPods,
// or one with an invalid interface name, is refused up front. Every wait
// ends with ctx.
func (p *Plugin) GC(ctx context.Context, validPods []*PodNetwork) (err error) {
	ctx, span := p.tel.startOp(ctx, "gc", nil, attrValidPods.Int(len(validPods)))
	defer span.endOp(&err)
	if err := ValidateGCPods(validPods); err != nil {
		return err
	}
	set, err := p.conf.Current(ctx)
	if err != nil {
		return err
	}
	validAtts, err := validAttachments(set, validPods)
	if err != nil {
		return err
	}
	select {
	case p.gcRun <- struct{}{}:
		defer func() { <-p.gcRun }()
	case <-ctx.Done():
		return fmt.Errorf("waiting for another GC to finish: %w", ctx.Err())
	}

	left := p.sweep()
	entries, err := p.store.All()
	if err != nil {
		return err
	}
	valid := map[string]bool{}
	for _, pod := range validPods {
		valid[pod.ID] = true
	}
	stale, ambiguous := p.staleSandboxes(set, entries, valid, left)
	errs := p.collectStale(ctx, set, stale, valid)
	errs = append(errs, p.collectAmbiguous(ctx, set, ambiguous)...)

	deferred := func() {
		p.opts.logger.WithField("hold_back", p.opts.gcHoldBack.String()).Info("GC: pod operations still in flight; letting new ones through, the GC verb waits until none is in flight")
	}
	if err := p.gc.lock(ctx, p.opts.gcHoldBack, deferred); err != nil {
		return errors.Join(append(errs, fmt.Errorf("waiting for in-flight pod operations before the GC verb: %w", err))...)
	}
	defer p.gc.unlock()
	// Whatever is cached now is still attached as far as anyone knows: a
	// valid pod, one set up since GC started, or a stale one whose DEL
	// failed or that disableGC keeps.
	entries, err = p.store.Rescan(entries)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	// A damaged entry may be any of the attachments its file name reads
	// as; none of them is freed by a plugin's GC.
	for _, e := range entries {
		if e.Err == nil {
			validAtts.add(e.Network, e.ID, e.Ifname)
			continue
		}
		for _, sp := range attachstore.Splits(filepath.Base(e.File), namesOf(set)) {
			validAtts.add(sp.Network, sp.ID, sp.Ifname)
		}
	}
	for _, n := range set.Ordered {
		if n.List.DisableGC {
			continue
		}
		if ok, _ := version.GreaterThanOrEqualTo(n.List.CNIVersion, "1.1.0"); !ok {
			continue
		}
		gctx := pluginexec.WithLogFields(ctx, logrus.Fields{"network": n.Name})
		// Every stale attachment of n was handled above. libcni's GC would
		// DEL whatever file of the results directory it reads as an
		// attachment outside the list (a copy of a record, one it reads
		// through a symlink), with the netns path recorded at ADD and no
		// check that it still leads to that namespace: once the name is
		// reused, into a valid pod's. It would also read every entry whole
		// and block on a FIFO first. gcVerb's cache directory holds no
		// entries, so libcni sends the verb alone.
		args := &libcni.GCArgs{ValidAttachments: validAtts[n.Name]}
		if err := p.gcVerb.GCNetworkList(gctx, n.List, args); err != nil {
			errs = append(errs, fmt.Errorf("GC of network %q: %w", n.Name, pluginexec.ContextError(gctx, err)))
		}
	}
	return errors.Join(errs...)
}

// gcAttachments holds, per network, the attachments GC reports as valid.
type gcAttachments map[string][]cnitypes.GCAttachment

func (g gcAttachments) add(network, id, ifname string) {
	a := cnitypes.GCAttachment{ContainerID: id, IfName: ifname}
	if !slices.Contains(g[network], a) {
		g[network] = append(g[network], a)
	}
}

// validAttachments lists what validPods are attached to: each named
// network on its planned interface, or the default network on eth0.
func validAttachments(set *netconf.Set, validPods []*PodNetwork) (gcAttachments, error) {
	out := gcAttachments{}
	for i, pod := range validPods {
		if len(pod.Networks) == 0 {
			if set.Default != nil {
				out.add(set.Default.Name, pod.ID, DefaultInterfaceName)
			}
			continue
		}
		ifnames, err := planIfnames(pod.Networks)
		if err != nil {
			return nil, fmt.Errorf("validPods[%d]: %w", i, err)
		}
		for j, n := range pod.Networks {
			out.add(n.Name, pod.ID, ifnames[j])
		}
	}
	return out, nil
}

// staleSandboxes returns, in cache order, the sandboxes with an attachment
// whose sandbox is not valid. A damaged entry counts only where its file
// name reads one way alone (attachstore.Splits); one whose name reads
// several ways, none of them a valid sandbox's, is returned in ambiguous
// (see collectAmbiguous); any other that cannot be tied to a network and
// a sandbox beyond doubt is left, and reported once, not on every GC, as
// is a directory Sweep left; it needs the gcRun token.
func (p *Plugin) staleSandboxes(set *netconf.Set, entries []*attachstore.Entry, valid map[string]bool, left []string) (stale, ambiguous []string) {
	seen := map[string]bool{}
	unresolved := map[string]bool{}
	for _, name := range left {
		file := filepath.Join(p.store.Dir(), name)
		unresolved[file] = true
		if !p.gcUnresolved[file] {
			p.opts.logger.WithField("cache_file", file).Warn("GC: a directory that is not empty sits in the CNI cache where an entry belongs; leaving it")
		}
	}
	for _, e := range entries {
		id := e.ID
		if r, ok := e.Recorded(); e.Err != nil && ok {
			id = r.ID
		} else if e.Err != nil {
			splits := attachstore.Splits(filepath.Base(e.File), namesOf(set))
			if ambiguousStale(splits, valid) {
				ambiguous = append(ambiguous, e.File)
				continue
			}
			if len(splits) != 1 {
				unresolved[e.File] = true
				if !p.gcUnresolved[e.File] {
					p.opts.logger.WithFields(logrus.Fields{"cache_file": e.File, "error": e.Err, "readings": len(splits)}).
						Warn("GC: cannot tell which network a corrupt cache file belongs to; leaving it")
				}
				continue
			}
			id = splits[0].ID
		}
		if !valid[id] && !seen[id] {
			seen[id] = true
			stale = append(stale, id)
		}
	}
	p.gcUnresolved = unresolved
	return stale, ambiguous
}

// collectStale tears the stale sandboxes down, a few at a time, and
// returns the failures. It stops handing out sandboxes once ctx ends.
func (p *Plugin) collectStale(ctx context.Context, set *netconf.Set, ids []string, valid map[string]bool) []error {
	var (
		mu   sync.Mutex // guards errs
		errs []error
		wg   sync.WaitGroup
	)
	work := make(chan string)
	for range min(p.opts.gcWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if serrs := p.collectSandbox(ctx, set, id, valid); len(serrs) > 0 {
					mu.Lock()
					errs = append(errs, serrs...)
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("GC stopped: %w", err))
	}
	return errs
}

// collectSandbox DELs every cached attachment of one stale sandbox, as a
// teardown by sandbox ID would, except those disableGC keeps, and returns
// one error per failed attachment.
func (p *Plugin) collectSandbox(ctx context.Context, set *netconf.Set, id string, valid map[string]bool) []error {
	unlock, err := p.lockPod(ctx, id)
	if err != nil {
		return []error{err}
	}
	defer unlock()
	// Only a damaged entry whose file name reads one way, and not as a
	// valid pod's, is this sandbox's.
	entries, err := p.store.Sandbox(id, attachstore.Hints{Networks: namesOf(set), Unique: true,
		Live: func(id string) bool { return valid[id] }})
	if err != nil {
		return []error{err}
	}
	pod := &PodNetwork{ID: id}
	var atts []*attachment
	var errs []error
	for i, e := range entries {
		a := p.fromCache(p.opts.logger, set, pod, e, i)
		if a.list == nil {
			errs = append(errs, &OpError{Op: string(stepGC), Pod: id, ID: id, Network: e.Network, Ifname: e.Ifname,
				Err: fmt.Errorf("%w: cache entry %s is unusable (%v) and the network is no longer configured", ErrNetworkNotFound, e.File, e.Err)})
			continue
		}
		if a.list.DisableGC || (a.net != nil && a.net.List.DisableGC) {
			continue
		}
		atts = append(atts, a)
	}
	// No caller waits on these DELs, so their plugins run at a lower CPU
	// priority than those of the pods being set up meanwhile.
	if err := p.forEachNetwork(pluginexec.WithBackground(ctx), pod, stepGC, atts, reverseKeepGoing, p.del); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			return append(errs, j.Unwrap()...)
		}
		errs = append(errs, err)
	}
	return errs
}

// namesOf returns the names of the loaded networks, those a damaged
// entry's file name may start with.
func namesOf(set *netconf.Set) []string {
	names := make([]string, len(set.Ordered))
	for i, n := range set.Ordered {
		names[i] = n.Name
	}
	return names
}

// sweep runs the store's Sweep and logs what it did; it returns the names
// it could not remove.
func (p *Plugin) sweep() []string {
	removed, left, emptied := p.store.Sweep()
	for _, name := range emptied {
		p.opts.logger.WithField("file", name).Warn("emptied a CNI cache entry over the size limit, which libcni would read whole; it stays a damaged entry")
	}
	for _, name := range removed {
		p.opts.logger.WithField("file", name).Info("removed a half-written attachment record, or a file no CNI cache entry can be, from the CNI cache")
	}
	return left
}
