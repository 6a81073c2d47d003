package ocicni

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/netplumb/ocicni/internal/testutil"
)

// threeNetworkPod sets up a pod on networks a, b and c, all served by the
// faulty plugin with one shared command log, and returns the pod and log.
func threeNetworkPod(t *testing.T, e *env) (*Plugin, PodNetwork, string) {
	t.Helper()
	log := e.logFile("faulty.log")
	for _, n := range []string{"a", "b", "c"} {
		e.writeList("10-"+n+".conflist", n, "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	}
	p := e.plugin()
	pod := webPod(t, "sb1")
	pod.Networks = []NetAttachment{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	setUp(t, p, pod)
	return p, pod, log
}

// A DEL that fails on one network does not stop the others: every network
// gets its DEL in reverse order, the error names the failed network and
// carries its CNI error, and only its cache entry stays, so a later
// teardown retries it and succeeds.
func TestFaultDelFailureKeepsGoingAndRetries(t *testing.T) {
	e := newFaultEnv(t)
	p, pod, log := threeNetworkPod(t, e)
	e.control(map[string]any{"faults": map[string]string{"DEL:b": "error"}, "errorCode": 7, "errorMsg": "cannot delete"})

	err := p.TearDownPod(PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != 7 || ce.Msg != "cannot delete" {
		t.Fatalf("teardown error %v: want the plugin's code 7", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "del" || oe.Network != "b" || oe.Ifname != "eth1" {
		t.Fatalf("teardown error %v: want it to name network b, eth1", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"b-sb1-eth1"}) {
		t.Fatalf("cache = %v, want only b's entry kept", got)
	}

	e.control(nil)
	if err := p.TearDownPod(PodNetwork{ID: pod.ID}); err != nil {
		t.Fatalf("retried teardown: %v", err)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after retried teardown = %v", got)
	}
	want := []string{"ADD sb1 eth0", "ADD sb1 eth1", "ADD sb1 eth2",
		"DEL sb1 eth2", "DEL sb1 eth1", "DEL sb1 eth0",
		"DEL sb1 eth1"}
	if got := testutil.FaultyLog(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want %v", got, want)
	}
}

// Several DEL failures all come back, joined, each naming its network.
func TestFaultDelFailuresJoined(t *testing.T) {
	e := newFaultEnv(t)
	p, pod, _ := threeNetworkPod(t, e)
	e.control(map[string]any{"faults": map[string]string{"DEL:a": "error", "DEL:c": "garbage-exit1"}, "errorCode": 7})

	err := p.TearDownPod(PodNetwork{ID: pod.ID})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Fatalf("teardown error %v: want two DEL failures joined", err)
	}
	var failed []string
	for _, x := range joined.Unwrap() {
		var oe *OpError
		if !errors.As(x, &oe) {
			t.Fatalf("joined error %v is not an OpError", x)
		}
		failed = append(failed, oe.Network)
	}
	if !reflect.DeepEqual(failed, []string{"c", "a"}) {
		t.Fatalf("failed networks = %v, want c then a (reverse attach order)", failed)
	}
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != 7 || !errors.Is(err, ErrInvalidPluginOutput) {
		t.Fatalf("teardown error %v: want a's CNI error and c's invalid output", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"a-sb1-eth0", "c-sb1-eth2"}) {
		t.Fatalf("cache = %v, want a and c kept", got)
	}
}

// After a teardown whose DEL failed, status reports that the attachment
// owes a DEL and runs no CHECK on it (the CNI spec forbids a CHECK after a
// DEL); the retried teardown DELs it with the result cached at ADD. The
// old code left libcni's entry as it was, so status ran CHECK on it
// (issue 17.10).
func TestStatusAfterFailedDELRunsNoCheck(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	e.control(map[string]any{"faults": map[string]string{"DEL": "error"}})
	if err := p.TearDownPod(pod); err == nil {
		t.Fatal("teardown succeeded though its DEL failed")
	}
	e.control(nil)
	if _, err := p.GetPodNetworkStatus(pod); err == nil || !strings.Contains(err.Error(), "owes a DEL") {
		t.Fatalf("status error = %v, want it to say the attachment owes a DEL", err)
	}
	if !e.isOwed("net1-sb1-eth0") {
		t.Fatal("the entry of the failed DEL is not marked owed")
	}
	tearDown(t, p, pod)
	if got, want := testutil.FaultyCommands(t, log), []string{"ADD", "DEL", "DEL"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want %v and no CHECK", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the retried teardown = %v", got)
	}
}
