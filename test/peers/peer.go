package main

import (
	"context"

	"github.com/netplumb/ocicni/ocicni"
)

// peer is one way of giving pods their networks, built once per netset
// and kept for the whole run, as a runtime keeps its CNI handle.
type peer interface {
	// setUp attaches the pod to every network of the netset, in order.
	setUp(ctx context.Context, p pod) error
	// tearDown detaches the pod from every network setUp attached.
	tearDown(ctx context.Context, p pod) error
	// cacheDir is the libcni result cache the peer writes, checked empty
	// after every round.
	cacheDir() string
	close() error
}

// watcher is a peer that notices configuration landing in its conf dir on
// its own.
type watcher interface {
	// waitLoaded returns once the new configuration is in force: the next
	// setup would use it.
	waitLoaded(ctx context.Context) error
	// waitReady returns once the peer reports itself ready for pods.
	waitReady(ctx context.Context) error
	// waitGone returns once the peer reports itself not ready again.
	waitGone(ctx context.Context) error
	close() error
}

// column is one implementation in the table. A column is one entry of
// columns(); watch is nil when the implementation has no watcher.
type column struct {
	title    string
	baseline bool
	build    func(w *world, s *netset, cacheDir string) (peer, error)
	watch    func(w *world, confDir, cacheDir string) (watcher, error)
}

// columns lists the implementations compared, in table order. The
// baseline is the one every ratio divides by.
func columns() []column {
	return []column{
		{title: "ours", build: newOurs(), watch: newOursWatcher},
		{title: "ours parallel", build: newOurs(ocicni.WithParallelNetworks(true))},
		{title: "cri-o/ocicni", build: newCRIO, watch: newCRIOWatcher},
		{title: "go-cni", build: newGoCNI(false)},
		{title: "go-cni serial", build: newGoCNI(true)},
		{title: "raw libcni", baseline: true, build: newRawLibcni},
	}
}
