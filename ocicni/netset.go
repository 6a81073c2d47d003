package ocicni

import (
	"github.com/containernetworking/cni/libcni"
)

// network is one loaded, validated network configuration list.
type network struct {
	name  string
	file  string
	list  *libcni.NetworkConfigList
	types []string // plugin types in chain order
}

// netSet is an immutable snapshot of the loaded configuration. A reload
// builds a new one and swaps a pointer; operations read the pointer once and
// use that snapshot to the end, so no lock is needed to read it.
type netSet struct {
	byName  map[string]*network
	ordered []*network // in file order
	def     *network   // nil when there is no default network
	skipped []SkippedFile
	// skippedNets holds, for each network name some file parsed to but
	// failed validation, why the first such file was skipped. It may name
	// a network another file loads; it is consulted only after byName.
	skippedNets map[string]error

	confDir     string
	binDirs     []string
	wantDefault string // the name asked for with WithDefaultNetwork, if any
	dirErr      error  // why the conf dir could not be listed, if it could not

	// signature identifies what the snapshot holds; a reload that finds the
	// same signature keeps the old snapshot, so watchers are not woken for
	// nothing.
	signature string
	// changed is closed when a newer snapshot replaces this one.
	changed chan struct{}
}

func (s *netSet) lookup(name string) *network {
	return s.byName[name]
}

// NetworkInfo describes one loaded network.
type NetworkInfo struct {
	// Name is the network name.
	Name string
	// File is the configuration file it was loaded from.
	File string
	// CNIVersion is the negotiated spec version used with its plugins.
	CNIVersion string
	// PluginTypes lists the plugin types of the chain, in order.
	PluginTypes []string
	// Default reports whether this is the default network.
	Default bool
	// DisableCheck and DisableGC echo the configuration's flags.
	DisableCheck, DisableGC bool
}

// SkippedFile names a configuration file that was not loaded, and why.
type SkippedFile struct {
	// File is the path of the file.
	File string
	// Reason says what is wrong with it, in words an operator can act on.
	Reason string
}

// NetworkSet is a point-in-time view of the loaded configuration.
type NetworkSet struct {
	// ConfDir is the directory the configuration was loaded from.
	ConfDir string
	// Default is the default network name, or "" when there is none.
	Default string
	// Networks lists the loaded networks in file order.
	Networks []NetworkInfo
	// Skipped lists every file that was not loaded, with the reason.
	Skipped []SkippedFile
	// Changed is closed as soon as a reload replaces this view with a
	// different one: a network, the default, or a skipped file's reason
	// changed. A reload that finds the same configuration leaves it open.
	// While watching (or polling) reloads follow the directories on their
	// own; with watching off they happen only when an operation (Networks
	// included) finds the directories changed.
	Changed <-chan struct{}
}

func (s *netSet) info() NetworkSet {
	out := NetworkSet{ConfDir: s.confDir, Skipped: append([]SkippedFile(nil), s.skipped...), Changed: s.changed}
	if s.def != nil {
		out.Default = s.def.name
	}
	for _, n := range s.ordered {
		out.Networks = append(out.Networks, NetworkInfo{
			Name:         n.name,
			File:         n.file,
			CNIVersion:   n.list.CNIVersion,
			PluginTypes:  append([]string(nil), n.types...),
			Default:      n == s.def,
			DisableCheck: n.list.DisableCheck,
			DisableGC:    n.list.DisableGC,
		})
	}
	return out
}
