package attachstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// testList is a configuration list as the store records it.
func testList(t *testing.T, name string) *libcni.NetworkConfigList {
	t.Helper()
	list, err := libcni.ConfListFromBytes([]byte(`{"cniVersion":"1.0.0","name":"` + name + `","plugins":[{"type":"noop"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// owe writes the owed entry of network on sandbox id's ifname with order.
func owe(t *testing.T, s *Store, network, id, ifname string, order int64) {
	t.Helper()
	rt := &libcni.RuntimeConf{ContainerID: id, IfName: ifname, NetNS: "/run/netns/" + id,
		CapabilityArgs: map[string]any{OrderKey: order}}
	if err := s.Owe(network, testList(t, network), rt); err != nil {
		t.Fatal(err)
	}
}

// names returns the base names of entries' files, in their order.
func names(es []*Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, filepath.Base(e.File))
	}
	return out
}

// writeFile writes data at name in the store's directory.
func writeFile(t *testing.T, s *Store, name, data string) {
	t.Helper()
	if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), name), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rtOf returns the runtime configuration of sandbox id's ifname.
func rtOf(id, ifname string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: id, IfName: ifname, CapabilityArgs: map[string]any{}}
}
