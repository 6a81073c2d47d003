package types

// NetworkInfo describes one loaded network.
type NetworkInfo struct {
	// Name is the network name.
	Name string `json:"name"`
	// File is the configuration file it was loaded from.
	File string `json:"file"`
	// CNIVersion is the spec version the configuration declares, used with
	// its plugins.
	CNIVersion string `json:"cniVersion"`
	// PluginTypes lists the plugin types of the chain, in order.
	PluginTypes []string `json:"pluginTypes"`
	// Default reports whether this is the default network.
	Default bool `json:"default"`
	// DisableCheck echoes the configuration's disableCheck flag.
	DisableCheck bool `json:"disableCheck"`
	// DisableGC echoes the configuration's disableGC flag.
	DisableGC bool `json:"disableGC"`
	// Readiness is what the background STATUS poll last learnt of the
	// network, as of the call that returned this view. Only the default
	// network is polled, and only where its cniVersion has the STATUS verb
	// (1.1.0 on); nil otherwise.
	Readiness *Readiness `json:"readiness,omitempty"`
}

// SkippedFile names a configuration file that was not loaded, and why.
type SkippedFile struct {
	// File is the path of the file.
	File string `json:"file"`
	// Reason says what is wrong with it, in words an operator can act on.
	Reason string `json:"reason"`
}

// NetworkSet is a point-in-time view of the loaded configuration. It
// encodes to JSON with the keys shown in its field tags; Changed is left
// out.
type NetworkSet struct {
	// ConfDir is the directory the configuration was loaded from.
	ConfDir string `json:"confDir"`
	// Default is the default network name, or "" when there is none.
	Default string `json:"default"`
	// Networks lists the loaded networks in file order.
	Networks []NetworkInfo `json:"networks"`
	// Skipped lists every file that was not loaded, with the reason.
	Skipped []SkippedFile `json:"skipped"`
	// Changed is closed as soon as a reload replaces this view with a
	// different one: a network, the default, or a skipped file's reason
	// changed. A reload that finds the same configuration leaves it open.
	// While watching (or polling) reloads follow the directories on their
	// own; with watching off they happen only when an operation (Networks
	// included) finds the directories changed.
	Changed <-chan struct{} `json:"-"`
}
