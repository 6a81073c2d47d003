package ocicni

import (
	"context"
	"errors"
	"path/filepath"
	"slices"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// errGoneWithFirstDEL stands for an ambiguous entry that the DEL under an
// earlier reading removed: the later readings' DELs run with the current
// configuration.
var errGoneWithFirstDEL = errors.New("cache entry removed by the DEL under an earlier reading of its name")

// ambiguousStale reports whether GC may DEL damaged entry e, whose name
// reads as more than one (network, sandbox, ifname): only when no reading
// names a valid sandbox, so every candidate owner is stale and no valid
// pod can lose anything to a DEL under the wrong reading. A teardown,
// which acts for one sandbox, still never DELs such an entry.
func ambiguousStale(splits []attachstore.Split, valid map[string]bool) bool {
	return len(splits) > 1 && !slices.ContainsFunc(splits, func(sp attachstore.Split) bool { return valid[sp.ID] })
}

// collectAmbiguous DELs each damaged entry that ambiguousStale lets GC
// have, under every reading of its name in turn (its owner is among them;
// a DEL under another reading frees nothing, since that attachment's
// record could only be this same file), holding the locks of all the
// candidate sandboxes. The entry goes with the first DEL (libcni drops an
// unreadable entry before the DEL runs); should a DEL fail, the owed entry
// it leaves belongs to that reading, and the next GC retries it as that
// sandbox's. It stops at the first failure, and it leaves an entry whose
// network's configuration sets disableGC.
func (p *Plugin) collectAmbiguous(ctx context.Context, set *netconf.Set, files []string) []error {
	var errs []error
	for _, file := range files {
		if ctx.Err() != nil {
			break
		}
		if err := p.collectAmbiguousOne(ctx, set, filepath.Base(file)); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (p *Plugin) collectAmbiguousOne(ctx context.Context, set *netconf.Set, name string) error {
	splits := attachstore.Splits(name, namesOf(set))
	var ids []string
	for _, sp := range splits {
		if !slices.Contains(ids, sp.ID) {
			ids = append(ids, sp.ID)
		}
	}
	// One order for every multi-sandbox lock taker, so two never wait on
	// each other; GC handles these one at a time anyway.
	slices.Sort(ids)
	for _, id := range ids {
		unlock, err := p.lockPod(ctx, id)
		if err != nil {
			return err
		}
		defer unlock()
	}
	log := p.opts.logger.WithFields(logrus.Fields{"cache_file": filepath.Join(p.store.Dir(), name), "readings": len(splits)})
	for i, sp := range splits {
		n := set.Lookup(sp.Network)
		if n == nil || n.List.DisableGC {
			return nil
		}
		// Under the locks, the entry is still what GC listed: damaged,
		// or gone after an earlier reading's DEL. Anything else (a setup
		// of one of the candidates wrote it since, a failed DEL left an
		// owed entry) is no longer this GC's to DEL.
		e := p.store.Reread(name)
		if e != nil && e.Err == nil {
			return nil
		}
		if e == nil {
			e = &attachstore.Entry{File: filepath.Join(p.store.Dir(), name), Order: -1, Err: errGoneWithFirstDEL}
		}
		e.Network, e.ID, e.Ifname = sp.Network, sp.ID, sp.Ifname
		if i == 0 {
			log.Warn("GC: a corrupt cache file's name reads as several sandboxes', none of them valid; DELing it under each reading")
		}
		pod := &PodNetwork{ID: sp.ID}
		a := p.fromCache(log, set, pod, e, 0)
		if err := p.forEachNetwork(pluginexec.WithBackground(ctx), pod, stepGC, []*attachment{a}, reverseKeepGoing, p.del); err != nil {
			return err
		}
	}
	return nil
}
