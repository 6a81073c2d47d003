package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
)

// forEachNetwork is the one loop over a pod's attachments shared by setup,
// rollback, teardown and status. It runs fn on each attachment (in reverse
// when reverse is set) with the attachment's log fields in ctx, wraps every
// failure in an *OpError, and either stops at the first failure or keeps
// going and joins them. It returns how many attachments it visited.
func (p *Plugin) forEachNetwork(ctx context.Context, pod *PodNetwork, op string, atts []*attachment,
	reverse, keepGoing bool, fn func(context.Context, *attachment) error,
) (int, error) {
	var errs []error
	visited := 0
	for i := range atts {
		a := atts[i]
		if reverse {
			a = atts[len(atts)-1-i]
		}
		visited++
		actx := withLogFields(ctx, p.attachFields(pod, a))
		err := fn(actx, a)
		if err == nil {
			continue
		}
		opErr := &OpError{Op: op, Pod: podName(pod), ID: pod.ID, Network: a.name, Ifname: a.ifname, Err: err}
		if !keepGoing {
			return visited, opErr
		}
		errs = append(errs, opErr)
	}
	return visited, errors.Join(errs...)
}

func (p *Plugin) attachFields(pod *PodNetwork, a *attachment) logrus.Fields {
	f := podFields(pod)
	f["network"] = a.name
	f["ifname"] = a.ifname
	if a.list != nil {
		var ts []string
		for _, pl := range a.list.Plugins {
			ts = append(ts, pl.Network.Type)
		}
		f["plugins"] = ts
	}
	return f
}

func podFields(pod *PodNetwork) logrus.Fields {
	return logrus.Fields{"pod_namespace": pod.Namespace, "pod_name": pod.Name, "pod_id": pod.ID}
}

func podName(pod *PodNetwork) string {
	if pod.Namespace == "" && pod.Name == "" {
		return pod.ID
	}
	return pod.Namespace + "/" + pod.Name
}

// planSetup resolves the networks of a setup against the snapshot.
func (p *Plugin) planSetup(set *netSet, pod *PodNetwork) ([]*attachment, error) {
	reqs := pod.Networks
	if len(reqs) == 0 {
		if set.def == nil {
			return nil, notReadyError(set)
		}
		reqs = []NetAttachment{{Name: set.def.name}}
	}
	ifnames, err := planIfnames(reqs)
	if err != nil {
		return nil, err
	}
	atts := make([]*attachment, len(reqs))
	start := time.Now().UnixMicro()
	for i, r := range reqs {
		n := set.lookup(r.Name)
		if n == nil {
			if why := set.skippedNets[r.Name]; why != nil {
				return nil, fmt.Errorf("%w: %q: %w", ErrNetworkNotFound, r.Name, why)
			}
			return nil, fmt.Errorf("%w: %q is not loaded from %s", ErrNetworkNotFound, r.Name, set.confDir)
		}
		// libcni keys its cache by <network>-<sandbox>-<ifname>; a name
		// over the file name limit would fail only after the plugins ran.
		if l := len(r.Name) + len(pod.ID) + len(ifnames[i]) + 2; l > maxCacheFileName {
			return nil, invalidf("sandbox ID %q with network %q and interface %q makes a %d-byte cache file name, over the %d-byte limit",
				pod.ID, r.Name, ifnames[i], l, maxCacheFileName)
		}
		atts[i] = &attachment{
			name: r.Name, ifname: ifnames[i], index: i, net: n, list: n.list,
			rt: p.runtimeConf(pod, r.Name, ifnames[i], start+int64(i)),
		}
	}
	return atts, nil
}

// planExisting finds what a pod is attached to, for teardown and status:
// the requested networks, or everything the cache records for the sandbox.
// Each attachment runs with the configuration and arguments cached at ADD
// time; only where no usable cache entry exists does it fall back to the
// current configuration. Attachments for which neither exists have a nil
// list.
func (p *Plugin) planExisting(ctx context.Context, set *netSet, pod *PodNetwork) ([]*attachment, error) {
	entries, err := p.readCache(pod.ID)
	if err != nil {
		return nil, err
	}
	log := p.log.WithFields(podFields(pod))
	var atts []*attachment
	if len(pod.Networks) == 0 {
		for i, e := range entries {
			atts = append(atts, p.fromCache(log, set, pod, e, i))
		}
		return atts, nil
	}
	ifnames, err := planIfnames(pod.Networks)
	if err != nil {
		return nil, err
	}
	found := matchCached(entries, pod.Networks, ifnames)
	for i, r := range pod.Networks {
		if found[i] != nil {
			atts = append(atts, p.fromCache(log, set, pod, found[i], i))
			continue
		}
		a := &attachment{name: r.Name, ifname: ifnames[i], index: i, rt: p.runtimeConf(pod, r.Name, ifnames[i], int64(i)), noCache: true}
		if n := set.lookup(r.Name); n != nil {
			a.net, a.list = n, n.list
		}
		atts = append(atts, a)
	}
	return atts, nil
}

// matchCached pairs each requested network with its cache entry: the one
// with the same network and interface name or, where the caller named no
// interface, any other entry of that network, since the interface it was
// set up on (a name requested then) need not be the ethN planned now.
// Exact matches are taken first so a fallback never steals one.
func matchCached(entries []*cacheEntry, reqs []NetAttachment, ifnames []string) []*cacheEntry {
	found := make([]*cacheEntry, len(reqs))
	taken := map[*cacheEntry]bool{}
	claim := func(i int, match func(*cacheEntry) bool) {
		for _, e := range entries {
			if !taken[e] && e.network == reqs[i].Name && match(e) {
				found[i], taken[e] = e, true
				return
			}
		}
	}
	for i := range reqs {
		claim(i, func(e *cacheEntry) bool { return e.ifname == ifnames[i] })
	}
	for i := range reqs {
		if found[i] == nil && reqs[i].Ifname == "" {
			claim(i, func(*cacheEntry) bool { return true })
		}
	}
	return found
}

func (p *Plugin) fromCache(log logrus.FieldLogger, set *netSet, pod *PodNetwork, e *cacheEntry, index int) *attachment {
	a := &attachment{name: e.network, ifname: e.ifname, index: index, net: set.lookup(e.network)}
	list, err := e.cachedList()
	if err == nil {
		a.list = list
		a.rt = p.runtimeConf(pod, e.network, e.ifname, int64(index))
		a.rt.Args, a.rt.CapabilityArgs = e.args, e.caps
		a.rt.NetNS = pickNetNS(pod.NetNS, e.netns)
		return a
	}
	l := log.WithFields(logrus.Fields{"network": e.network, "ifname": e.ifname, "cache_file": e.file, "error": err})
	a.rt = p.runtimeConf(pod, e.network, e.ifname, int64(index))
	if a.net != nil {
		l.Warn("cached configuration unusable; falling back to the current configuration of the network")
		a.list = a.net.list
	} else {
		l.Warn("cached configuration unusable and the network is no longer configured")
	}
	return a
}

// pickNetNS prefers the caller's path; without one, the cached path is used
// only while it still exists, since plugins must cope with an empty one.
func pickNetNS(requested, cached string) string {
	if requested != "" || cached == "" {
		return requested
	}
	if _, err := os.Stat(cached); err != nil {
		return ""
	}
	return cached
}
