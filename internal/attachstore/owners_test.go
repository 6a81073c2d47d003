package attachstore

import (
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// NetNSOfOther finds the sandbox whose entry records a namespace, also in a
// fresh store that has read nothing yet, and forgets an entry once removed.
func TestNetNSOfOther(t *testing.T) {
	s := New(t.TempDir())
	rt := &libcni.RuntimeConf{ContainerID: "b", IfName: "eth0", CapabilityArgs: map[string]any{NetNSKey: "4:1234:99"}}
	if err := s.Owe("net", testList(t, "net"), rt); err != nil {
		t.Fatal(err)
	}
	fresh := New(filepath.Dir(s.Dir()))
	for name, st := range map[string]*Store{"writer": s, "fresh": fresh} {
		if !st.NetNSOfOther("4:1234:99", "a") {
			t.Errorf("%s store: the namespace b's entry records is not another's for a", name)
		}
		if st.NetNSOfOther("4:1234:99", "b") || st.NetNSOfOther("4:1234:98", "a") {
			t.Errorf("%s store: a namespace is another's where it is not", name)
		}
	}
	if err := s.Remove("net", "b", "eth0"); err != nil {
		t.Fatal(err)
	}
	if s.NetNSOfOther("4:1234:99", "a") || fresh.NetNSOfOther("4:1234:99", "a") {
		t.Fatal("a removed entry still owns its namespace")
	}
}
