package netconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher reloads the configuration when the conf dir, a plugin dir, or the
// directory of a symlinked configuration's target changes, or when any of
// them is created, removed, renamed or re-pointed (seen through the
// parent's watch, or the nearest existing ancestor's while it is missing).
// If the inotify watcher errors it is rebuilt; if inotify cannot be had, or
// a directory that matters cannot be watched, the watcher polls the
// directories' fingerprint instead.
//
// An event reloads at once when no reload is running. The reload runs on a
// goroutine of its own, so the run goroutine keeps taking events meanwhile;
// whatever arrives during it sets dirty, and all of it is folded into one
// follow-up reload as soon as that reload ends. There is no quiet window to
// wait out: a change is never delayed by more than the reload in progress.
type watcher struct {
	s       *Source
	polling atomic.Bool // set once inotify proved unavailable
	stopCh  chan struct{}
	wg      sync.WaitGroup // the run goroutine and the reload in flight
	reloads atomic.Int64   // reloads done, with watches synced after, for Stats
	events  atomic.Int64   // relevant events received, for Stats
	done    chan struct{}  // the reload in flight ended; capacity 1

	// Owned by the run goroutine.
	fsw     *fsnotify.Watcher
	watched map[string]uint64 // dir -> inode when added
	wanted  map[string]bool   // dirs whose every event matters
	paths   []string          // dirs whose ancestors' events matter
	busy    bool              // a reload is in flight
	dirty   bool              // an event arrived while it was
	resyncs int               // reloads in a row asked for by added watches
	settle  *time.Timer       // re-reads files kept while they settle
}

func newWatcher(s *Source) *watcher {
	return &watcher{s: s, stopCh: make(chan struct{}), done: make(chan struct{}, 1)}
}

func (w *watcher) start() {
	w.wg.Add(1)
	go w.run()
}

// stop ends the run goroutine and waits for it and for the reload in
// flight, which the Source's cancelled life cuts short.
func (w *watcher) stop() {
	close(w.stopCh)
	w.wg.Wait()
}

func (w *watcher) run() {
	defer w.wg.Done()
	w.settle = time.NewTimer(time.Hour)
	w.settle.Stop()
	defer w.settle.Stop()
	defer func() {
		if w.fsw != nil {
			w.fsw.Close()
		}
	}()
	if err := w.arm(); err != nil {
		w.poll(err)
		return
	}
	for {
		select {
		case <-w.stopCh:
			return
		case <-w.done:
			err := w.reloaded()
			if errors.Is(err, fsnotify.ErrClosed) {
				// The watcher failed while the reload ran, before its
				// channels said so: re-arm as for any other failure,
				// rather than take it for a directory that cannot be
				// watched.
				err = w.rearm(err)
			}
			if err != nil {
				w.poll(err)
				return
			}
		case <-w.settle.C:
			w.kick()
		case ev, ok := <-w.fsw.Events:
			if !ok {
				if err := w.rearm(errors.New("event channel closed")); err != nil {
					w.poll(err)
					return
				}
				continue
			}
			if w.relevant(ev) {
				w.events.Add(1)
				w.forget(ev)
				w.kick()
			}
		case err, ok := <-w.fsw.Errors:
			if ok && errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost but the watches stand: one reload
				// catches up with whatever happened.
				w.s.log.WithError(err).Warn("inotify queue overflowed; reloading CNI configuration")
				w.kick()
				continue
			}
			if !ok {
				err = errors.New("error channel closed")
			}
			if rerr := w.rearm(err); rerr != nil {
				w.poll(rerr)
				return
			}
		}
	}
}

// arm creates the inotify watcher and reloads; the watches are set up when
// that reload ends, and since files may have landed before they existed,
// another reload follows.
func (w *watcher) arm() error {
	fsw, err := w.s.cfg.newFSWatcher()
	if err != nil {
		return err
	}
	w.fsw = fsw
	w.watched = map[string]uint64{}
	w.kick()
	return nil
}

// rearm replaces a failed inotify watcher; a change that happened while it
// was down is caught by the reload that follows.
func (w *watcher) rearm(cause error) error {
	w.s.log.WithError(cause).Warn("CNI config watcher failed; re-establishing it")
	w.fsw.Close()
	w.fsw = nil
	return w.arm()
}

// poll is the fallback when inotify is unavailable (instances or watches
// exhausted): it checks the directories' fingerprint every interval.
// Operations check it too, so they never act on stale configuration.
func (w *watcher) poll(cause error) {
	if w.fsw != nil {
		w.fsw.Close()
		w.fsw = nil
	}
	w.polling.Store(true)
	w.s.log.WithError(cause).Warnf("cannot watch CNI directories with inotify; polling them every %s instead", w.s.cfg.PollInterval)
	t := time.NewTicker(w.s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stopCh:
			return
		case <-t.C:
			_, _ = w.s.Current(w.s.life)
		}
	}
}

// forget drops the watch of a watched directory that ev says was removed
// or renamed away, so that the next sync watches whatever takes its place.
// The inode number alone cannot tell: a directory created in its place may
// get the same one, and the watch would silently follow nothing.
func (w *watcher) forget(ev fsnotify.Event) {
	if !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
		return
	}
	if _, ok := w.watched[ev.Name]; ok {
		_ = w.fsw.Remove(ev.Name)
		delete(w.watched, ev.Name)
	}
}

