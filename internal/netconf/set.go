package netconf

import (
	"crypto/sha256"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/types"
)

// Network is one loaded, validated network configuration list. It is
// immutable once loaded.
type Network struct {
	Name  string
	File  string
	List  *libcni.NetworkConfigList
	Types []string // plugin types in chain order

	// key is what the file and its plugin binaries hashed to when it
	// was loaded, so a load that keeps the network signs it the same.
	key [sha256.Size]byte
}

// Set is an immutable snapshot of the loaded configuration. A reload
// builds a new one and swaps a pointer; an operation reads the pointer once
// and uses that snapshot to the end, so no lock is needed to read it.
type Set struct {
	byName  map[string]*Network
	Ordered []*Network // in file order
	Default *Network   // nil when there is no default network
	Skipped []types.SkippedFile
	// skippedNets holds, for each network name some file parsed to but
	// failed validation, why the first such file was skipped. It may name
	// a network another file loads; it is consulted only after byName.
	skippedNets map[string]error

	ConfDir     string
	BinDirs     []string
	WantDefault string // the name asked for as the default, if any
	DirErr      error  // why the conf dir could not be listed, if it could not

	// signature identifies what the snapshot holds; a reload that finds the
	// same signature keeps the old snapshot, so waiters are not woken for
	// nothing.
	signature string
	changed   chan struct{}
	// settleAt is when the files this load kept at their last valid
	// version, while they settle, are to be read again; zero when none.
	settleAt time.Time
	// pending is when the files this load skipped in what may be the middle
	// of a write, and that may decide the default network, settle; zero
	// when none. Open holds its first snapshot back until then.
	pending time.Time
}

// Key identifies what the network was loaded from: its file's bytes and
// its plugin binaries. Two loads that find neither changed give the same
// key.
func (n *Network) Key() [sha256.Size]byte { return n.key }

// Lookup returns the loaded network called name, or nil.
func (s *Set) Lookup(name string) *Network {
	return s.byName[name]
}

// lookup is Lookup on a snapshot that may be nil (before the first load).
func (s *Set) lookup(name string) *Network {
	if s == nil {
		return nil
	}
	return s.byName[name]
}

// byFile returns the loaded network defined by file, or nil.
func (s *Set) byFile(file string) *Network {
	for _, n := range s.Ordered {
		if n.File == file {
			return n
		}
	}
	return nil
}

// skipped reports whether file was skipped.
func (s *Set) skipped(file string) bool {
	for _, sk := range s.Skipped {
		if sk.File == file {
			return true
		}
	}
	return false
}

// SkipReason says why a file that defines network name was skipped, or
// returns nil when no skipped file names it.
func (s *Set) SkipReason(name string) error {
	return s.skippedNets[name]
}

// Changed is closed when a newer snapshot replaces this one.
func (s *Set) Changed() <-chan struct{} {
	return s.changed
}

// Info returns the public view of the snapshot.
func (s *Set) Info() types.NetworkSet {
	out := types.NetworkSet{ConfDir: s.ConfDir, Skipped: append([]types.SkippedFile{}, s.Skipped...), Networks: []types.NetworkInfo{}, Changed: s.changed}
	if s.Default != nil {
		out.Default = s.Default.Name
	}
	for _, n := range s.Ordered {
		out.Networks = append(out.Networks, types.NetworkInfo{
			Name:         n.Name,
			File:         n.File,
			CNIVersion:   n.List.CNIVersion,
			PluginTypes:  append([]string(nil), n.Types...),
			Default:      n == s.Default,
			DisableCheck: n.List.DisableCheck,
			DisableGC:    n.List.DisableGC,
		})
	}
	return out
}
