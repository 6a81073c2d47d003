package attachstore

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// An owed entry is a private regular file in a private directory, read
// back with everything a DEL needs and marked owed, and no temporary file
// is left beside it.
func TestOweWritesPrivateOwedEntry(t *testing.T) {
	s := New(t.TempDir())
	owe(t, s, "net1", "sb1", "eth0", 42)
	fi, err := os.Lstat(s.Dir())
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("results dir = %v, %v; want a 0700 directory", fi, err)
	}
	fi, err = os.Lstat(s.Path("net1", "sb1", "eth0"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry = %v, %v; want a 0600 regular file", fi, err)
	}
	all, err := os.ReadDir(s.Dir())
	if err != nil || len(all) != 2 || all[0].Name() != copyPrefix+"net1-sb1-eth0" {
		t.Fatalf("results dir holds %v (%v), want the entry and its copy", all, err)
	}
	s.DropCopy("net1", "sb1", "eth0")
	all, err = os.ReadDir(s.Dir())
	if err != nil || len(all) != 1 {
		t.Fatalf("results dir holds %v (%v), want the entry alone", all, err)
	}
	es, err := s.Sandbox("sb1", Hints{})
	if err != nil || len(es) != 1 {
		t.Fatalf("Sandbox = %v, %v; want one entry", es, err)
	}
	e := es[0]
	if e.Err != nil || !e.Owed || e.Order != 42 || e.Network != "net1" || e.Ifname != "eth0" || e.NetNS != "/run/netns/sb1" {
		t.Fatalf("entry = %+v, want net1/eth0 owed with order 42", e)
	}
	if list, err := e.ConfigList(); err != nil || list.Name != "net1" {
		t.Fatalf("ConfigList = %v, %v", list, err)
	}
}

// KeepOwed leaves an existing entry as it is and writes one where none is.
func TestKeepOwedLeavesExistingEntry(t *testing.T) {
	s := New(t.TempDir())
	writeFile(t, s, "net1-sb1-eth0", "libcni's")
	if err := s.KeepOwed("net1", testList(t, "net1"), rtOf("sb1", "eth0")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(s.Path("net1", "sb1", "eth0")); string(data) != "libcni's" {
		t.Fatalf("entry = %q, want it untouched", data)
	}
	if err := s.KeepOwed("net1", testList(t, "net1"), rtOf("sb2", "eth0")); err != nil {
		t.Fatal(err)
	}
	if es, _ := s.Sandbox("sb2", Hints{}); len(es) != 1 || !es[0].Owed {
		t.Fatalf("sb2's entries = %v, want one owed entry", es)
	}
}

// A results directory that is a symlink is refused, and nothing is
// written where it points.
func TestOweRefusesSymlinkedDir(t *testing.T) {
	cache := t.TempDir()
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(cache, "results")); err != nil {
		t.Fatal(err)
	}
	s := New(cache)
	err := s.Owe("net1", testList(t, "net1"), rtOf("sb1", "eth0"))
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("Owe error = %v, want a refusal naming the symlink", err)
	}
	if got, _ := os.ReadDir(target); len(got) != 0 {
		t.Fatalf("the symlink's target holds %v", got)
	}
}

// Network names and sandbox IDs that contain '-' and are prefixes of one
// another still give each sandbox exactly its own entries, in attach
// order.
func TestSandboxWithDashedNames(t *testing.T) {
	s := New(t.TempDir())
	owe(t, s, "my-net", "pod-a", "eth0", 2)
	owe(t, s, "my", "net-pod-b", "eth0", 1)
	owe(t, s, "net", "pod-a", "net1", 1)
	owe(t, s, "my-net", "pod-a-b", "eth0", 1)
	cases := map[string][]string{
		"pod-a":     {"net-pod-a-net1", "my-net-pod-a-eth0"},
		"net-pod-b": {"my-net-pod-b-eth0"},
		"pod-b":     nil,
		"pod-a-b":   {"my-net-pod-a-b-eth0"},
		"pod":       nil,
	}
	// A fresh store, whose index comes from a listing, and the one that
	// wrote the entries must agree.
	for _, st := range []*Store{s, New(filepath.Dir(s.Dir()))} {
		for id, want := range cases {
			es, err := st.Sandbox(id, Hints{})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(es); !reflect.DeepEqual(got, want) {
				t.Errorf("Sandbox(%q) = %v, want %v", id, got, want)
			}
		}
	}
}

