package ocicni

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// heldNet writes network "n", one faulty plugin whose ADD works on until
// the returned release file exists, and builds a Plugin on it.
func heldNet(t *testing.T, e *env, opts ...Option) (p *Plugin, log, release string) {
	t.Helper()
	log = e.logFile("faulty.log")
	release = filepath.Join(t.TempDir(), "release")
	e.writeList("10-n.conflist", "n", "1.0.0", nil, testutil.FaultyPlugin(log, map[string]string{"ADD": "hold"}, "releaseFile", release))
	return e.plugin(append([]Option{WithWatch(false)}, opts...)...), log, release
}

func addsStarted(t *testing.T, log string, n int) func() bool {
	return func() bool {
		got := 0
		for _, c := range testutil.FaultyCommands(t, log) {
			if c == "ADD" {
				got++
			}
		}
		return got >= n
	}
}

// A retry of a setup still in flight waits for it and gets its results,
// where it used to wait for the pod lock and then fail with
// ErrAlreadyAttached; the plugin runs one ADD.
func TestSetUpRetryJoinsSetupInFlight(t *testing.T) {
	e := newFaultEnv(t)
	p, log, release := heldNet(t, e)
	pod := PodNetwork{ID: "sb1", Name: "web", Namespace: "shop", NetNS: testutil.NewNetNS(t)}
	first := setUpAsync(context.Background(), p, pod)
	testutil.Eventually(t, waitFor, addsStarted(t, log, 1), "the first ADD never started")
	second := setUpAsync(context.Background(), p, pod)
	testutil.Eventually(t, waitFor, func() bool { return p.setups.joined("sb1") == 1 }, "the retry never joined the setup in flight")
	testutil.WriteFile(t, release, nil)

	o1, o2 := outcomeOf(t, first, "the first setup"), outcomeOf(t, second, "the retry")
	if o1.err != nil || o2.err != nil {
		t.Fatalf("setup = %v, retry = %v; want both to succeed", o1.err, o2.err)
	}
	if len(o2.results) != 1 || firstIP(t, o2.results[0].Result) != firstIP(t, o1.results[0].Result) || o2.results[0].Ifname != "eth0" {
		t.Fatalf("retry results = %+v, want the first setup's %+v", o2.results, o1.results)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("plugin got %v, want one ADD", got)
	}
}

// A different request for the sandbox does not join the setup in flight:
// it waits for the pod lock and is refused as before.
func TestSetUpDifferentRequestDoesNotJoin(t *testing.T) {
	e := newFaultEnv(t)
	p, log, release := heldNet(t, e)
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n"}}}
	first := setUpAsync(context.Background(), p, pod)
	testutil.Eventually(t, waitFor, addsStarted(t, log, 1), "the first ADD never started")
	other := pod
	other.RuntimeConfig = map[string]RuntimeConfig{"n": {IP: "10.99.0.9"}}
	second := setUpAsync(context.Background(), p, other)
	if n := p.setups.joined("sb1"); n != 0 {
		t.Fatalf("%d callers joined; a different request must not", n)
	}
	testutil.WriteFile(t, release, nil)
	if o := outcomeOf(t, first, "the first setup"); o.err != nil {
		t.Fatal(o.err)
	}
	if o := outcomeOf(t, second, "the different request"); !errors.Is(o.err, ErrAlreadyAttached) {
		t.Fatalf("different request = %v, want ErrAlreadyAttached", o.err)
	}
}

// When the setup joined ends because its own caller gave up, the retry
// does not inherit that cancellation: it runs the setup itself, after the
// first one's rollback.
func TestSetUpRetryRunsAgainWhenFirstCallerGaveUp(t *testing.T) {
	e := newFaultEnv(t)
	p, log, release := heldNet(t, e)
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := setUpAsync(ctx, p, pod)
	testutil.Eventually(t, waitFor, addsStarted(t, log, 1), "the first ADD never started")
	second := setUpAsync(context.Background(), p, pod)
	testutil.Eventually(t, waitFor, func() bool { return p.setups.joined("sb1") == 1 }, "the retry never joined the setup in flight")
	cancel()
	if o := outcomeOf(t, first, "the cancelled setup"); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("cancelled setup = %v, want context.Canceled", o.err)
	}
	testutil.Eventually(t, waitFor, addsStarted(t, log, 2), "the retry never ran its own ADD")
	testutil.WriteFile(t, release, nil)
	o := outcomeOf(t, second, "the retry")
	if o.err != nil || len(o.results) != 1 {
		t.Fatalf("retry = %+v, %v; want its own successful setup", o.results, o.err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL", "ADD"}) {
		t.Fatalf("plugin got %v, want the first ADD, its rollback DEL, the retry's ADD", got)
	}
}

// A caller waiting for a setup in flight stops waiting when its own
// context ends; the setup it waited for goes on.
func TestSetUpRetryWaitEndsWithItsContext(t *testing.T) {
	e := newFaultEnv(t)
	p, log, release := heldNet(t, e)
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	first := setUpAsync(context.Background(), p, pod)
	testutil.Eventually(t, waitFor, addsStarted(t, log, 1), "the first ADD never started")
	ctx, cancel := context.WithCancel(context.Background())
	second := setUpAsync(ctx, p, pod)
	testutil.Eventually(t, waitFor, func() bool { return p.setups.joined("sb1") == 1 }, "the retry never joined the setup in flight")
	cancel()
	if o := outcomeOf(t, second, "the retry"); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("retry = %v, want context.Canceled", o.err)
	}
	testutil.WriteFile(t, release, nil)
	if o := outcomeOf(t, first, "the first setup"); o.err != nil {
		t.Fatalf("first setup = %v; the retry giving up must not end it", o.err)
	}
}

// setupOutcome is what one SetUpPod returned.
type setupOutcome struct {
	results []NetResult
	err     error
}

// setUpAsync runs SetUpPodWithContext on a goroutine of its own.
func setUpAsync(ctx context.Context, p *Plugin, pod PodNetwork) <-chan setupOutcome {
	out := make(chan setupOutcome, 1)
	go func() {
		res, err := p.SetUpPodWithContext(ctx, pod)
		out <- setupOutcome{res, err}
	}()
	return out
}

// outcomeOf waits, bounded, for an asynchronous setup to return.
func outcomeOf(t *testing.T, ch <-chan setupOutcome, what string) setupOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(waitFor):
		t.Fatalf("%s never returned", what)
		return setupOutcome{}
	}
}
