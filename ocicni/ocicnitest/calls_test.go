package ocicnitest_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

func TestCallsRecordEveryCallWithItsSteps(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	pod := fakePod("web", "a", "b")
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	p.Inject(ocicnitest.Fault{Network: "a", Verb: ocicnitest.VerbDel, Code: 5})
	tdErr := p.TearDownPod(fakePod("web"))
	if err := p.GC(context.Background(), []*ocicni.PodNetwork{&pod}); err != nil {
		t.Fatal(err)
	}

	calls := p.Calls()
	var got []string
	for _, c := range calls {
		if !c.Done {
			t.Fatalf("%s not done", c.Method)
		}
		line := fmt.Sprintf("%s %s/%s(%s) err=%t:", c.Method, c.Pod.Namespace, c.Pod.Name, c.Pod.ID, c.Err != nil)
		for _, s := range c.Steps {
			line += fmt.Sprintf(" %s[%s %s %s err=%t]", s.Verb, s.Sandbox, s.Network, s.Ifname, s.Err != nil)
		}
		got = append(got, line)
	}
	want := []string{
		"SetUpPod ns/web(web) err=false: ADD[web a eth0 err=false] ADD[web b eth1 err=false]",
		"TearDownPod ns/web(web) err=true: DEL[web b eth1 err=false] DEL[web a eth0 err=true]",
		"GC /() err=false: GC[ a  err=false] GC[ b  err=false]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("calls:\n%q\nwant:\n%q", got, want)
	}
	if calls[1].Err != tdErr {
		t.Fatalf("recorded error %v, want what the call returned (%v)", calls[1].Err, tdErr)
	}
	if !reflect.DeepEqual(calls[0].Networks, pod.Networks) || !reflect.DeepEqual(calls[2].ValidPods, []string{"web"}) {
		t.Fatalf("recorded networks %v and valid pods %v", calls[0].Networks, calls[2].ValidPods)
	}
	calls[0].Steps[0].Network = "changed"
	if p.Calls()[0].Steps[0].Network != "a" {
		t.Fatal("changing a returned Call changed the record")
	}
}

// Concurrent calls on many pods keep the fake consistent and race-free
// (run with -race): every pod ends up with its own address and every call
// is recorded once.
func TestCallsConcurrentPods(t *testing.T) {
	p := ocicnitest.New()
	const pods = 32
	var wg sync.WaitGroup
	errs := make(chan error, pods+1)
	for i := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pod := fakePod(fmt.Sprintf("p%d", i))
			if _, err := p.SetUpPod(pod); err != nil {
				errs <- err
				return
			}
			if _, err := p.GetPodNetworkStatus(pod); err != nil {
				errs <- err
			}
			_ = p.Calls()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- p.GC(context.Background(), nil)
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(p.Calls()); got != 2*pods+1 {
		t.Fatalf("%d calls recorded, want %d", got, 2*pods+1)
	}
}
