package main

import (
	"context"
	"errors"

	"github.com/netplumb/ocicni/ocicni"
)

// oursPeer drives this library as a runtime does: one Plugin on the conf
// dir, watching it, and SetUpPod/TearDownPod with the pod's networks.
type oursPeer struct {
	plugin *ocicni.Plugin
	nets   []ocicni.NetAttachment
	cache  string
}

// newOurs builds the library with extra options on top of the directories
// of the netset, so a variant of it is one more column.
func newOurs(opts ...ocicni.Option) func(*world, *netset, string) (peer, error) {
	return func(w *world, s *netset, cacheDir string) (peer, error) {
		base := []ocicni.Option{
			ocicni.WithConfDir(s.confDir), ocicni.WithBinDirs(w.binDir), ocicni.WithCacheDir(cacheDir),
		}
		p, err := ocicni.New(append(base, opts...)...)
		if err != nil {
			return nil, err
		}
		o := &oursPeer{plugin: p, cache: cacheDir}
		// One network goes through the default network, as most pods do.
		if len(s.nets) > 1 {
			for _, n := range s.nets {
				o.nets = append(o.nets, ocicni.NetAttachment{Name: n.name, Ifname: n.ifname})
			}
		}
		return o, nil
	}
}

func (o *oursPeer) podNetwork(p pod) ocicni.PodNetwork {
	return ocicni.PodNetwork{
		Name: p.name, Namespace: p.namespace, ID: p.id, UID: p.uid, NetNS: p.netns, Networks: o.nets,
	}
}

func (o *oursPeer) setUp(ctx context.Context, p pod) error {
	_, err := o.plugin.SetUpPodWithContext(ctx, o.podNetwork(p))
	return err
}

func (o *oursPeer) tearDown(ctx context.Context, p pod) error {
	return o.plugin.TearDownPodWithContext(ctx, o.podNetwork(p))
}

func (o *oursPeer) cacheDir() string { return o.cache }

func (o *oursPeer) close() error { return o.plugin.Shutdown() }

// oursWatcher is the library watching an initially empty conf dir.
type oursWatcher struct{ plugin *ocicni.Plugin }

func newOursWatcher(w *world, confDir, cacheDir string) (watcher, error) {
	p, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(w.binDir), ocicni.WithCacheDir(cacheDir))
	if err != nil {
		return nil, err
	}
	return &oursWatcher{plugin: p}, nil
}

func (o *oursWatcher) waitReady(ctx context.Context) error { return o.plugin.WaitReady(ctx) }

func (o *oursWatcher) waitLoaded(ctx context.Context) error {
	return o.waitDefault(ctx, true, "the new configuration never loaded")
}

func (o *oursWatcher) waitGone(ctx context.Context) error {
	return o.waitDefault(ctx, false, "the removed configuration is still loaded")
}

// waitDefault wakes on every change of the loaded configuration until a
// default network is loaded (want) or none is left.
func (o *oursWatcher) waitDefault(ctx context.Context, want bool, fail string) error {
	for {
		v := o.plugin.Networks()
		if (v.Default != "") == want {
			return nil
		}
		select {
		case <-v.Changed:
		case <-ctx.Done():
			return errors.Join(errors.New(fail), ctx.Err())
		}
	}
}

func (o *oursWatcher) close() error { return o.plugin.Shutdown() }
