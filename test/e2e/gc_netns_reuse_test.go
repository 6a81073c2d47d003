//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// Pod A's named netns goes away and the name is reused for pod B's; A is
// stale, B valid, and GC runs. A file in the results directory that GC
// does not take for A's entry but libcni reads as one (here the copy a
// runtime killed mid-ADD leaves of A's record, beside A's record turned
// into a directory with something in it) must not make the GC verb DEL A
// with the netns path recorded at A's ADD: that path leads into B's
// namespace now, and bridge would delete B's eth0. GC hands the verb to
// libcni with a cache directory that holds no entries, so libcni sends the
// verb alone. Before, libcni's GC DELed every cached attachment it found
// outside the valid list with its recorded netns path (issue 17.3's
// residual, test/chaos seed 3001: a GC that listed pod a-b valid left it
// without its eth0).
func TestGCVerbNeverDELsIntoReusedNetNS(t *testing.T) {
	w := newWorld(t)
	conf := w.bridgeNet("podnet")
	conf["cniVersion"] = "1.1.0"
	w.writeConf("10-podnet.conflist", conf)
	p := w.plugin(ocicni.WithWatch(false))
	name := fmt.Sprintf("gcreuse%d", w.n)
	path, err := sandbox.CreateNetNS(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandbox.DeleteNetNS(name) })
	podA := ocicni.PodNetwork{Namespace: "e2e", Name: "a", ID: fmt.Sprintf("sb%da", w.n), NetNS: path}
	setUpOne(t, w, p, podA)

	results := filepath.Join(w.cacheDir, "results")
	record := filepath.Join(results, "podnet-"+podA.ID+"-eth0")
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(results, ".ocicni.owed.podnet-"+podA.ID+"-eth0"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(record, "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	if err := sandbox.DeleteNetNS(name); err != nil {
		t.Fatal(err)
	}
	if again, err := sandbox.CreateNetNS(name); err != nil || again != path {
		t.Fatalf("re-creating netns %s: %s, %v", name, again, err)
	}
	podB := ocicni.PodNetwork{Namespace: "e2e", Name: "b", ID: fmt.Sprintf("sb%db", w.n), NetNS: path}
	_, ipB := setUpOne(t, w, p, podB)

	if err := p.GC(context.Background(), []*ocicni.PodNetwork{&podB}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if podLink(t, path, "eth0") == nil {
		t.Fatalf("pod b lost eth0 in GC, which listed it valid")
	}
	if owner := reservations(t, w.dataDir, "podnet")[ipB]; !strings.HasPrefix(owner, podB.ID) {
		t.Fatalf("host-local holds %s for %q after GC, want pod b", ipB, owner)
	}
	if err := p.TearDownPod(podB); err != nil {
		t.Fatalf("TearDownPod(b): %v", err)
	}
}
