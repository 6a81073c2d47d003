package attachstore

import (
	"reflect"
	"testing"
)

// A file name reads every way a loaded network, an ID and a valid
// interface name allow; names with '-' in network and ID read several.
func TestSplits(t *testing.T) {
	nets := []string{"net", "my-net"}
	cases := map[string][]Split{
		"net-sb1-eth0":                {{"net", "sb1", "eth0"}},
		"net-cnitool-abc-eth0":        {{"net", "cnitool", "abc-eth0"}, {"net", "cnitool-abc", "eth0"}},
		"my-net-sb1-eth0":             {{"my-net", "sb1", "eth0"}},
		"other-sb1-eth0":              nil,
		"net-sb1-averyverylongifname": nil,
	}
	for name, want := range cases {
		if got := Splits(name, nets); !reflect.DeepEqual(got, want) {
			t.Errorf("Splits(%q) = %v, want %v", name, got, want)
		}
	}
}

// A damaged entry goes to a sandbox only when its name reads as that
// sandbox's alone: not when another reading names a sandbox with a usable
// entry, a live one, or (with Unique) any other sandbox at all.
func TestSandboxAttributesDamagedEntryBeyondDoubt(t *testing.T) {
	s := New(t.TempDir())
	writeFile(t, s, "net-cnitool-abc-eth0", "")
	h := Hints{Networks: []string{"net"}}
	if es, _ := s.Sandbox("cnitool-abc", h); len(es) != 1 || es[0].Ifname != "eth0" || es[0].Err == nil {
		t.Fatalf("Sandbox(cnitool-abc) = %v, want the damaged entry on eth0", names(es))
	}
	if es, _ := s.Sandbox("cnitool-abc", Hints{Networks: h.Networks, Unique: true}); len(es) != 0 {
		t.Fatalf("Sandbox(cnitool-abc) with Unique = %v, want nothing", names(es))
	}
	if es, _ := s.Sandbox("cnitool-abc", Hints{Networks: h.Networks, Live: func(id string) bool { return id == "cnitool" }}); len(es) != 0 {
		t.Fatalf("Sandbox(cnitool-abc) with cnitool live = %v, want nothing", names(es))
	}
	owe(t, s, "net", "cnitool", "eth1", 1)
	if es, _ := s.Sandbox("cnitool-abc", h); len(es) != 0 {
		t.Fatalf("Sandbox(cnitool-abc) while cnitool has an entry = %v, want nothing", names(es))
	}
	// The other reading names a sandbox nothing shows to exist: the
	// caller's, which does, gets it.
	if es, _ := s.Sandbox("cnitool", h); !reflect.DeepEqual(names(es), []string{"net-cnitool-eth1", "net-cnitool-abc-eth0"}) || es[1].Ifname != "abc-eth0" {
		t.Fatalf("Sandbox(cnitool) = %v, want its entry and the damaged one read as its abc-eth0", names(es))
	}
}
