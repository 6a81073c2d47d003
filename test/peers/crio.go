package main

import (
	"context"
	"errors"
	"io"
	"time"

	crio "github.com/cri-o/ocicni/pkg/ocicni"
	"github.com/sirupsen/logrus"
)

// crioPeer drives cri-o/ocicni as CRI-O does: one plugin on the conf dir,
// watching it, and SetUpPod/TearDownPod with the pod's networks.
type crioPeer struct {
	plugin crio.CNIPlugin
	nets   []crio.NetAttachment
	cache  string
}

// newCRIO builds cri-o/ocicni on the netset's directories. Like ours, one
// network goes through the default network, as most pods do.
func newCRIO(w *world, s *netset, cacheDir string) (peer, error) {
	quietCRIO()
	p, err := crio.InitCNIWithCache("", s.confDir, cacheDir, w.binDir)
	if err != nil {
		return nil, err
	}
	c := &crioPeer{plugin: p, cache: cacheDir}
	if len(s.nets) > 1 {
		for _, n := range s.nets {
			c.nets = append(c.nets, crio.NetAttachment{Name: n.name, Ifname: n.ifname})
		}
	}
	return c, nil
}

func (c *crioPeer) podNetwork(p pod) crio.PodNetwork {
	return crio.PodNetwork{Name: p.name, Namespace: p.namespace, ID: p.id, UID: p.uid, NetNS: p.netns, Networks: c.nets}
}

func (c *crioPeer) setUp(ctx context.Context, p pod) error {
	_, err := c.plugin.SetUpPodWithContext(ctx, c.podNetwork(p))
	return err
}

func (c *crioPeer) tearDown(ctx context.Context, p pod) error {
	return c.plugin.TearDownPodWithContext(ctx, c.podNetwork(p))
}

func (c *crioPeer) cacheDir() string { return c.cache }

func (c *crioPeer) close() error { return c.plugin.Shutdown() }

// crioPoll is how often the cri-o/ocicni watcher is asked whether the
// configuration changed: it has no change notification, so its watch rows
// are late by up to this much.
const crioPoll = 500 * time.Microsecond

// crioWatcher is cri-o/ocicni watching an initially empty conf dir.
type crioWatcher struct{ plugin crio.CNIPlugin }

func newCRIOWatcher(w *world, confDir, cacheDir string) (watcher, error) {
	quietCRIO()
	p, err := crio.InitCNIWithCache("", confDir, cacheDir, w.binDir)
	if err != nil {
		return nil, err
	}
	return &crioWatcher{plugin: p}, nil
}

func (c *crioWatcher) waitLoaded(ctx context.Context) error {
	return crioPollUntil(ctx, func() bool { return c.plugin.GetDefaultNetworkName() != "" }, "the new configuration never loaded")
}

func (c *crioWatcher) waitReady(ctx context.Context) error {
	return crioPollUntil(ctx, func() bool { return c.plugin.StatusWithContext(ctx) == nil }, "never ready")
}

func (c *crioWatcher) waitGone(ctx context.Context) error {
	return crioPollUntil(ctx, func() bool { return c.plugin.StatusWithContext(ctx) != nil }, "still ready after the removal")
}

func crioPollUntil(ctx context.Context, cond func() bool, fail string) error {
	t := time.NewTicker(crioPoll)
	defer t.Stop()
	for !cond() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return errors.Join(errors.New(fail), ctx.Err())
		}
	}
	return nil
}

func (c *crioWatcher) close() error { return c.plugin.Shutdown() }

// quietCRIO sends cri-o/ocicni's log, which goes to logrus's standard
// logger at info level for every pod, nowhere, as ours logs nowhere by
// default; the log lines are still formatted, as in CRI-O.
func quietCRIO() { logrus.SetOutput(io.Discard) }
