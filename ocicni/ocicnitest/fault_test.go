package ocicnitest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

func TestFaultOnceAppliesToFirstMatchOnly(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithFaults(ocicnitest.Fault{Verb: ocicnitest.VerbAdd, Code: 11, Msg: "busy", Once: true}))
	if _, err := p.SetUpPod(fakePod("one")); !ocicni.IsRetryable(err) {
		t.Fatalf("first setup = %v, want the scripted code 11", err)
	}
	if _, err := p.SetUpPod(fakePod("one")); err != nil {
		t.Fatalf("retry = %v, want success once the fault is spent", err)
	}
}

func TestFaultDefaultsAndNetworkMatching(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"))
	p.Inject(ocicnitest.Fault{Network: "b", Verb: ocicnitest.VerbAdd})
	if _, err := p.SetUpPod(fakePod("on-a", "a")); err != nil {
		t.Fatalf("setup on a = %v, want a fault of b to leave a alone", err)
	}
	_, err := p.SetUpPod(fakePod("on-b", "b"))
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != cnitypes.ErrInternal || ce.Msg != "scripted failure" {
		t.Fatalf("setup on b = %v, want code 999 \"scripted failure\"", err)
	}
	p.ClearFaults()
	if _, err := p.SetUpPod(fakePod("on-b", "b")); err != nil {
		t.Fatalf("setup after ClearFaults = %v", err)
	}
}

func TestFaultHangBoundedByPluginTimeout(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithPluginTimeout(20*time.Millisecond),
		ocicnitest.WithFaults(ocicnitest.Fault{Verb: ocicnitest.VerbDel, Hang: true}))
	pod := fakePod("one")
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	err := p.TearDownPod(pod)
	if !errors.Is(err, ocicni.ErrPluginTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("teardown = %v, want the hung DEL killed by the plugin timeout", err)
	}
	if got := p.Attached(pod.ID); len(got) != 1 {
		t.Fatalf("attached %v, want the attachment whose DEL hung kept", got)
	}
}

// A hanging operation holds only its own sandbox: other pods proceed.
func TestFaultHangBlocksOnlyItsSandbox(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("slow", "fast"),
		ocicnitest.WithFaults(ocicnitest.Fault{Network: "slow", Verb: ocicnitest.VerbAdd, Hang: true}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, fakePod("stuck", "slow"))
		done <- err
	}()
	waitStep(t, p, "stuck", ocicnitest.VerbAdd)
	if _, err := p.SetUpPod(fakePod("other", "fast")); err != nil {
		t.Fatal(err)
	}
	second, cancelSecond := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelSecond()
	if err := p.TearDownPodWithContext(second, fakePod("stuck")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("teardown of the busy sandbox = %v, want it to wait and give up with its context", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("hung setup = %v, want context.Canceled", err)
	}
}
