package ocicnitest

import "time"

// Option configures a Plugin built by New.
type Option func(*options)

type options struct {
	networks       []string
	defaultNetwork string
	faults         []Fault
	pluginTimeout  time.Duration
}

// WithNetworks names the networks the fake has loaded, in order. The first
// is the default unless WithDefaultNetwork names another. Without this
// option the fake has one network, DefaultNetwork. Empty names and repeats
// are dropped; naming none leaves the fake not ready, like a real plugin
// with an empty configuration directory.
func WithNetworks(names ...string) Option {
	return func(o *options) { o.networks = names }
}

// WithDefaultNetwork names the default network. When no loaded network has
// that name the fake is not ready, as the real plugin is.
func WithDefaultNetwork(name string) Option {
	return func(o *options) { o.defaultNetwork = name }
}

// WithFaults scripts faults from the start, as Plugin.Inject does later.
func WithFaults(faults ...Fault) Option {
	return func(o *options) { o.faults = append(o.faults, faults...) }
}

// WithPluginTimeout bounds each scripted hang whose context has no earlier
// deadline, as ocicni.WithPluginTimeout bounds each plugin exec (default
// ocicni.DefaultPluginTimeout). Zero or less disables the bound.
func WithPluginTimeout(d time.Duration) Option {
	return func(o *options) { o.pluginTimeout = d }
}
