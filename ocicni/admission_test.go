package ocicni

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// WithExecLimit(2) holds six pods' setups, and then their teardowns, to two
// plugins at once: each plugin counts those running beside it, and the most
// any saw is two (without the option all six run together).
func TestExecLimitBoundsPluginsAcrossPods(t *testing.T) {
	const limit, pods = 2, 6
	e := newFaultEnv(t)
	crowd, crowdLog := t.TempDir(), filepath.Join(t.TempDir(), "crowd")
	e.writeList("10-n.conflist", "n", "1.0.0", nil, testutil.FaultyPlugin(e.logFile("f.log"),
		map[string]string{"ADD": "crowd", "DEL": "crowd"},
		"crowdDir", crowd, "crowdTarget", limit, "crowdLog", crowdLog))
	p := e.plugin(WithWatch(false), WithExecLimit(limit))
	all := make([]PodNetwork, pods)
	for i := range all {
		all[i] = PodNetwork{Name: fmt.Sprint("p", i), Namespace: "ns", ID: fmt.Sprint("sb", i), NetNS: testutil.NewNetNS(t)}
	}
	for _, op := range []func(PodNetwork) error{
		func(pod PodNetwork) error { _, err := p.SetUpPod(pod); return err },
		p.TearDownPod,
	} {
		var wg sync.WaitGroup
		errs := make(chan error, pods)
		for _, pod := range all {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- op(pod)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	seen := testutil.FaultyLog(t, crowdLog)
	most := 0
	for _, l := range seen {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("crowd log line %q", l)
		}
		most = max(most, n)
	}
	if len(seen) != 2*pods || most != limit {
		t.Fatalf("%d plugin calls, at most %d at once; want %d, at most %d", len(seen), most, 2*pods, limit)
	}
}
