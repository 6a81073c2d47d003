package attachstore

import (
	"path/filepath"
	"sync"
)

// owners maps the network namespace identities entries record (NetNSKey)
// to the names of those entries, so a teardown that has no identity of its
// own to go by can tell that the namespace at a path is another sandbox's.
// It is a hint, like the index: every name it gives is read again.
type owners struct {
	mu     sync.Mutex // guards the fields below
	loaded bool       // every entry on disk has been read once
	byNS   map[string]map[string]struct{}
	byName map[string]string
}

func newOwners() *owners {
	return &owners{byNS: map[string]map[string]struct{}{}, byName: map[string]string{}}
}

// note records that entry name records nsid ("" forgets the name).
func (o *owners) note(name, nsid string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.byName[name]; ok {
		if old == nsid {
			return
		}
		o.forgetLocked(name, old)
	}
	if nsid == "" {
		return
	}
	o.byName[name] = nsid
	m := o.byNS[nsid]
	if m == nil {
		m = map[string]struct{}{}
		o.byNS[nsid] = m
	}
	m[name] = struct{}{}
}

func (o *owners) forget(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.byName[name]; ok {
		o.forgetLocked(name, old)
	}
}

func (o *owners) forgetLocked(name, nsid string) {
	delete(o.byName, name)
	if m := o.byNS[nsid]; m != nil {
		delete(m, name)
		if len(m) == 0 {
			delete(o.byNS, nsid)
		}
	}
}

func (o *owners) lookup(nsid string) (names []string, loaded bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for n := range o.byNS[nsid] {
		names = append(names, n)
	}
	return names, o.loaded
}

func (o *owners) setLoaded() {
	o.mu.Lock()
	o.loaded = true
	o.mu.Unlock()
}

// noteEntry records what a usable entry says of its namespace.
func (s *Store) noteEntry(e *Entry) {
	if e != nil && e.Err == nil {
		s.owners.note(filepath.Base(e.File), e.NetNSID)
	}
}

// NetNSOfOther reports whether an entry of a sandbox other than id records
// the network namespace whose identity is nsid: a path that leads there
// now belongs to that sandbox, and a DEL for id must not go to it. The
// first call reads every entry once; entries written since are known as
// they are written or read.
func (s *Store) NetNSOfOther(nsid, id string) bool {
	if nsid == "" {
		return false
	}
	names, loaded := s.owners.lookup(nsid)
	if !loaded {
		if _, err := s.All(); err != nil {
			return false
		}
		s.owners.setLoaded()
		names, _ = s.owners.lookup(nsid)
	}
	for _, name := range names {
		e := parseFile(filepath.Join(s.dir, name))
		if e == nil || e.Err != nil || e.NetNSID != nsid {
			s.owners.forget(name)
			continue
		}
		if e.ID != id {
			return true
		}
	}
	return false
}
