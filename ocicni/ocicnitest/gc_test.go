package ocicnitest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

func TestGCFailuresKeepGoingAndKeepWhatFailed(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	for _, pod := range []ocicni.PodNetwork{fakePod("x", "a"), fakePod("y", "b")} {
		if _, err := p.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
	}
	p.Inject(ocicnitest.Fault{Network: "a", Verb: ocicnitest.VerbDel, Code: 5})
	p.Inject(ocicnitest.Fault{Network: "b", Verb: ocicnitest.VerbGC, Code: 6})
	err := p.GC(context.Background(), nil)
	var oe *ocicni.OpError
	var ce *cnitypes.Error
	if !errors.As(err, &oe) || oe.Op != "gc" || oe.ID != "x" || !errors.As(err, &ce) || ce.Code != 5 {
		t.Fatalf("GC = %v, want x's failed DEL as a gc OpError with code 5", err)
	}
	if len(p.Attached("x")) != 1 || len(p.Attached("y")) != 0 {
		t.Fatalf("after GC x has %v and y %v; want x kept, y removed", p.Attached("x"), p.Attached("y"))
	}
	if got := err.Error(); !strings.Contains(got, `GC of network "b"`) {
		t.Fatalf("GC = %q, want the GC verb's failure on b joined too", got)
	}
}
