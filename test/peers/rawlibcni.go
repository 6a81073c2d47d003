package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// rawLibcniPeer is the floor: libcni's AddNetworkList and DelNetworkList
// on lists parsed once, with the CNI_ARGS a Kubernetes runtime sends, and
// nothing else.
type rawLibcniPeer struct {
	cni   *libcni.CNIConfig
	lists []*libcni.NetworkConfigList
	nets  []network
	cache string
}

func newRawLibcni(w *world, s *netset, cacheDir string) (peer, error) {
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}, PluginDecoder: version.PluginDecoder{}}
	r := &rawLibcniPeer{
		cni:   libcni.NewCNIConfigWithCacheDir([]string{w.binDir}, cacheDir, exec),
		nets:  s.nets,
		cache: cacheDir,
	}
	for _, n := range s.nets {
		list, err := libcni.ConfListFromFile(n.file)
		if err != nil {
			return nil, err
		}
		r.lists = append(r.lists, list)
	}
	return r, nil
}

func (r *rawLibcniPeer) runtimeConf(p pod, ifname string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: p.id, NetNS: p.netns, IfName: ifname,
		Args: [][2]string{
			{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", p.namespace}, {"K8S_POD_NAME", p.name},
			{"K8S_POD_INFRA_CONTAINER_ID", p.id}, {"K8S_POD_UID", p.uid},
		},
	}
}

func (r *rawLibcniPeer) setUp(ctx context.Context, p pod) error {
	for i, list := range r.lists {
		if _, err := r.cni.AddNetworkList(ctx, list, r.runtimeConf(p, r.nets[i].ifname)); err != nil {
			return fmt.Errorf("ADD %s: %w", list.Name, err)
		}
	}
	return nil
}

// tearDown DELs in reverse attach order and keeps going past failures.
func (r *rawLibcniPeer) tearDown(ctx context.Context, p pod) error {
	var errs []error
	for i := len(r.lists) - 1; i >= 0; i-- {
		if err := r.cni.DelNetworkList(ctx, r.lists[i], r.runtimeConf(p, r.nets[i].ifname)); err != nil {
			errs = append(errs, fmt.Errorf("DEL %s: %w", r.lists[i].Name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *rawLibcniPeer) cacheDir() string { return r.cache }

func (r *rawLibcniPeer) close() error { return nil }
