// Package netconf turns the CNI conf dir and plugin dirs into a stream of
// immutable configuration snapshots: it reads and validates the files
// (remembering VERSION answers per plugin binary), fingerprints the
// directories, watches or polls them, and swaps in a new snapshot when
// anything changed. It owns its lock, its goroutine and its shutdown, and
// knows nothing of pods.
package netconf

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/types"
)

// Config says where the configuration lives and how to follow it.
type Config struct {
	ConfDir        string
	BinDirs        []string
	DefaultNetwork string // "" means the first valid file in byte order
	Watch          bool   // watch with inotify (polling when it fails)
	PollInterval   time.Duration
	Log            logrus.FieldLogger
	// Exec runs the VERSION execs that validate plugins.
	Exec invoke.Exec
	// newFSWatcher creates the inotify watcher; nil means fsnotify's.
	// Tests set it to reach the watcher under the event loop.
	newFSWatcher func() (*fsnotify.Watcher, error)
	// awaiting, when set, is called each time Open waits for a file being
	// written; tests use it to finish the write.
	awaiting func()
}

// Source is the configuration as a stream of snapshots.
//
// Locking rule. The current snapshot sits behind an atomic pointer and is
// never modified, so readers take no lock. A reload builds the next
// snapshot off to the side while holding reloadSlot, a one-token channel
// that only reloads take (a channel rather than a mutex so that a caller
// can stop waiting for another's reload when its context ends); reloadSlot
// is held across the VERSION execs of new plugin binaries, which are
// bounded by the runner's VERSION timeout and by Close. The watcher runs its reloads on
// a goroutine of their own, one at a time, so that it keeps taking events
// while one holds reloadSlot. lastScan and settleAt are written by the
// reload holding reloadSlot and read without it. No lock of this package is
// held while a pod's plugin runs.
type Source struct {
	cfg     Config
	log     logrus.FieldLogger
	loader  *loader
	current atomic.Pointer[Set]

	reloadSlot chan struct{}
	lastScan   atomic.Value // the fingerprint the current snapshot was loaded at
	// settleAt is when the files the last load kept while they settle
	// are to be read again (Unix nanoseconds), 0 when it kept none.
	settleAt atomic.Int64
	changes  atomic.Int64 // snapshots swapped in after the first; tests read it

	// life is cancelled by Close. Reloads run on it rather than on a
	// caller's context: a caller giving up must not make a plugin's
	// VERSION look failed, while Close must not wait out a slow one.
	life      context.Context
	endLife   context.CancelFunc
	watch     *watcher
	closeOnce sync.Once
}

// Stats counts what the Source has done, for the face's metrics.
type Stats struct {
	// Reloads is the number of watcher-driven reloads so far.
	Reloads int64
	// VersionExecs is the number of VERSION execs so far.
	VersionExecs int64
}

// Open loads the configuration once and, when cfg.Watch is set, starts
// following the directories. It never fails: what is wrong is recorded in
// the snapshot.
func Open(cfg Config) *Source {
	if cfg.newFSWatcher == nil {
		cfg.newFSWatcher = fsnotify.NewWatcher
	}
	if cfg.Log == nil {
		cfg.Log = logrus.New()
	}
	s := &Source{
		cfg:        cfg,
		log:        cfg.Log,
		reloadSlot: make(chan struct{}, 1),
		loader: &loader{
			confDir: cfg.ConfDir, binDirs: cfg.BinDirs, wantDefault: cfg.DefaultNetwork,
			exec: cfg.Exec, cache: newValidCache(), log: cfg.Log,
		},
	}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.reload(s.life)
	s.awaitWrites()
	if cfg.Watch {
		s.watch = newWatcher(s)
		s.watch.start()
	}
	return s
}

// writeRetry is how often Open reads again a file that was in the middle
// of a write when it started.
const writeRetry = 5 * time.Millisecond

// awaitWrites holds the first snapshot back, for at most settleWindow,
// while a file that may decide the default network looks half-written (see
// pendingAhead). A later load keeps a file's last good network while it is
// rewritten in place, but the first load has none to keep: without this, a
// runtime starting while a provider rewrites its file in place would pick
// the next file's network as the default, set pods up on it and report its
// STATUS, until the next reload.
func (s *Source) awaitWrites() {
	deadline := time.Now().Add(settleWindow)
	for {
		until := s.current.Load().pending
		if until.IsZero() || !time.Now().Before(until) || !time.Now().Before(deadline) {
			return
		}
		if s.cfg.awaiting != nil {
			s.cfg.awaiting()
		}
		t := time.NewTimer(min(writeRetry, time.Until(until), time.Until(deadline)))
		<-t.C
		s.reload(s.life)
	}
}

// Close stops the watcher and waits for its goroutine; a reload in
// progress is abandoned. Current keeps returning the last snapshot, with
// an error matching types.ErrShutdown. Close may be called more than once.
func (s *Source) Close() {
	s.closeOnce.Do(func() {
		s.endLife()
		if s.watch != nil {
			s.watch.stop()
		}
	})
}

// Done is closed once Close has been called.
func (s *Source) Done() <-chan struct{} { return s.life.Done() }

