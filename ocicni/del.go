package ocicni

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/sirupsen/logrus"
)

// del runs a's DEL, the step teardown, rollback and GC share. It uses the
// configuration a carries (cached at ADD, where there is a cache entry)
// and, when that fails while the network's current configuration differs,
// tries once more with the current one: a file fixed after a failure must
// free the sandbox, not leave it stuck on the broken configuration it was
// set up with. Both failures are in the error. A DEL that fails leaves the
// attachment recorded as owed, so a later teardown or GC retries it.
func (p *Plugin) del(ctx context.Context, a *attachment) error {
	// With no entry of its own, the attachment was never set up through
	// its cache path when another attachment's entry holds it (a setup is
	// refused then); libcni's DEL would run with that entry's result and
	// then remove it, taking the other sandbox's only record.
	release, o := p.claimNoCache(a)
	if o != nil {
		p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithFields(logrus.Fields{"cache_file": o.File, "holder_id": o.ID, "holder_network": o.Network}).
			Warn("this attachment's CNI cache file records another sandbox's attachment; leaving it, nothing to DEL")
		return nil
	}
	defer release()
	unlock, err := p.checkUnvouchedNetNS(ctx, a)
	if err != nil {
		return err
	}
	defer unlock()
	// libcni reads the entry before the DEL; what it could not read
	// without blocking or without bound goes first.
	if err := p.store.Clear(a.name, a.rt.ContainerID, a.ifname); err != nil {
		p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(err).Warn("cannot remove what sits at this attachment's CNI cache entry")
	}
	if a.damaged {
		p.oweDamaged(ctx, a)
	}
	err = p.cni.DelNetworkList(ctx, a.list, a.rt)
	if err != nil && ctx.Err() == nil && a.net != nil && !bytes.Equal(a.net.List.Bytes, a.list.Bytes) {
		curErr := p.cni.DelNetworkList(ctx, a.net.List, a.rt)
		if curErr == nil {
			p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(err).
				Warn("DEL with the configuration cached at setup failed; DEL with the current configuration succeeded")
			p.forget(ctx, a)
			return nil
		}
		err = fmt.Errorf("DEL with the configuration cached at setup failed: %w; DEL with the current configuration from %s failed too: %w",
			err, a.net.File, curErr)
	}
	if err == nil {
		p.forget(ctx, a)
		return nil
	}
	if !a.noCache {
		p.tel.owedDel(ctx, a.name)
		if rerr := p.store.KeepOwed(a.name, a.list, a.rt); rerr != nil {
			p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(rerr).Error("cannot record the failed DEL; this attachment may leak")
		}
	}
	return pluginexec.ContextError(ctx, err)
}

// oweDamaged writes an owed entry over a's damaged one before its DEL:
// libcni drops an entry it cannot read before it runs the plugins, so a
// runtime killed during the DEL would otherwise leave the attachment with
// no record, and no later teardown or GC would DEL it. The owed entry
// records the identity of the namespace the DEL goes to, so a retry after
// the path was reused leaves the new namespace alone.
func (p *Plugin) oweDamaged(ctx context.Context, a *attachment) {
	rt := *a.rt
	rt.CapabilityArgs = maps.Clone(a.rt.CapabilityArgs)
	if rt.CapabilityArgs == nil {
		rt.CapabilityArgs = map[string]any{}
	}
	if id := netnsIdentity(rt.NetNS); id != "" {
		rt.CapabilityArgs[attachstore.NetNSKey] = id
	}
	if err := p.store.Owe(a.name, a.list, &rt); err != nil {
		p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(err).
			Warn("cannot record the DEL of a damaged cache entry before it runs; a runtime killed during it would leak the attachment")
	}
}

// claimNoCache claims the cache path of a, which has no entry of its
// own, for the DEL (see attachstore.Store.Claim), or returns the entry of
// the other attachment that holds it. An attachment with an entry needs
// no claim.
func (p *Plugin) claimNoCache(a *attachment) (release func(), other *attachstore.Entry) {
	if !a.noCache {
		return func() {}, nil
	}
	return p.store.Claim(a.name, a.rt.ContainerID, a.ifname)
}

// forget removes the entry of a, whose DEL succeeded, from the store.
func (p *Plugin) forget(ctx context.Context, a *attachment) {
	if err := p.store.Remove(a.name, a.rt.ContainerID, a.ifname); err != nil {
		p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithError(err).Warn("DEL succeeded but its cache entry could not be removed")
	}
}

// checkUnvouchedNetNS checks again, under the lock of the namespace at a's
// netns path, that a DEL no record vouches for goes into no namespace
// another sandbox owns: one whose record claims it, or one whose setup is
// in flight there and may not have written its record yet. Where one does,
// the DEL gets no netns. The returned unlock is for after the plugins have
// exited. A DEL to the namespace its record names needs no lock.
func (p *Plugin) checkUnvouchedNetNS(ctx context.Context, a *attachment) (func(), error) {
	if a.rt.NetNS == "" {
		return func() {}, nil
	}
	nsid := netnsIdentity(a.rt.NetNS)
	if nsid == "" || nsid == a.nsID {
		return func() {}, nil
	}
	unlock, other, err := p.netns.lockForDel(ctx, nsid, a.rt.ContainerID)
	if err != nil {
		return nil, fmt.Errorf("waiting for setups in the namespace at %s: %w", a.rt.NetNS, err)
	}
	if other || p.store.NetNSOfOther(nsid, a.rt.ContainerID) {
		p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithField("netns", a.rt.NetNS).
			Warn("another sandbox is set up or setting up in the namespace at this netns path; DEL sent without a netns")
		a.rt.NetNS = ""
	}
	return unlock, nil
}
