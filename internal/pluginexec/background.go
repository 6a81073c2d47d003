package pluginexec

import "context"

// backgroundNice is the niceness of plugins run for background work. At
// 10, the CPU's scheduler gives a normal process about ten times the share
// of a background one, so pods being set up while GC deletes thousands of
// stale attachments get the CPU first, yet GC is never starved.
const backgroundNice = 10

type backgroundKey struct{}

// WithBackground returns ctx whose plugin execs run at a lower CPU
// priority: work no caller is waiting on, such as GC's DELs of stale
// sandboxes, which would otherwise take the CPUs from the pods being set
// up meanwhile. A replacement runner (Config.Inner) runs at the caller's
// priority.
func WithBackground(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// niceFor returns the niceness an exec under ctx runs at; 0 keeps the
// runtime's.
func niceFor(ctx context.Context) int {
	if on, _ := ctx.Value(backgroundKey{}).(bool); on {
		return backgroundNice
	}
	return 0
}
