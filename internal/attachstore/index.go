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
// two of its dashes: the real ID is among them. It is a hint: Sandbox
// checks every file it names, drops names whose file is gone, and lists
// the directory when it knows nothing of a sandbox.
type index struct {
	mu     sync.Mutex // guards the fields below; held for map access and the first listing only
	loaded bool
	byID   map[string]map[string]struct{}
}

func newIndex() *index {
	return &index{byID: map[string]map[string]struct{}{}}
}

// lookup returns the file names that may belong to sandbox id, listing dir
// on first use.
func (x *index) lookup(dir, id string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.loaded {
		names, err := listDir(dir)
		if err != nil {
			return nil, err
		}
		x.fillLocked(names)
	}
	var out []string
	for n := range x.byID[id] {
		out = append(out, n)
	}
	return out, nil
}

// reset replaces the index with a full listing of the directory.
func (x *index) reset(names []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byID = map[string]map[string]struct{}{}
	x.fillLocked(names)
}

func (x *index) fillLocked(names []string) {
	x.loaded = true
	for _, n := range names {
		x.addLocked(n)
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
	if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range candidateIDs(name) {
		if m := x.byID[id]; m != nil {
			delete(m, name)
			if len(m) == 0 {
				delete(x.byID, id)
			}
		}
	}
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
