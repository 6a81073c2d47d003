package attachstore

import (
	"os"
	"reflect"
	"testing"
)

// A listing taken before a sandbox's second entry was written, merged in
// after it, keeps the second entry's name: the sandbox's teardown must
// find both. The old index put the listing in its own place, so the name
// written meanwhile was lost while the first kept the index from listing
// again, and the teardown DEL'd one network of two (issue 17.1).
func TestListingMergesNamesWrittenMeanwhile(t *testing.T) {
	s := New(t.TempDir())
	owe(t, s, "net1", "sb1", "eth0", 1)
	if _, err := s.Sandbox("sb1", Hints{}); err != nil {
		t.Fatal(err)
	}
	listed, err := listDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	owe(t, s, "net2", "sb1", "net1", 2)
	s.index.refresh(s.Dir(), listed)
	es, err := s.Sandbox("sb1", Hints{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(es), []string{"net1-sb1-eth0", "net2-sb1-net1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Sandbox(sb1) = %v, want %v", got, want)
	}
}

// A listing drops the names whose files are gone, and keeps none of a
// file removed behind the store's back.
func TestListingDropsNamesOfRemovedFiles(t *testing.T) {
	s := New(t.TempDir())
	owe(t, s, "net1", "sb1", "eth0", 1)
	owe(t, s, "net1", "sb2", "eth0", 1)
	if err := os.Remove(s.Path("net1", "sb1", "eth0")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.All(); err != nil {
		t.Fatal(err)
	}
	if n := s.Indexed(); n != 1 {
		t.Fatalf("index holds %d names, want sb2's alone", n)
	}
}

// Remove deletes the entry and its name, so the index holds nothing of a
// pod whose DELs all succeeded, however many came and went (issue 17.8:
// about 1.2 KB per pod ever set up stayed until a full listing).
func TestRemoveForgetsName(t *testing.T) {
	s := New(t.TempDir())
	if _, err := s.Sandbox("any", Hints{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b-c", "cnitool-0123"} {
		owe(t, s, "my-net", id, "eth0", 1)
		if err := s.Remove("my-net", id, "eth0"); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove("my-net", id, "eth0"); err != nil {
			t.Fatalf("Remove of a gone entry: %v", err)
		}
	}
	if n := s.Indexed(); n != 0 {
		t.Fatalf("index holds %d names after every entry was removed, want 0", n)
	}
	if got, _ := os.ReadDir(s.Dir()); len(got) != 0 {
		t.Fatalf("results dir holds %v, want nothing", got)
	}
}

// An entry another writer records after the index has learnt the sandbox's
// names is found by the sandbox's next lookup, also after the results
// directory was removed and made again (the watch on the old one is lost,
// so the directory is listed anew).
func TestSandboxFindsEntriesOfAnotherWriter(t *testing.T) {
	cache := t.TempDir()
	s, other := New(cache), New(cache)
	defer s.Close()
	defer other.Close()
	owe(t, s, "net1", "sb1", "eth0", 1)
	if _, err := s.Sandbox("sb1", Hints{}); err != nil {
		t.Fatal(err)
	}
	owe(t, other, "net2", "sb1", "net1", 2)
	es, err := s.Sandbox("sb1", Hints{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(es), []string{"net1-sb1-eth0", "net2-sb1-net1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Sandbox(sb1) = %v, want %v", got, want)
	}
	if err := os.RemoveAll(s.Dir()); err != nil {
		t.Fatal(err)
	}
	owe(t, other, "net3", "sb1", "net2", 3)
	if es, err = s.Sandbox("sb1", Hints{}); err != nil {
		t.Fatal(err)
	}
	if got, want := names(es), []string{"net3-sb1-net2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Sandbox(sb1) after the directory was made again = %v, want %v", got, want)
	}
}