// kick starts a reload, or, while one is in flight, marks that another
// must follow it.
func (w *watcher) kick() {
	if w.busy {
		w.dirty = true
		return
	}
	w.busy, w.dirty = true, false
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.s.reload(w.s.life)
		w.done <- struct{}{}
	}()
}

// reloaded makes the watches match what the reloaded configuration needs,
// then starts the follow-up reload if one is due: because events arrived
// meanwhile, or because a watch was added (a directory appeared) and files
// may have landed in it before the watch existed. It fails only when a
// directory exists but cannot be watched.
func (w *watcher) reloaded() error {
	w.busy = false
	added, err := w.sync()
	w.reloads.Add(1)
	if err != nil {
		return err
	}
	w.armSettle()
	switch {
	case added && w.resyncs < 3:
		w.resyncs++
		w.kick()
	case w.dirty:
		w.resyncs = 0
		w.kick()
	default:
		w.resyncs = 0
	}
	return nil
}

// armSettle schedules a reload for when the files the last reload kept
// while they settle are to be read again, or cancels it when none are kept.
func (w *watcher) armSettle() {
	at := w.s.settleAt.Load()
	if at == 0 {
		w.settle.Stop()
		return
	}
	w.settle.Reset(time.Until(time.Unix(0, at)))
}

// sync computes the directories to watch and adds or removes watches.
//
// Every directory is watched by its canonical path (symlinks resolved), so
// two names for one directory (a ConfigMap's "..data" and the generation it
// points at) share one watch: fsnotify drops both names when either is
// removed. Each directory's parent is watched too, so re-pointing a
// symlinked directory, or renaming another one into its place, is seen.
func (w *watcher) sync() (bool, error) {
	cfg := w.s.cfg
	w.wanted = map[string]bool{}
	w.paths = nil
	want := map[string]bool{}
	dirs := append([]string{cfg.ConfDir}, cfg.BinDirs...)
	dirs = append(dirs, symlinkTargetDirs(cfg.ConfDir)...)
	for _, d := range dirs {
		d = filepath.Clean(d)
		if path, watchDir, ok := resolveDir(d); ok {
			want[watchDir] = true
			w.wanted[path] = true
			w.paths = append(w.paths, path)
		}
		if parent, watchDir, ok := resolveDir(filepath.Dir(d)); ok {
			want[watchDir] = true
			w.paths = append(w.paths, filepath.Join(parent, filepath.Base(d)))
		}
	}

	added := false
	for d, ino := range w.watched {
		fi, err := os.Stat(d)
		cur, _ := inodeOf(fi, err)
		if !want[d] || cur != ino {
			_ = w.fsw.Remove(d)
			delete(w.watched, d)
		}
	}
	for d := range want {
		if _, ok := w.watched[d]; ok {
			continue
		}
		fi, err := os.Stat(d)
		ino, ok := inodeOf(fi, err)
		if !ok {
			continue
		}
		if err := w.fsw.Add(d); err != nil {
			if fi, serr := os.Stat(d); serr != nil || !fi.IsDir() {
				// It went away after the Stat above: another pass
				// watches whatever is there now.
				added = true
				continue
			}
			return added, err
		}
		w.watched[d] = ino
		added = true
	}
	return added, nil
}

// resolveDir returns d with symlinks resolved as far as it exists, and the
// nearest existing directory on the way to it (d itself when it exists),
// which is what must be watched to see d change or appear.
func resolveDir(d string) (path, watchDir string, ok bool) {
	for cur := d; ; cur = filepath.Dir(cur) {
		if fi, err := os.Stat(cur); err == nil && fi.IsDir() {
			real, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return "", "", false
			}
			rest, _ := filepath.Rel(cur, d)
			return filepath.Join(real, rest), real, true
		}
		if cur == filepath.Dir(cur) {
			return "", "", false
		}
	}
}

func inodeOf(fi os.FileInfo, err error) (uint64, bool) {
	if err != nil || !fi.IsDir() {
		return 0, false
	}
	ino, _ := inodeAndCtime(fi)
	return ino, true
}

// relevant reports whether an event can change the configuration: anything
// in a watched directory of interest, or, in an ancestor, something on the
// way to one (the conf dir being created, removed or renamed).
func (w *watcher) relevant(ev fsnotify.Event) bool {
	if w.wanted[filepath.Dir(ev.Name)] || w.wanted[ev.Name] {
		return true
	}
	for _, p := range w.paths {
		if p == ev.Name || strings.HasPrefix(p, ev.Name+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// symlinkTargetDirs returns the directories holding the targets of
// symlinked configuration files, so a change to a target outside the conf
// dir is seen too.
func symlinkTargetDirs(confDir string) []string {
	entries, err := os.ReadDir(confDir)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		p := filepath.Join(confDir, e.Name())
		if t, err := os.Readlink(p); err == nil {
			if !filepath.IsAbs(t) {
				t = filepath.Join(confDir, t)
			}
			dirs = append(dirs, filepath.Dir(t))
		}
		if t, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(t))
		}
	}
	return dirs
}
