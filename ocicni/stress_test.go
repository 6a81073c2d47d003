package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netplumb/ocicni/internal/testutil"
)

const (
	stressPods   = 50
	stressCycles = 4
)

// stressState tracks which pods may have attachments. GC's valid list is
// taken and used under mu, so no pod starts a setup between the list being
// made and GC running: that would be the caller's race, not the library's.
type stressState struct {
	mu     sync.Mutex
	active map[string]bool
	up     map[string]bool
}

func (s *stressState) set(id string, active, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active[id], s.up[id] = active, up
}

// churn rewrites, renames and breaks files in the conf dir, one change per
// tick, so reloads run alongside every kind of pod operation.
func churn(t *testing.T, dir string, i int) {
	b := func(mtu int) string {
		return fmt.Sprintf(`{"cniVersion":"1.1.0","name":"b","plugins":[{"type":"faulty","mtu":%d}]}`, mtu)
	}
	var err error
	switch i % 6 {
	case 0: // atomic rewrite, as a careful network provider does
		tmp := filepath.Join(dir, ".b.tmp")
		if err = os.WriteFile(tmp, []byte(b(1400+i)), 0o644); err == nil {
			err = os.Rename(tmp, filepath.Join(dir, "20-b.conflist"))
		}
	case 1: // in-place rewrite: a reload may see it half written
		err = os.WriteFile(filepath.Join(dir, "20-b.conflist"), []byte(b(1500+i)), 0o644)
	case 2:
		err = os.WriteFile(filepath.Join(dir, "30-c.conflist.new"), []byte(`{"cniVersion":"1.1.0","name":"c","plugins":[{"type":"faulty"}]}`), 0o644)
	case 3:
		err = os.Rename(filepath.Join(dir, "30-c.conflist.new"), filepath.Join(dir, "30-c.conflist"))
	case 4:
		err = os.WriteFile(filepath.Join(dir, "40-bad.conf"), []byte(`{"cniVersion":`), 0o644)
	case 5:
		if err = os.Remove(filepath.Join(dir, "40-bad.conf")); err == nil {
			err = os.Remove(filepath.Join(dir, "30-c.conflist"))
		}
	}
	if err != nil {
		t.Errorf("churn step %d: %v", i, err)
	}
}

// Fifty pods go through setups, status calls and teardowns in parallel
// while GC and Status run and the conf dir churns. Nothing deadlocks, every
// failure is one the churn explains, no goroutine outlives Shutdown, and
// the cache ends holding exactly the attachments of the pods still up.
func TestStressConcurrentPodsUnderConfigChurn(t *testing.T) {
	testutil.RequireRoot(t)
	if testing.Short() {
		t.Skip("skipped: stress test in -short mode")
	}
	leaks := goleak.IgnoreCurrent()
	e := newFaultEnv(t)
	testutil.WriteJSON(t, e.confDir, "10-a.conflist", `{"cniVersion":"1.1.0","name":"a","plugins":[{"type":"faulty"}]}`)
	testutil.WriteJSON(t, e.confDir, "20-b.conflist", `{"cniVersion":"1.1.0","name":"b","plugins":[{"type":"faulty","mtu":1400}]}`)
	p := e.plugin(WithPluginTimeout(time.Minute))
	pods := make([]PodNetwork, stressPods)
	for i := range pods {
		pods[i] = PodNetwork{Name: fmt.Sprintf("pod%d", i), Namespace: "stress", ID: fmt.Sprintf("sb%02d", i),
			UID: fmt.Sprintf("uid%d", i), NetNS: testutil.NewNetNS(t),
			Networks: []NetAttachment{{Name: "a"}, {Name: "b"}}}
	}
	st := &stressState{active: map[string]bool{}, up: map[string]bool{}}
	ctx := context.Background()
	var setups, setupFailures, teardowns, statuses, gcs atomic.Int64
	churnTick, gcTick := make(chan struct{}, 1), make(chan struct{}, 1)
	tick := func() {
		select {
		case churnTick <- struct{}{}:
		default:
		}
		if (setups.Load()+teardowns.Load())%10 == 0 {
			select {
			case gcTick <- struct{}{}:
			default:
			}
		}
	}

	setUp := func(pod PodNetwork) bool {
		st.set(pod.ID, true, false)
		_, err := p.SetUpPodWithContext(ctx, pod)
		setups.Add(1)
		tick()
		if err != nil {
			// The churn can make b briefly invalid or absent.
			if !errors.Is(err, ErrNetworkNotFound) {
				t.Errorf("setup %s: %v", pod.ID, err)
			}
			setupFailures.Add(1)
			st.set(pod.ID, false, false)
			return false
		}
		st.set(pod.ID, true, true)
		return true
	}
	var workers sync.WaitGroup
	for i, pod := range pods {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c := 0; c < stressCycles; c++ {
				if setUp(pod) {
					res, err := p.GetPodNetworkStatusWithContext(ctx, PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
					statuses.Add(1)
					if err != nil || len(res) != 2 {
						t.Errorf("status %s: %d results, %v", pod.ID, len(res), err)
					}
				}
				if err := p.TearDownPodWithContext(ctx, PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
					t.Errorf("teardown %s: %v", pod.ID, err)
				}
				teardowns.Add(1)
				st.set(pod.ID, false, false)
				tick()
			}
			if i%2 == 0 {
				for !setUp(pod) {
				}
			}
		}()
	}
	stop := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Add(2)
	go func() {
		defer helpers.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-churnTick:
				churn(t, e.confDir, i)
				_ = p.Status()
				_ = p.Networks()
			}
		}
	}()
	go func() {
		defer helpers.Done()
		for {
			select {
			case <-stop:
				return
			case <-gcTick:
				st.mu.Lock()
				var valid []*PodNetwork
				for i := range pods {
					if st.active[pods[i].ID] {
						valid = append(valid, &pods[i])
					}
				}
				err := p.GC(ctx, valid)
				st.mu.Unlock()
				gcs.Add(1)
				if err != nil {
					t.Errorf("GC: %v", err)
				}
			}
		}
	}()

	finished := make(chan struct{})
	go func() { workers.Wait(); close(stop); helpers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(3 * time.Minute):
		t.Fatalf("pod operations did not finish within 3m: deadlock?\n%s", allStacks())
	}
	t.Logf("%d setups (%d failed through churn), %d status calls, %d teardowns, %d GCs",
		setups.Load(), setupFailures.Load(), statuses.Load(), teardowns.Load(), gcs.Load())
	if setups.Load()-setupFailures.Load() < stressPods*stressCycles/2 {
		t.Fatalf("only %d of %d setups succeeded: the churn hid the test", setups.Load()-setupFailures.Load(), setups.Load())
	}

	var want []string
	for _, pod := range pods {
		if st.up[pod.ID] {
			want = append(want, "a-"+pod.ID+"-eth0", "b-"+pod.ID+"-eth1")
		}
	}
	sort.Strings(want)
	if got := e.cacheFiles(); !slices.Equal(got, want) {
		t.Fatalf("cache holds %d entries, want %d for the %d pods still up:\ngot  %v\nwant %v", len(got), len(want), len(want)/2, got, want)
	}
	for _, pod := range pods {
		if err := p.TearDownPodWithContext(ctx, PodNetwork{ID: pod.ID}); err != nil {
			t.Errorf("final teardown %s: %v", pod.ID, err)
		}
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after tearing every pod down = %v", got)
	}
	if n := p.pods.size(); n != 0 {
		t.Fatalf("%d pod locks left behind", n)
	}
	if err := p.Shutdown(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, leaks)
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
