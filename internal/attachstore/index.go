package attachstore

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// index maps sandbox IDs to the names of their entries. libcni names a
// file <network>-<sandbox>-<ifname>, and network names and IDs may
// themselves contain '-', so a name is filed under every stretch between
// two of its dashes: the real ID is among them. Sandbox checks every file
// it names.
//
// It knows every name on disk: the directory is listed once under a
// watch that reports every name created since (other processes write
// there too), and a lookup takes in what the watch queued before it
// answers. Where no watch can be had (no directory yet, no inotify
// instance left, not Linux) or the watch lost events, every lookup lists
// the directory instead.
//
// A listing is merged in, never put in the index's place: a name the store
// writes between the listing and the merge must not be lost, or the
// sandbox's teardown would miss that entry. A name goes only when its file
// is seen gone under mu, which every add also takes after its file is in
// place, so a drop can never undo a concurrent write.
type index struct {
	mu     sync.Mutex // guards the fields below; held for map access, listings, the watch's reads and the Lstat of a drop
	loaded bool
	watch  *watcher // nil: list on the next lookup
	closed bool     // no new watch once the store is closed
	byID   map[string]map[string]struct{}
	names  map[string]struct{}
}

func newIndex() *index {
	return &index{byID: map[string]map[string]struct{}{}, names: map[string]struct{}{}}
}

// lookup returns the file names that may belong to sandbox id.
func (x *index) lookup(dir, id string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.watch != nil && !x.watch.drain(x.addLocked) {
		x.watch.close()
		x.watch = nil
	}
	if x.watch == nil {
		// The watch starts before the listing, so a name written in
		// between is in one or the other.
		if !x.closed {
			x.watch, _ = openWatch(dir)
		}
		names, err := listDir(dir)
		if err != nil {
			return nil, err
		}
		x.loaded = true
		for _, n := range names {
			x.addLocked(n)
		}
	}
	var out []string
	for n := range x.byID[id] {
		out = append(out, n)
	}
	return out, nil
}

// close stops the watch.
func (x *index) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
	if x.watch != nil {
		x.watch.close()
		x.watch = nil
	}
}

// refresh merges a full listing of dir into the index and drops the names
// it lacks whose files are gone.
func (x *index) refresh(dir string, listed []string) {
	in := make(map[string]struct{}, len(listed))
	for _, n := range listed {
		in[n] = struct{}{}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loaded = true
	for _, n := range listed {
		x.addLocked(n)
	}
	for n := range x.names {
		if _, ok := in[n]; !ok {
			x.dropIfGoneLocked(dir, n)
		}
	}
}

// add records a file the store wrote.
func (x *index) add(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loaded {
		x.addLocked(name)
	}
}

func (x *index) addLocked(name string) {
	if _, ok := x.names[name]; ok {
		return
	}
	x.names[name] = struct{}{}
	for _, id := range candidateIDs(name) {
		m := x.byID[id]
		if m == nil {
			m = map[string]struct{}{}
			x.byID[id] = m
		}
		m[name] = struct{}{}
	}
}

// dropIfGone forgets name once its file no longer exists.
func (x *index) dropIfGone(dir, name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropIfGoneLocked(dir, name)
}

func (x *index) dropIfGoneLocked(dir, name string) {
	if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
		return
	}
	if _, ok := x.names[name]; !ok {
		return
	}
	delete(x.names, name)
	for _, id := range candidateIDs(name) {
		if m := x.byID[id]; m != nil {
			delete(m, name)
			if len(m) == 0 {
				delete(x.byID, id)
			}
		}
	}
}

// size is the number of names the index holds.
func (x *index) size() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.names)
}

// candidateIDs returns every non-empty stretch of name between two dashes
// with at least one character before the first and after the second.
func candidateIDs(name string) []string {
	var dashes []int
	for i := 1; i < len(name)-1; i++ {
		if name[i] == '-' {
			dashes = append(dashes, i)
		}
	}
	var out []string
	for a := 0; a < len(dashes); a++ {
		for b := a + 1; b < len(dashes); b++ {
			if dashes[b] > dashes[a]+1 {
				out = append(out, name[dashes[a]+1:dashes[b]])
			}
		}
	}
	return out
}
