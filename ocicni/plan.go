package ocicni

import (
	"fmt"
	"os"

	"github.com/containernetworking/cni/libcni"
	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/sirupsen/logrus"
)

// attachment is one network of one pod, planned and ready to run.
type attachment struct {
	name   string
	ifname string
	pos    int              // position in the call's attach order
	net    *netconf.Network // the loaded network, nil if not loaded
	rt     *libcni.RuntimeConf
	list   *libcni.NetworkConfigList // what to run: cached or current
	// noCache is set when the result cache holds no entry for the
	// attachment, so list (if any) is the current configuration.
	noCache bool
	// readable is set when the attachment's entry was read whole and
	// parsed.
	readable bool
	// owed is set when the attachment's entry is an owed one: its DEL is
	// owed and it has no result to report.
	owed bool
	// damaged is set when the attachment's entry could not be read whole
	// or parsed; libcni drops such an entry before the DEL runs.
	damaged bool
	// nsID is the identity of the namespace a record of the attachment
	// vouches for ("" when none does): a DEL sent anywhere else is
	// unchecked and orders itself against setups (see netnsLocks).
	nsID string
	// started is set once a setup has recorded the attachment and may have
	// begun its ADD: only those get a rollback DEL.
	started bool
}

// planSetup resolves the networks of a setup against the snapshot.
func (p *Plugin) planSetup(set *netconf.Set, pod *PodNetwork) ([]*attachment, error) {
	reqs := pod.Networks
	if len(reqs) == 0 {
		if set.Default == nil {
			return nil, notReadyError(set)
		}
		reqs = []NetAttachment{{Name: set.Default.Name}}
	}
	ifnames, err := planIfnames(reqs)
	if err != nil {
		return nil, err
	}
	atts := make([]*attachment, len(reqs))
	for i, r := range reqs {
		n := set.Lookup(r.Name)
		if n == nil {
			if why := set.SkipReason(r.Name); why != nil {
				return nil, fmt.Errorf("%w: %q: %w", ErrNetworkNotFound, r.Name, why)
			}
			return nil, fmt.Errorf("%w: %q is not loaded from %s", ErrNetworkNotFound, r.Name, set.ConfDir)
		}
		if err := ValidateAttachment(pod.ID, r.Name, ifnames[i]); err != nil {
			return nil, err
		}
		atts[i] = &attachment{
			name: r.Name, ifname: ifnames[i], pos: i, net: n, list: n.List,
			rt: p.runtimeConf(pod, r.Name, ifnames[i]),
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
func (p *Plugin) planExisting(set *netconf.Set, pod *PodNetwork) ([]*attachment, error) {
	entries, err := p.store.Sandbox(pod.ID, attachstore.Hints{Networks: namesOf(set)})
	if err != nil {
		return nil, err
	}
	log := p.opts.logger.WithFields(podFields(pod))
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
		a := &attachment{name: r.Name, ifname: ifnames[i], pos: i, rt: p.existingConf(pod, r.Name, ifnames[i]), noCache: true}
		if n := set.Lookup(r.Name); n != nil {
			a.net, a.list = n, n.List
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
func matchCached(entries []*attachstore.Entry, reqs []NetAttachment, ifnames []string) []*attachstore.Entry {
	found := make([]*attachstore.Entry, len(reqs))
	taken := map[*attachstore.Entry]bool{}
	claim := func(i int, match func(*attachstore.Entry) bool) {
		for _, e := range entries {
			if !taken[e] && e.Network == reqs[i].Name && match(e) {
				found[i], taken[e] = e, true
				return
			}
		}
	}
	for i := range reqs {
		claim(i, func(e *attachstore.Entry) bool { return e.Ifname == ifnames[i] })
	}
	for i := range reqs {
		if found[i] == nil && reqs[i].Ifname == "" {
			claim(i, func(*attachstore.Entry) bool { return true })
		}
	}
	return found
}

func (p *Plugin) fromCache(log logrus.FieldLogger, set *netconf.Set, pod *PodNetwork, e *attachstore.Entry, pos int) *attachment {
	a := &attachment{name: e.Network, ifname: e.Ifname, pos: pos, net: set.Lookup(e.Network), owed: e.Owed, nsID: e.NetNSID}
	list, err := e.ConfigList()
	if err == nil {
		a.list, a.readable = list, true
		a.rt = p.runtimeConf(pod, e.Network, e.Ifname)
		a.rt.Args, a.rt.CapabilityArgs = e.Args, e.Caps
		a.rt.NetNS = p.netnsFor(pod.ID, pod.NetNS, e.NetNS, e.NetNSID)
		return a
	}
	l := log.WithFields(logrus.Fields{"network": e.Network, "ifname": e.Ifname, "cache_file": e.File, "error": err})
	a.damaged = true
	a.rt = p.existingConf(pod, e.Network, e.Ifname)
	// The namespace kept at setup goes first, as for a readable entry: a
	// GC has no path of its own to give, and the caller's may be reused.
	if path, id := e.KeptNetNS(); path != "" {
		a.nsID = id
		a.rt.NetNS = p.netnsFor(pod.ID, pod.NetNS, path, id)
	}
	// The caller's capability arguments go first, as with no entry at
	// all; those recorded at ADD fill in the rest (a GC has none).
	for k, v := range e.Caps {
		if _, ok := a.rt.CapabilityArgs[k]; !ok {
			a.rt.CapabilityArgs[k] = v
		}
	}
	switch kept, keptErr := e.KeptConfigList(); {
	case a.net != nil:
		l.Warn("cached configuration unusable; falling back to the current configuration of the network")
		a.list = a.net.List
	case keptErr == nil:
		l.Warn("cached configuration unusable and the network is no longer configured; using the configuration kept at setup")
		a.list = kept
	default:
		l.Warn("cached configuration unusable and the network is no longer configured")
	}
	return a
}

// existingConf is runtimeConf for an attachment that may exist already,
// with no entry to tell its namespace: the caller's netns path, unless it
// leads to the runtime's own namespace.
func (p *Plugin) existingConf(pod *PodNetwork, netName, ifname string) *libcni.RuntimeConf {
	rt := p.runtimeConf(pod, netName, ifname)
	rt.NetNS = p.netnsFor(pod.ID, pod.NetNS, "", "")
	return rt
}

// netnsFor returns the netns path a DEL, CHECK or status of an existing
// attachment gets: never the runtime's own namespace. With the identity of
// the namespace recorded at ADD, the recorded path while it still leads to
// that namespace (the CNI spec wants a DEL's parameters to match the
// ADD's); else the caller's path, unless it leads where the recorded path
// now does: a named netns path is reused (ip netns, podman, cnitool), and a
// DEL sent into the path's new namespace would take another pod's
// interface. Then nothing: plugins must cope with an empty netns on DEL.
// Without a recorded identity (an entry of an older version or of
// cri-o/ocicni), the recorded path while it exists, else the caller's. A
// path not verified by the recorded identity is never one whose namespace
// another sandbox's entry records.
func (p *Plugin) netnsFor(id, requested, recorded, recordedID string) string {
	path := requested
	switch {
	case recordedID != "":
		if recorded != "" && netnsIdentity(recorded) == recordedID {
			return recorded
		} else if now := netnsIdentity(requested); recorded != "" && now != "" && now != recordedID && now == netnsIdentity(recorded) {
			return ""
		}
	case recorded != "":
		if _, err := os.Stat(recorded); err == nil {
			path = recorded
		}
	}
	if path == "" || isRuntimeNetNS(path) {
		return ""
	}
	// Unverified, the path may have been reused by a pod whose own entry
	// records the namespace there now (a repeated teardown with nothing
	// cached, a damaged entry that lost its identity).
	if now := netnsIdentity(path); now != recordedID && p.store.NetNSOfOther(now, id) {
		return ""
	}
	return path
}
