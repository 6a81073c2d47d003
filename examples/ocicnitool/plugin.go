package main

import (
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/ocicni"
)

// pluginOptions returns the library options every verb shares, then the
// verb's own. It is the one place the tool configures the library, so an
// option that every verb should get is added here.
func (inv *invocation) pluginOptions(watch bool, extra ...ocicni.Option) []ocicni.Option {
	log := logrus.New()
	log.SetOutput(inv.stderr)
	// Warnings repeat on every run (each skipped file, say), and list
	// and ready already show them; --debug shows everything.
	log.SetLevel(logrus.ErrorLevel)
	if inv.debug {
		log.SetLevel(logrus.DebugLevel)
	}
	opts := []ocicni.Option{
		ocicni.WithConfDir(inv.confDir),
		ocicni.WithBinDirs(inv.binDirList()...),
		ocicni.WithCacheDir(inv.cacheDir),
		ocicni.WithDefaultNetwork(inv.defaultNetwork),
		// Only watch and ready --wait follow changes; a one-shot verb
		// needs no watcher, since without one every operation rescans.
		ocicni.WithWatch(watch),
		ocicni.WithLogger(log),
	}
	return append(opts, extra...)
}

// newPlugin builds the library's Plugin for this invocation. The caller
// shuts it down.
func (inv *invocation) newPlugin(watch bool, extra ...ocicni.Option) (*ocicni.Plugin, error) {
	return ocicni.New(inv.pluginOptions(watch, extra...)...)
}