// libcni replaces an owed entry with its result by truncating and writing
// it in place. A runtime killed in between (seen in
// TestSoakKillsAndFaultsLeakNothing: the GC, finding the entry empty, DELed
// without a netns and the bridge's veth stayed) leaves an empty or cut-short
// file after an ADD that ran: the copy Owe kept still gives the entry, netns
// included, until the ADD returns. Remove and Sweep take the copy along.
func TestOwedEntryCutShortByLibcniReadFromItsCopy(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "cut short": `{"kind":"cniCacheV1","containerId":"sb`} {
		t.Run(name, func(t *testing.T) {
			s := New(t.TempDir())
			owe(t, s, "net1", "sb1", "eth0", 7)
			path := s.Path("net1", "sb1", "eth0")
			writeFile(t, s, "net1-sb1-eth0", content)
			es, err := s.Sandbox("sb1", Hints{})
			if err != nil || len(es) != 1 {
				t.Fatalf("Sandbox = %v, %v; want one entry", es, err)
			}
			if e := es[0]; e.Err != nil || !e.Owed || e.NetNS != "/run/netns/sb1" || e.Order != 7 || e.File != path {
				t.Fatalf("entry = %+v, want the owed record with its netns, at the entry's path", e)
			}
			if err := s.Remove("net1", "sb1", "eth0"); err != nil {
				t.Fatal(err)
			}
			if all, _ := os.ReadDir(s.Dir()); len(all) != 0 {
				t.Fatalf("results dir holds %v after Remove, want nothing", all)
			}
		})
	}

	// Once the ADD returned the copy is gone, and a damaged entry stays
	// damaged.
	s := New(t.TempDir())
	owe(t, s, "net1", "sb1", "eth0", 7)
	s.DropCopy("net1", "sb1", "eth0")
	writeFile(t, s, "net1-sb1-eth0", "")
	if es, _ := s.All(); len(es) != 1 || es[0].Err == nil {
		t.Fatalf("entries = %v, want one damaged entry", es)
	}

	// Sweep keeps a copy while its entry exists and removes it after.
	owe(t, s, "net2", "sb2", "eth0", 8)
	if removed, _, _ := s.Sweep(); len(removed) != 0 {
		t.Fatalf("Sweep removed %v while the entries exist", removed)
	}
	if err := os.Remove(s.Path("net2", "sb2", "eth0")); err != nil {
		t.Fatal(err)
	}
	if removed, _, _ := s.Sweep(); len(removed) != 1 || removed[0] != copyPrefix+"net2-sb2-eth0" {
		t.Fatalf("Sweep removed %v, want the copy whose entry is gone", removed)
	}
}

// The arguments DropCopy keeps give a damaged entry the capability
// arguments recorded at ADD; Remove, or Sweep once the entry is gone,
// deletes them.
func TestDamagedEntryKeepsRecordedCapabilityArgs(t *testing.T) {
	cache := t.TempDir()
	s := New(cache)
	rt := &libcni.RuntimeConf{ContainerID: "sb1", IfName: "eth0", NetNS: "/run/netns/sb1",
		CapabilityArgs: map[string]any{OrderKey: 1, "portMappings": []any{map[string]any{"hostPort": 8080.0}}}}
	for _, id := range []string{"sb1", "sb2"} {
		rt.ContainerID = id
		if err := s.Owe("net1", testList(t, "net1"), rt); err != nil {
			t.Fatal(err)
		}
		s.DropCopy("net1", id, "eth0")
		writeFile(t, s, "net1-"+id+"-eth0", "")
	}
	es, err := s.All()
	if err != nil || len(es) != 2 {
		t.Fatalf("All = %v, %v", es, err)
	}
	want := map[string]any{"portMappings": []any{map[string]any{"hostPort": 8080.0}}}
	if es[0].Err == nil || !reflect.DeepEqual(es[0].Caps, want) {
		t.Fatalf("damaged entry: Err %v, Caps %v; want damaged with %v", es[0].Err, es[0].Caps, want)
	}
	if err := s.Remove("net1", "sb1", "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.Path("net1", "sb2", "eth0")); err != nil {
		t.Fatal(err)
	}
	s.Sweep()
	if left, _ := os.ReadDir(filepath.Join(cache, argsDir)); len(left) != 0 {
		t.Fatalf("arguments left: %v", left)
	}
}
