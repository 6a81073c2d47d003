package ocicni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/testutil"
)

// eventsOf returns the "CMD network" of the calls for sandbox id in a
// command log, in the order they happened.
func eventsOf(t *testing.T, log, id string) []string {
	t.Helper()
	var out []string
	for _, ev := range testutil.Events(t, log) {
		f := strings.Fields(ev)
		if len(f) >= 3 && f[2] == id {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out
}

// Two setups of one sandbox started at once, each attaching a different
// network, run one after the other under the pod lock; a teardown by
// sandbox ID then DELs in exactly the reverse of the order the plugins saw
// the ADDs, every time. The old code took the attach-order key (the time
// in microseconds, not forced to rise) before waiting for the pod lock, so
// two setups could get equal keys, or the one that lost the race for the
// lock the smaller key, and the teardown then DEL'd the first-attached
// network first. That window is narrow: against the old code this test
// fails in some runs only; TestAttachOrderKeysNeverOverlap pins the
// mechanism deterministically (in internal/attachstore).
func TestConcurrentSetUpsOfOneSandboxTearDownInReverseAddOrder(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	for i := range 20 {
		id := fmt.Sprintf("sb%d", i)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, n := range []NetAttachment{{Name: "a", Ifname: "net1"}, {Name: "b", Ifname: "net2"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[j] = p.SetUpPod(PodNetwork{ID: id, NetNS: ns, Networks: []NetAttachment{n}})
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: setup: %v", i, err)
			}
		}
		tearDown(t, p, PodNetwork{ID: id, NetNS: ns})
		got := eventsOf(t, log, id)
		if len(got) != 4 {
			t.Fatalf("round %d: plugin calls %v, want two ADDs and two DELs", i, got)
		}
		first, second := strings.Fields(got[0])[1], strings.Fields(got[1])[1]
		want := []string{"ADD " + first, "ADD " + second, "DEL " + second, "DEL " + first}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: plugin calls %v, want the DELs in reverse ADD order %v", i, got, want)
		}
	}
}

// A network attached after a restart comes off before the ones attached
// earlier even when the earlier process recorded keys ahead of the new
// process's clock (a clock stepped back across the restart): keys always
// follow the sandbox's recorded ones. The old keys were the wall clock
// alone, so the teardown DEL'd the earlier network first (issue 17.10).
func TestAttachOrderSurvivesClockSteppedBackAcrossRestart(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b")
	ns := testutil.NewNetNS(t)
	setUp(t, e.plugin(WithWatch(false)), PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "a", Ifname: "eth0"}}})
	// The first process's clock ran an hour ahead of the next one's.
	file := filepath.Join(e.cache, "results", "a-sb1-eth0")
	var entry map[string]any
	data, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(data, &entry)
	}
	if err != nil {
		t.Fatal(err)
	}
	entry["capabilityArgs"].(map[string]any)[attachstore.OrderKey] = time.Now().Add(time.Hour).UnixMicro()
	if err := os.WriteFile(file, []byte(testutil.MustJSON(entry)), 0o600); err != nil {
		t.Fatal(err)
	}
	next := e.plugin(WithWatch(false))
	setUp(t, next, PodNetwork{ID: "sb1", NetNS: ns, Networks: []NetAttachment{{Name: "b", Ifname: "eth1"}}})
	tearDown(t, next, PodNetwork{ID: "sb1", NetNS: ns})
	want := []string{"ADD a sb1 eth0", "ADD b sb1 eth1", "DEL b sb1 eth1", "DEL a sb1 eth0"}
	if got := testutil.Events(t, log); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want %v", got, want)
	}
}
