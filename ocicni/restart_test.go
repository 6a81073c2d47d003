package ocicni

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A runtime restart loses nothing: a new Plugin on the same cache dir
// reports and tears down a pod set up by the old one, in reverse attach
// order, even though the networks' files are gone by then.
func TestNewPluginTearsDownPodOfPreviousProcess(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", log)
	e.noopNet("20-b.conflist", "b", "1.0.0", "10.0.1.1", log)
	old := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "b"}, {Name: "a"}}}
	if _, err := old.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	if err := old.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"10-a.conflist", "20-b.conflist"} {
		if err := os.Remove(filepath.Join(e.confDir, f)); err != nil {
			t.Fatal(err)
		}
	}

	restarted := e.plugin(WithWatch(false))
	st, err := restarted.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: pod.NetNS})
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Name != "b" || st[1].Name != "a" {
		t.Fatalf("status after restart = %+v, want b then a", st)
	}
	if err := restarted.TearDownPod(PodNetwork{ID: "c1", NetNS: pod.NetNS}); err != nil {
		t.Fatal(err)
	}
	want := []string{"ADD b c1 eth0", "ADD a c1 eth1", "CHECK b c1 eth0", "CHECK a c1 eth1", "DEL a c1 eth1", "DEL b c1 eth0"}
	if got := events(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v\nwant %v", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}