// Stats returns the counters so far.
func (s *Source) Stats() Stats {
	st := Stats{VersionExecs: s.loader.cache.versionExecs.Load()}
	if s.watch != nil {
		st.Reloads = s.watch.reloads.Load()
	}
	return st
}

// Current returns the current snapshot. When nothing watches the
// directories (watching off, or fallen back to polling) it first reloads if
// their fingerprint changed, so a change is never missed; that check costs
// a few stat calls. A reload may exec VERSION for a new binary, so waiting
// for one another caller started ends with ctx, returning ctx's error with
// the snapshot as it was. After Close it no longer reloads, and returns
// the last snapshot with an error matching types.ErrShutdown, so an
// operation that needs the configuration fails and one that only reports
// it can go on.
func (s *Source) Current(ctx context.Context) (*Set, error) {
	if s.life.Err() != nil {
		return s.current.Load(), types.ErrShutdown
	}
	if s.checksDirs() && s.life.Err() == nil && !s.scanUnchanged() {
		select {
		case s.reloadSlot <- struct{}{}:
			if !s.scanUnchanged() {
				s.reloadLocked(s.life)
			}
			<-s.reloadSlot
		case <-ctx.Done():
			return s.current.Load(), fmt.Errorf("waiting for a CNI configuration reload: %w", ctx.Err())
		}
	}
	return s.current.Load(), nil
}

// checksDirs reports whether callers must check the directories
// themselves, because no inotify watch follows them.
func (s *Source) checksDirs() bool {
	return s.watch == nil || s.watch.polling.Load()
}

// reload loads the configuration and swaps it in if anything changed.
// Callers pass s.life, never an operation's context: see Source.life.
func (s *Source) reload(ctx context.Context) {
	s.reloadSlot <- struct{}{}
	defer func() { <-s.reloadSlot }()
	s.reloadLocked(ctx)
}

// reloadLocked throws away a load whose context ended: its VERSION execs
// were killed, so it would mark good networks invalid, and after Close
// the last configuration is meant to stay.
func (s *Source) reloadLocked(ctx context.Context) {
	// Only callers that check the directories themselves use the
	// fingerprint; while inotify watches, taking it would stat every file
	// of the directories again for nothing.
	scan, racy := "", false
	if s.checksDirs() {
		scan, racy = s.scanDirs()
	}
	set := s.loader.load(ctx, s.current.Load())
	if ctx.Err() != nil {
		return
	}
	var settleAt int64
	if !set.settleAt.IsZero() {
		settleAt = set.settleAt.UnixNano()
	}
	s.settleAt.Store(settleAt)
	if racy || settleAt != 0 {
		// A file changed so recently that a further change may not show
		// in the fingerprint, or a file was kept at its last valid version
		// until it settles: have the next caller load again.
		scan = ""
	}
	s.lastScan.Store(scan)
	old := s.current.Load()
	if old != nil && old.signature == set.signature {
		return
	}
	s.current.Store(set)
	if old != nil {
		s.changes.Add(1)
		close(old.changed)
	}
	s.logLoad(old, set)
}

// scanUnchanged reports whether the directories' fingerprint still matches
// the one taken for the last load.
func (s *Source) scanUnchanged() bool {
	last, _ := s.lastScan.Load().(string)
	fp, _ := s.scanDirs()
	return last != "" && last == fp
}

func (s *Source) logLoad(old, set *Set) {
	for _, sk := range set.Skipped {
		s.log.WithFields(logrus.Fields{"file": sk.File, "reason": sk.Reason}).Warn("skipping CNI configuration file")
	}
	name := ""
	if set.Default != nil {
		name = set.Default.Name
	}
	oldName := ""
	if old != nil && old.Default != nil {
		oldName = old.Default.Name
	}
	// The lines cri-o/ocicni writes at load, word for word, for operators'
	// greps; only for networks new or changed, since a reload here is not
	// a rare event.
	for _, n := range set.Ordered {
		if prev := old.lookup(n.Name); (prev == nil || prev.key != n.key || prev.File != n.File) && len(n.Types) > 0 {
			s.log.WithFields(logrus.Fields{"network": n.Name, "file": n.File, "plugins": n.Types}).
				Infof("Found CNI network %s (type=%s) at %s", n.Name, n.Types[0], n.File)
		}
	}
	if name != "" && (old == nil || oldName != name) {
		s.log.WithField("default_network", name).Infof("Updated default CNI network name to %s", name)
	}
	l := s.log.WithFields(logrus.Fields{"conf_dir": set.ConfDir, "networks": len(set.Ordered), "skipped": len(set.Skipped), "default_network": name})
	if old == nil || oldName != name {
		l.Info("CNI configuration loaded; default network changed")
		return
	}
	l.Info("CNI configuration reloaded")
}

// settled reports whether no entry of the directories changed so recently
// that its stamp cannot be trusted to show a further change, and no file
// is kept at its last valid version while it settles; until then a caller
// checking the fingerprint reloads whatever it says.
func (s *Source) settled() bool {
	_, racy := s.scanDirs()
	return !racy && time.Now().UnixNano() >= s.settleAt.Load()
}
