package main

import (
	"context"

	gocni "github.com/containerd/go-cni"
)

// goCNICacheDir is where go-cni keeps libcni's result cache: it has no
// option to move it, so it is libcni's default (on the run's disk directory,
// like everyone else's).
const goCNICacheDir = "/var/lib/cni"

// goCNIPeer drives containerd/go-cni as containerd does: the networks
// loaded once, Setup (all networks at once) or SetupSerially, and Remove.
type goCNIPeer struct {
	cni    gocni.CNI
	serial bool
}

// newGoCNI builds go-cni on the netset's files, with interfaces eth0...
// in file order. The cache dir argument is ignored (see goCNICacheDir).
func newGoCNI(serial bool) func(*world, *netset, string) (peer, error) {
	return func(w *world, s *netset, _ string) (peer, error) {
		c, err := gocni.New(
			gocni.WithPluginDir([]string{w.binDir}), gocni.WithPluginConfDir(s.confDir),
			gocni.WithInterfacePrefix("eth"), gocni.WithMinNetworkCount(len(s.nets)),
		)
		if err != nil {
			return nil, err
		}
		var load []gocni.Opt
		for _, n := range s.nets {
			load = append(load, gocni.WithConfListFile(n.file))
		}
		if err := c.Load(load...); err != nil {
			return nil, err
		}
		return &goCNIPeer{cni: c, serial: serial}, nil
	}
}

// labels are the CNI_ARGS containerd's CRI plugin sends for a pod.
func (g *goCNIPeer) labels(p pod) gocni.NamespaceOpts {
	return gocni.WithLabels(map[string]string{
		"IgnoreUnknown":              "1",
		"K8S_POD_NAMESPACE":          p.namespace,
		"K8S_POD_NAME":               p.name,
		"K8S_POD_INFRA_CONTAINER_ID": p.id,
		"K8S_POD_UID":                p.uid,
	})
}

func (g *goCNIPeer) setUp(ctx context.Context, p pod) error {
	var err error
	if g.serial {
		_, err = g.cni.SetupSerially(ctx, p.id, p.netns, g.labels(p))
	} else {
		_, err = g.cni.Setup(ctx, p.id, p.netns, g.labels(p))
	}
	return err
}

func (g *goCNIPeer) tearDown(ctx context.Context, p pod) error {
	return g.cni.Remove(ctx, p.id, p.netns, g.labels(p))
}

func (g *goCNIPeer) cacheDir() string { return goCNICacheDir }

func (g *goCNIPeer) close() error { return nil }
