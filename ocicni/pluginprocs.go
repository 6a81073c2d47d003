package ocicni

// WithPluginGOMAXPROCS sets GOMAXPROCS=n in every plugin's environment
// (default 0: the plugins get the runtime's environment as it is). A
// plugin written in Go, as most are, starts its runtime on every exec and
// sizes it to every CPU of the node, though it lives for milliseconds and
// uses one or two; with a cap of 1 its start and its ADD cost less, and
// the more CPUs the node has, the more they save (docs/load.md has the
// figures). It replaces any GOMAXPROCS of the runtime's own environment,
// passes WithPluginEnvironment's filter, and means nothing to a plugin
// not written in Go.
func WithPluginGOMAXPROCS(n int) Option {
	return func(o *options) { o.pluginProcs = n }
}
