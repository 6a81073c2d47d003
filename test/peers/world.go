package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/netplumb/ocicni/internal/sandbox"
)

// stateRoot holds every file the benchmark writes. It is inside the
// directory that the sandbox binds on /var/lib/cni, removed after the run.
const stateRoot = "/var/lib/cni/peers"

// world is the shared ground of a run: the plugin directory, host-local's
// data directory and the sequence that keeps pod IDs and namespace names
// unique.
type world struct {
	binDir  string
	dataDir string
	seq     atomic.Int64
}

// network is one conflist file: bridge + host-local + portmap on its own
// bridge and /24.
type network struct {
	name   string
	file   string
	ifname string
}

// netset is a conf dir holding the networks a workload attaches every pod
// to, in attach order.
type netset struct {
	confDir string
	nets    []network
}

// pod is one sandbox of one round, with a namespace of its own.
type pod struct {
	id, name, namespace, uid string
	nsName, netns            string
}

func newWorld(binDir string) (*world, error) {
	w := &world{binDir: binDir, dataDir: filepath.Join(stateRoot, "ipam")}
	return w, os.MkdirAll(w.dataDir, 0o755)
}

// conflist is the network's configuration: the chain every workload uses.
func (w *world) conflist(name, bridge string, subnet int) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.1.0",
		"name":       name,
		"plugins": []map[string]any{
			{
				"type":      "bridge",
				"bridge":    bridge,
				"isGateway": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": w.dataDir,
					"ranges":  [][]map[string]string{{{"subnet": fmt.Sprintf("10.98.%d.0/24", subnet)}}},
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// newNetset writes count networks named <label>0.. into a fresh conf dir.
// Subnets start at firstSubnet and bridges are named after the networks.
func (w *world) newNetset(label string, count, firstSubnet int) (*netset, error) {
	s := &netset{confDir: filepath.Join(stateRoot, "conf", label)}
	if err := os.MkdirAll(s.confDir, 0o755); err != nil {
		return nil, err
	}
	for i := range count {
		name := fmt.Sprintf("%s%d", label, i)
		file := filepath.Join(s.confDir, fmt.Sprintf("%02d-%s.conflist", 10+i, name))
		data, err := w.conflist(name, "pb"+name, firstSubnet+i)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return nil, err
		}
		s.nets = append(s.nets, network{name: name, file: file, ifname: fmt.Sprintf("eth%d", i)})
	}
	return s, nil
}

// newPods creates n pods, each with a fresh network namespace.
func (w *world) newPods(n int) ([]pod, error) {
	pods := make([]pod, 0, n)
	for range n {
		i := w.seq.Add(1)
		p := pod{
			id: fmt.Sprintf("sandbox%06d", i), name: fmt.Sprintf("pod%d", i),
			namespace: "peers", uid: fmt.Sprintf("uid-%d", i), nsName: fmt.Sprintf("peers%d", i),
		}
		path, err := sandbox.CreateNetNS(p.nsName)
		if err != nil {
			deletePods(pods)
			return nil, fmt.Errorf("creating netns %s: %w", p.nsName, err)
		}
		p.netns = path
		pods = append(pods, p)
	}
	return pods, nil
}

// deletePods removes the pods' namespaces.
func deletePods(pods []pod) {
	for _, p := range pods {
		_ = sandbox.DeleteNetNS(p.nsName)
	}
}

// leftovers lists what a round left behind after every pod was torn
// down: host-local reservations of the set's networks, result cache
// entries in cacheDir, and host-side veths. Anything here means an
// implementation leaked, and the next round would not start equal.
func (w *world) leftovers(s *netset, cacheDir string) ([]string, error) {
	var found []string
	for _, n := range s.nets {
		entries, err := os.ReadDir(filepath.Join(w.dataDir, n.name))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			if e.Name() == "lock" || strings.HasPrefix(e.Name(), "last_reserved_ip.") {
				continue
			}
			found = append(found, "reservation "+filepath.Join(n.name, e.Name()))
		}
	}
	entries, err := os.ReadDir(filepath.Join(cacheDir, "results"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range entries {
		found = append(found, "cache entry "+e.Name())
	}
	veths, err := sandbox.CountLinks("veth")
	if err != nil {
		return nil, err
	}
	if veths > 0 {
		found = append(found, fmt.Sprintf("%d host-side veths", veths))
	}
	sort.Strings(found)
	return found, nil
}
