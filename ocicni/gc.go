package ocicni

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containernetworking/cni/libcni"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/sirupsen/logrus"
)

// GC removes every cached attachment whose sandbox is not among validPods,
// then sends the CNI GC verb (cniVersion >= 1.1.0) to every loaded network
// with the attachments that remain. Stale attachments are DEL'd with the
// configuration cached at ADD time, so attachments of networks whose file
// has since been removed are cleaned up too. Networks with disableGC set
// (in the cached or current configuration) are left alone. GC never runs
// at the same time as a setup or teardown. It keeps going past failures and
// returns them joined; a nil entry in validPods is refused up front.
func (p *Plugin) GC(ctx context.Context, validPods []*PodNetwork) (err error) {
	ctx, span := p.tel.startOp(ctx, "gc", nil, attrValidPods.Int(len(validPods)))
	defer span.endOp(&err)
	valid := map[string]bool{}
	for i, pod := range validPods {
		if pod == nil {
			return invalidf("validPods[%d] is nil", i)
		}
		if pod.ID == "" {
			return invalidf("validPods[%d] has no sandbox ID", i)
		}
		valid[pod.ID] = true
	}
	set, err := p.conf.Current(ctx)
	if err != nil {
		return err
	}

	if err := p.gc.lock(ctx); err != nil {
		return fmt.Errorf("waiting for in-flight pod operations before GC: %w", err)
	}
	defer p.gc.unlock()

	entries, err := p.readCache("")
	if err != nil {
		return err
	}
	var errs []error
	remaining := map[string][]cnitypes.GCAttachment{}
	unresolved := map[string]bool{}
	for _, e := range entries {
		p.resolveCorruptName(set, e)
		if e.network == "" {
			// Nothing can act on it until its network is configured
			// again, so say so once, not on every GC.
			unresolved[e.file] = true
			if !p.gcUnresolved[e.file] {
				p.log.WithFields(logrus.Fields{"cache_file": e.file, "error": e.err}).Warn("GC: cannot tell which network a corrupt cache file belongs to; leaving it")
			}
			continue
		}
		gca := cnitypes.GCAttachment{ContainerID: e.id, IfName: e.ifname}
		if valid[e.id] {
			remaining[e.network] = append(remaining[e.network], gca)
			continue
		}
		gone, err := p.gcEntry(ctx, set, e)
		if err != nil {
			errs = append(errs, err)
		}
		if !gone {
			// Still attached as far as anyone knows: keep it out of
			// libcni's stale-attachment DELs and the plugins' GC.
			remaining[e.network] = append(remaining[e.network], gca)
		}
	}
	p.gcUnresolved = unresolved
	for _, n := range set.Ordered {
		if n.List.DisableGC {
			continue
		}
		if ok, _ := version.GreaterThanOrEqualTo(n.List.CNIVersion, "1.1.0"); !ok {
			continue
		}
		gctx := pluginexec.WithLogFields(ctx, logrus.Fields{"network": n.Name})
		// Every stale attachment of n was handled above, so libcni finds
		// none left to DEL and only sends the GC verb.
		args := &libcni.GCArgs{ValidAttachments: remaining[n.Name]}
		if err := p.cni.GCNetworkList(gctx, n.List, args); err != nil {
			errs = append(errs, fmt.Errorf("GC of network %q: %w", n.Name, pluginexec.ContextError(gctx, err)))
		}
	}
	return errors.Join(errs...)
}

// gcEntry DELs one stale attachment, preferring its cached configuration,
// and reports whether it is gone. One whose cached or current configuration
// sets disableGC stays.
func (p *Plugin) gcEntry(ctx context.Context, set *netconf.Set, e *cacheEntry) (bool, error) {
	pod := &PodNetwork{ID: e.id, NetNS: pickNetNS("", e.netns)}
	a := p.fromCache(p.log, set, pod, e, 0)
	if a.list == nil {
		return false, &OpError{Op: "gc", Pod: e.id, ID: e.id, Network: e.network, Ifname: e.ifname,
			Err: fmt.Errorf("%w: cache entry %s is unusable (%v) and the network is no longer configured", ErrNetworkNotFound, e.file, e.err)}
	}
	if a.list.DisableGC || (a.net != nil && a.net.List.DisableGC) {
		return false, nil
	}
	_, err := p.forEachNetwork(ctx, pod, "gc", []*attachment{a}, reverseKeepGoing, func(ctx context.Context, a *attachment) error {
		return pluginexec.ContextError(ctx, p.cni.DelNetworkList(ctx, a.list, a.rt))
	})
	return err == nil, err
}

// resolveCorruptName fills in the network, sandbox and interface of a
// corrupt entry from its file name, <network>-<id>-<ifname>, by matching
// the loaded network names. Sandbox IDs contain no '-' in practice, so the
// ID ends at the first '-' after the network prefix.
func (p *Plugin) resolveCorruptName(set *netconf.Set, e *cacheEntry) {
	if e.network != "" {
		return
	}
	base := e.file[strings.LastIndex(e.file, "/")+1:]
	for _, n := range set.Ordered {
		rest, ok := strings.CutPrefix(base, n.Name+"-")
		if !ok {
			continue
		}
		if i := strings.Index(rest, "-"); i > 0 && i < len(rest)-1 {
			e.network, e.id, e.ifname = n.Name, rest[:i], rest[i+1:]
			return
		}
	}
}
