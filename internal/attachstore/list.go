package attachstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sandbox returns the entries of sandbox id sorted by attach order,
// damaged ones included where their file name says beyond doubt that they
// are id's (see Hints). It reads only the files the index names for the
// sandbox, entries other processes wrote included, so its cost does not
// grow with the other sandboxes' entries.
func (s *Store) Sandbox(id string, h Hints) ([]*Entry, error) {
	names, err := s.index.lookup(s.dir, id)
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", s.dir, err)
	}
	var out []*Entry
	for _, name := range names {
		if !mayBelong(name, id) {
			continue
		}
		e := parseFile(filepath.Join(s.dir, name))
		s.noteEntry(e)
		switch {
		case e == nil:
			s.index.dropIfGone(s.dir, name)
		case e.Err == nil && e.ID == id, e.Err != nil && s.attribute(e, id, h):
			out = append(out, e)
		}
	}
	sortByOrder(out)
	return out, nil
}

// mayBelong reports whether name has id between two dashes.
func mayBelong(name, id string) bool {
	i := strings.Index(name, "-"+id+"-")
	return i > 0 && i+len(id)+2 < len(name)
}

// All returns every entry, damaged ones included, sorted by sandbox and
// attach order. Damaged entries have no names; see Splits.
func (s *Store) All() ([]*Entry, error) {
	names, err := s.list()
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, name := range names {
		if e := parseFile(filepath.Join(s.dir, name)); e != nil {
			s.noteEntry(e)
			out = append(out, e)
		}
	}
	sortByOrder(out)
	return out, nil
}

// list lists the directory and merges the listing into the index.
func (s *Store) list() ([]string, error) {
	names, err := listDir(s.dir)
	if err != nil {
		return nil, err
	}
	s.index.refresh(s.dir, names)
	return names, nil
}

// Rescan returns every entry, reusing the entries of prev whose files are
// still there rather than reading them again: what GC needs after its
// stale DELs, when most entries have not changed.
func (s *Store) Rescan(prev []*Entry) ([]*Entry, error) {
	names, err := s.list()
	if err != nil {
		return nil, err
	}
	known := make(map[string]*Entry, len(prev))
	for _, e := range prev {
		known[filepath.Base(e.File)] = e
	}
	out := make([]*Entry, 0, len(names))
	for _, name := range names {
		e := known[name]
		if e == nil {
			e = parseFile(filepath.Join(s.dir, name))
			s.noteEntry(e)
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// listDir lists the entries of the results directory, leaving out the
// temporary files of writeDurably. A missing directory holds nothing.
func listDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
	}
	defer f.Close()
	all, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
	}
	names := all[:0]
	for _, n := range all {
		if !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	return names, nil
}

// sortByOrder orders entries by sandbox and then by the order recorded at
// ADD; entries without one (written by other runtimes, or damaged) go
// last, by name.
func sortByOrder(es []*Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if (a.Order < 0) != (b.Order < 0) {
			return a.Order >= 0
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.File < b.File
	})
}
