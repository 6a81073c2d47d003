package attachstore

import (
	"path/filepath"
	"strings"
)

// Split is one way an entry's file name reads as
// <network>-<sandbox>-<ifname>.
type Split struct {
	Network, ID, Ifname string
}

// Splits returns every way name reads as <network>-<id>-<ifname> with the
// network among networks, a non-empty ID and a valid interface name.
// Network names and IDs may contain '-', so there may be several: a
// damaged entry, whose content cannot say, is then ambiguous.
func Splits(name string, networks []string) []Split {
	var out []Split
	for _, n := range networks {
		rest, ok := strings.CutPrefix(name, n+"-")
		if !ok {
			continue
		}
		for i := 1; i < len(rest)-1; i++ {
			if rest[i] == '-' && validIfname(rest[i+1:]) {
				out = append(out, Split{Network: n, ID: rest[:i], Ifname: rest[i+1:]})
			}
		}
	}
	return out
}

// validIfname reports whether s may be a Linux interface name, as the CNI
// spec and the kernel allow them.
func validIfname(s string) bool {
	return s != "" && len(s) < 16 && s != "." && s != ".." && !strings.ContainsAny(s, "/: \t\n")
}

// Hints tell whose a damaged entry is from its file name.
type Hints struct {
	// Networks are the names its file name may start with.
	Networks []string
	// Live, where set, reports the sandboxes known to be running: a
	// damaged entry whose name may be theirs is never another's.
	Live func(id string) bool
	// Unique asks for a file name that reads one way only.
	Unique bool
}

// attribute fills in a damaged entry of sandbox id from its file name and
// reports whether the name belongs to id beyond doubt: exactly one of its
// splits names id, and no other split names a sandbox known to exist, a
// live one or one with a usable entry of its own; id, whose caller acts on
// it, is then the only one that does. With h.Unique there must be no other
// split at all.
// A damaged entry of another pod must never get this sandbox's DEL: libcni
// removes the unreadable file before running it, and that pod would then
// keep no entry at all.
func (s *Store) attribute(e *Entry, id string, h Hints) bool {
	// The arguments kept at ADD say whose it is, whatever its name reads.
	if r := e.recorded; r != nil {
		if r.ID != id {
			return false
		}
		e.Network, e.ID, e.Ifname = r.Network, r.ID, r.Ifname
		return true
	}
	name := filepath.Base(e.File)
	var mine *Split
	splits := Splits(name, h.Networks)
	if h.Unique && len(splits) != 1 {
		return false
	}
	for i, sp := range splits {
		if sp.ID != id {
			continue
		}
		if mine != nil {
			return false
		}
		mine = &splits[i]
	}
	if mine == nil {
		return false
	}
	for _, sp := range splits {
		if sp.ID != id && ((h.Live != nil && h.Live(sp.ID)) || s.claimed(sp.ID, name)) {
			return false
		}
	}
	e.Network, e.ID, e.Ifname = mine.Network, mine.ID, mine.Ifname
	return true
}

// claimed reports whether sandbox id has a usable entry other than the
// file but.
func (s *Store) claimed(id, but string) bool {
	names, err := s.index.lookup(s.dir, id)
	if err != nil {
		return true
	}
	for _, n := range names {
		if n == but {
			continue
		}
		if e := parseFile(filepath.Join(s.dir, n)); e != nil && e.Err == nil && e.ID == id {
			return true
		}
	}
	return false
}
