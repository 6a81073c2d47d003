package ocicni

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/internal/testutil"
)

// A pod's netns path that now holds a plain file (a namespace torn away
// and the path left behind corrupt) is handed to the DEL as cri-o/ocicni
// hands it: the plugins refuse it, the teardown fails, and CRI-O takes the
// failure as its cue to remove the corrupt path ("Removed invalid netns
// path", network.bats "Clean up network if pod netns gets destroyed").
// Taken for a namespace with a new identity, the path was dropped and the
// DEL "succeeded", so CRI-O left the file behind.
func TestTearDownHandsCorruptNetNSPathToPlugins(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	ns := testutil.NewNetNS(t)
	setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
	if err := sandbox.DeleteNetNS(filepath.Base(ns)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ns, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tearDown(t, p, PodNetwork{ID: "c1", NetNS: ns})
	if got := delNetNS(t, np.log); !reflect.DeepEqual(got, []string{ns}) {
		t.Fatalf("DEL CNI_NETNS = %v, want [%s], the path CRI-O passed", got, ns)
	}
}
