package ocicni

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// waitBound bounds every wait for something that must happen while a slow
// plugin is in flight; the slow plugin itself would run for a minute.
const waitBound = 20 * time.Second

// slowSetUp starts setting pod up in the background and returns its
// cancel function and result channel.
func slowSetUp(p *Plugin, pod PodNetwork) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, pod)
		done <- err
	}()
	return cancel, done
}

func TestDifferentPodsSetUpInParallel(t *testing.T) {
	e := newEnv(t)
	marks := e.slowPlugin()
	e.writeList("10-slow.conflist", "slow", "1.0.0", nil, map[string]any{"type": "slow"})
	p := e.plugin(WithWatch(false))
	cancelA, doneA := slowSetUp(p, PodNetwork{ID: "a", NetNS: testutil.NewNetNS(t)})
	defer cancelA()
	cancelB, doneB := slowSetUp(p, PodNetwork{ID: "b", NetNS: testutil.NewNetNS(t)})
	defer cancelB()
	// Neither ADD can end before it is cancelled, so both being in flight
	// at once proves they run in parallel.
	testutil.Eventually(t, waitBound, func() bool { return started(marks, "a") && started(marks, "b") },
		"the two pods' ADDs were not in flight together")
	cancelA()
	cancelB()
	for _, done := range []<-chan error{doneA, doneB} {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("setup err = %v, want context.Canceled", err)
		}
	}
}

func TestSamePodOperationsSerialize(t *testing.T) {
	e := newEnv(t)
	marks, log := e.slowNet("1.0.0")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "a", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "slow"}}}
	cancel, done := slowSetUp(p, pod)
	defer cancel()
	testutil.Eventually(t, waitBound, func() bool { return started(marks, "a") }, "slow ADD never started")

	// Each operation gives up waiting for the pod's lock at its deadline,
	// without having run a plugin.
	ctx, cancelOp := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelOp()
	if err := p.TearDownPodWithContext(ctx, pod); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for another operation on sandbox a") {
		t.Fatalf("teardown during setup = %v, want it to wait for the pod's lock", err)
	}
	if _, err := p.GetPodNetworkStatusWithContext(ctx, pod); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("status during setup = %v, want it to wait for the pod's lock", err)
	}
	if _, err := p.SetUpPodWithContext(ctx, pod); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second setup during setup = %v, want it to wait for the pod's lock", err)
	}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, []string{"ADD slow a eth0"}) {
		t.Fatalf("plugin calls while the pod was locked = %v", ev)
	}
	cancel()
	<-done
	// Once the setup is done, the pod's next operation goes ahead.
	tearDown(t, p, pod)
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, []string{"ADD slow a eth0", "DEL slow a eth0", "DEL slow a eth0"}) {
		t.Fatalf("plugin calls = %v", ev)
	}
	if n := p.pods.size(); n != 0 {
		t.Fatalf("%d pod locks left behind", n)
	}
}

func TestSlowPluginBlocksNeitherReloadNorStatusNorOtherPods(t *testing.T) {
	e := newEnv(t)
	marks := e.slowPlugin()
	fast := e.noopNet("10-fast.conflist", "fast", "1.1.0", "10.0.0.1", "")
	e.writeList("20-slow.conflist", "slow", "1.0.0", nil, map[string]any{"type": "slow"})
	p := e.plugin(WithWatch(false))
	cancel, done := slowSetUp(p, PodNetwork{ID: "a", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "slow"}}})
	defer cancel()
	testutil.Eventually(t, waitBound, func() bool { return started(marks, "a") }, "slow ADD never started")

	otherNS := testutil.NewNetNS(t)
	others := make(chan error, 1)
	go func() {
		others <- func() error {
			e.noopNet("30-new.conflist", "new", "1.0.0", "10.0.0.3", "")
			if got := testutil.NetworkNames(p.Networks()); !reflect.DeepEqual(got, []string{"fast", "slow", "new"}) {
				return errors.New("reload did not pick up the new file: " + strings.Join(got, ","))
			}
			if err := p.Status(); err != nil {
				return err
			}
			if _, err := p.SetUpPod(PodNetwork{ID: "b", NetNS: otherNS}); err != nil {
				return err
			}
			return p.TearDownPod(PodNetwork{ID: "b", NetNS: otherNS})
		}()
	}()
	select {
	case err := <-others:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitBound):
		t.Fatal("reload, Status or another pod's setup stalled behind a slow plugin")
	}
	select {
	case err := <-done:
		t.Fatalf("slow setup ended early: %v", err)
	default:
	}
	if got := testutil.Commands(t, fast.log); !reflect.DeepEqual(got, []string{"STATUS", "ADD", "DEL"}) {
		t.Fatalf("fast network's plugin got %v", got)
	}
	cancel()
	<-done
}
