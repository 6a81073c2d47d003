package ocicni

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// With WithParallelNetworks the three ADDs of one pod are all in flight at
// once (serially only the first would start), and when they fail every one
// gets its rollback DEL and the error names the first network, as the
// serial path reports it.
func TestParallelNetworksAddAtOnceAndRollBack(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("f.log")
	for _, n := range []string{"a", "b", "c"} {
		e.writeList("10-"+n+".conflist", n, "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	}
	p := e.plugin(WithWatch(false), WithParallelNetworks(true))
	e.control(map[string]any{"faults": map[string]string{"ADD": "hang"}})
	pod := PodNetwork{ID: "par", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "a"}, {Name: "b"}, {Name: "c"}}}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, pod)
		done <- err
	}()
	testutil.Eventually(t, 10*time.Second, func() bool {
		return len(testutil.FaultyLog(t, log)) == 3
	}, "the three ADDs were never in flight together")
	e.control(map[string]any{"faults": map[string]string{}})
	cancel()
	err := <-done
	var op *OpError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &op) || op.Network != "a" || op.Op != "add" {
		t.Fatalf("err = %v, want the cancelled ADD of the first network", err)
	}
	var dels []string
	for _, l := range testutil.FaultyLog(t, log) {
		if strings.HasPrefix(l, "DEL ") {
			dels = append(dels, l)
		}
	}
	slices.Sort(dels)
	if want := []string{"DEL par eth0", "DEL par eth1", "DEL par eth2"}; !reflect.DeepEqual(dels, want) {
		t.Fatalf("rollback DELs = %v, want %v", dels, want)
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after rollback = %v", c)
	}
}

// Results come back in request order with the interface names planned up
// front, and teardown DELs every network.
func TestParallelNetworksResultsInRequestOrder(t *testing.T) {
	e := newEnv(t)
	e.noopNets("", "a", "b", "c")
	p := e.plugin(WithWatch(false), WithParallelNetworks(true))
	pod := PodNetwork{ID: "par", NetNS: testutil.NewNetNS(t),
		Networks: []NetAttachment{{Name: "c"}, {Name: "a", Ifname: "eth0"}, {Name: "b"}}}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Name+"/"+r.Ifname+"/"+firstIP(t, r.Result))
	}
	want := []string{"c/eth1/10.0.0.3/24", "a/eth0/10.0.0.1/24", "b/eth2/10.0.0.2/24"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("results = %v, want %v", got, want)
	}
	tearDown(t, p, PodNetwork{ID: "par", NetNS: pod.NetNS})
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after teardown = %v", c)
	}
}
