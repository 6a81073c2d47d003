package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// delsOf returns "<sandbox>/<ifname>" for each DEL a noop command log
// recorded.
func delsOf(t *testing.T, log string) []string {
	t.Helper()
	if fi, err := os.Stat(log); err != nil || fi.Size() == 0 {
		return nil
	}
	entries, err := debug.ReadCommandLog(log)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range entries {
		if c.Command == "DEL" {
			out = append(out, c.CmdArgs.ContainerID+"/"+c.CmdArgs.IfName)
		}
	}
	return out
}

// A damaged entry whose name reads as several sandboxes' (c-a-b-x-eth0:
// b-x on c-a, or a-b-x on c, or a on c with ifname b-x-eth0, ...) is left
// while any of them is a valid pod, and DELed by GC under each reading once
// none is: every candidate owner is stale, and the real one is among them.
// The old code DELed it for none, so even a final GC with no valid pods
// left it attached.
func TestGCDelsAmbiguousDamagedEntryWhenNoReadingIsValid(t *testing.T) {
	e := newEnv(t)
	nets := e.noopNets("", "c", "c-a")
	p := e.plugin(WithWatch(false))
	setUp(t, p, PodNetwork{ID: "b-x", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "c-a"}}})
	file := filepath.Join(e.cache, "results", "c-a-b-x-eth0")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// As an older version, cri-o/ocicni or libcni itself leaves it: no
	// arguments kept apart to say whose it is.
	if err := os.RemoveAll(filepath.Join(e.cache, "ocicni-args")); err != nil {
		t.Fatal(err)
	}

	if err := p.GC(context.Background(), []*PodNetwork{{ID: "a"}}); err != nil {
		t.Fatalf("GC with a candidate valid: %v", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"c-a-b-x-eth0"}) {
		t.Fatalf("cache after GC with candidate a valid = %v, want the entry kept", got)
	}
	if d0, d1 := delsOf(t, nets[0].log), delsOf(t, nets[1].log); len(d0)+len(d1) != 0 {
		t.Fatalf("DELs with candidate a valid: c %v, c-a %v; want none", d0, d1)
	}

	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatalf("final GC: %v", err)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the final GC = %v, want nothing", got)
	}
	if got := delsOf(t, nets[1].log); !slices.Contains(got, "b-x/eth0") {
		t.Fatalf("network c-a's DELs = %v, want one for the real owner b-x/eth0", got)
	}
}
