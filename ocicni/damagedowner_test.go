package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A damaged record whose name reads as several sandboxes' (c-a-x-c-a-eth0:
// x-c-a on c-a, x on c-a with ifname c-a-eth0, a-x on c, ...) is still
// DELed by its own sandbox's teardown by ID, since the arguments kept at
// ADD say whose it is, and left by every other sandbox's. The old code
// DELed it for none, so the teardown returned nil with it attached.
func TestTearDownDelsAmbiguousDamagedEntryItsArgumentsName(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "c", "c-a")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "x-c-a", NetNS: ns, Networks: []NetAttachment{{Name: "c-a"}}})
	if err := os.WriteFile(filepath.Join(e.cache, "results", "c-a-x-c-a-eth0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tearDown(t, p, PodNetwork{ID: "x"})
	tearDown(t, p, PodNetwork{ID: "a-x"})
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"c-a-x-c-a-eth0"}) {
		t.Fatalf("cache after other sandboxes' teardowns = %v, want the entry kept", got)
	}
	if got := delsOf(t, nets[1].log); len(got) != 0 {
		t.Fatalf("network c-a's DELs after other sandboxes' teardowns = %v, want none", got)
	}
	tearDown(t, p, PodNetwork{ID: "x-c-a", NetNS: ns})
	if got := delsOf(t, nets[1].log); !reflect.DeepEqual(got, []string{"x-c-a/eth0"}) {
		t.Fatalf("network c-a's DELs = %v, want x-c-a/eth0", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the teardown = %v", got)
	}
}

// A damaged record of a network no longer configured is DELed with the
// configuration kept at setup (ocicni-args): the old code had nothing to
// run it with, so the teardown returned nil with the attachment left.
func TestDamagedRecordOfRemovedNetworkDELsWithKeptConfig(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "n1", "n2")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "n2"}}})
	if err := os.WriteFile(filepath.Join(e.cache, "results", "n2-sb1-eth0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.confDir, "20-n2.conflist")); err != nil {
		t.Fatal(err)
	}
	tearDown(t, e.plugin(WithWatch(false)), PodNetwork{ID: "sb1", NetNS: ns})
	if got := delsOf(t, nets[1].log); !reflect.DeepEqual(got, []string{"sb1/eth0"}) {
		t.Fatalf("network n2's DELs = %v, want sb1/eth0", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the teardown = %v", got)
	}
}

// GC's DEL of a damaged record goes to the namespace kept at setup while
// it is still that namespace, so the plugin removes the pod's interface;
// the old code sent no netns, and the bridge's veth stayed in the pod.
func TestDamagedRecordGCDELsInKeptNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "sb1", NetNS: ns})
	if err := os.WriteFile(filepath.Join(e.cache, "results", "n-sb1-eth0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := delNetNS(t, np.log); !reflect.DeepEqual(got, []string{ns}) {
		t.Fatalf("DEL CNI_NETNS = %q, want [%s]", got, ns)
	}
}
