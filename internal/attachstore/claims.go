package attachstore

import "sync"

// claims holds the entry paths that setups and cache-less DELs of this
// process are acting on, with the attachment each acts for. Two
// attachments can share a path (see Other), and their sandboxes' locks
// are different, so a check of the path on disk alone would let two
// setups that started together both write it.
type claims struct {
	mu sync.Mutex // guards by
	by map[string]*claim
}

type claim struct {
	network, id, ifname string
	n                   int
}

// Claim marks the entry path of one attachment as being acted on for it,
// unless another attachment holds it: claimed for that one, or recorded
// for it on disk (Other). It returns the other attachment's entry (only
// its names set when it is a claim), or the release of the claim.
func (s *Store) Claim(network, id, ifname string) (release func(), other *Entry) {
	name := FileName(network, id, ifname)
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	if c := s.claims.by[name]; c != nil {
		if c.network != network || c.id != id || c.ifname != ifname {
			return nil, &Entry{File: s.Path(network, id, ifname), Network: c.network, ID: c.id, Ifname: c.ifname, Order: -1}
		}
		c.n++
	} else {
		if o := s.Other(network, id, ifname); o != nil {
			return nil, o
		}
		if s.claims.by == nil {
			s.claims.by = map[string]*claim{}
		}
		s.claims.by[name] = &claim{network: network, id: id, ifname: ifname, n: 1}
	}
	return func() {
		s.claims.mu.Lock()
		defer s.claims.mu.Unlock()
		if c := s.claims.by[name]; c != nil {
			if c.n--; c.n == 0 {
				delete(s.claims.by, name)
			}
		}
	}, nil
}
