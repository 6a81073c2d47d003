package ocicni

// WithExecLimit bounds how many plugin processes this Plugin runs at once,
// across all pods and verbs, to n (default 0: no bound). When a burst of
// pods arrives, a bound keeps plugin execs from crowding the node's cores
// and memory; execs waiting for a slot are let in DELs (teardown, rollback,
// GC's stale sandboxes), GC and STATUS first, then ADD, CHECK and VERSION,
// each class in arrival order. So on a node whose address pool is tight,
// teardowns free addresses before new setups ask for them. GC's DELs of
// stale sandboxes never hold more than n-1 slots (one when n is 1), so a
// large GC cannot hold every new pod back until it ends. The wait for a
// slot honours the caller's context and does not count against the plugin
// timeout. Runtimes usually build one Plugin per node, making the bound
// node-wide; see docs/load.md for choosing n.
func WithExecLimit(n int) Option {
	return func(o *options) { o.execLimit = n }
}
