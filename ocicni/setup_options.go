package ocicni

// WithIdempotentSetup makes a SetUpPod identical to the one that attached
// the sandbox (the same networks, interface names, netns and runtime
// configuration) return the results recorded then instead of
// ErrAlreadyAttached, without running any plugin: what a DRA or NRI driver
// that calls ADD from RunPodSandbox, and may be called again for the same
// sandbox, needs. A request that differs in any of these, or one for a
// sandbox whose setup did not finish (its DEL is owed), is still refused
// with ErrAlreadyAttached. Off by default, as in cri-o/ocicni. The results
// are those recorded at ADD; the attachment is not CHECKed (use
// GetPodNetworkStatus for that).
func WithIdempotentSetup(on bool) Option {
	return func(o *options) { o.idempotentSetup = on }
}
