package ocicni

import (
	"errors"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// Setting up a pod that is already set up is refused before any plugin
// runs: running ADD again and rolling back its failure would DEL the
// working attachment. After a teardown the same sandbox sets up again.
func TestSetUpPodTwiceIsRefusedAndKeepsTheAttachment(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", log)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	_, err := p.SetUpPod(pod)
	if !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("second setup = %v, want ErrAlreadyAttached", err)
	}
	if got, want := events(t, log), []string{"ADD n c1 eth0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want only the first ADD", got)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-c1-eth0"}) {
		t.Fatalf("cache = %v, want the first attachment kept", got)
	}
	if err := p.TearDownPod(pod); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatalf("setup after teardown: %v", err)
	}
}
