package ocicni

import (
	"reflect"
	"slices"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A teardown by sandbox ID DELs an attachment another process recorded
// after this one's index had learnt the sandbox's names (a runtime killed
// after its ADD and restarted, ocicnitool beside the runtime): the old
// index read only the names it held once it held any, so the teardown
// returned nil with the other network still attached.
func TestTearDownFindsEntryAnotherWriterRecorded(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "a", "b")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "a"}}})
	if _, err := p.GetPodNetworkStatus(PodNetwork{ID: "sb1", NetNS: ns}); err != nil {
		t.Fatal(err)
	}
	other := e.plugin(WithWatch(false))
	setUp(t, other, PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "b", Ifname: "net1"}}})

	tearDown(t, p, PodNetwork{ID: "sb1", NetNS: ns})
	for i, n := range nets {
		got := slices.DeleteFunc(testutil.Commands(t, n.log), func(c string) bool { return c == "CHECK" })
		if !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
			t.Errorf("network %d's plugin saw %v, want its ADD followed by a DEL", i, got)
		}
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}
