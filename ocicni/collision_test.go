package ocicni

import (
	"errors"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// Sandbox a-b on network c and sandbox b on network c-a share libcni's
// cache file c-a-b-eth0. With b attached, a-b's setup on c is refused with
// ErrCacheNameTaken before any plugin runs, and a-b's teardown naming c
// leaves b's record alone: b's own teardown then DELs b with it. The old
// code refused the setup as already attached, and the teardown DELed with
// b's record and removed it, so b's address leaked.
func TestCollidingCacheNamesStayApart(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "c", "c-a")
	p := e.plugin(WithWatch(false))
	nsA, nsB := testutil.NewNetNS(t), testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "b", NetNS: nsB, Networks: []NetAttachment{{Name: "c-a"}}})

	a := PodNetwork{ID: "a-b", NetNS: nsA, Networks: []NetAttachment{{Name: "c"}}}
	if _, err := p.SetUpPod(a); !errors.Is(err, ErrCacheNameTaken) || errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("setup of a-b on c = %v, want ErrCacheNameTaken alone", err)
	}
	tearDown(t, p, a)
	tearDown(t, p, PodNetwork{ID: "a-b", NetNS: nsA})
	if got := testutil.Commands(t, nets[0].log); len(got) != 0 {
		t.Fatalf("network c's plugin saw %v, want nothing", got)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"c-a-b-eth0"}) {
		t.Fatalf("cache = %v, want b's entry", got)
	}

	tearDown(t, p, PodNetwork{ID: "b", NetNS: nsB})
	if got, want := delNetNS(t, nets[1].log), []string{nsB}; !reflect.DeepEqual(got, want) {
		t.Fatalf("b's DEL CNI_NETNS = %q, want %q: b's record was lost", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after b's teardown = %v", got)
	}
}
