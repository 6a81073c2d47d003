package ocicnitest_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

func TestStatusWithoutNetworksIsNotReady(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks())
	if err := p.Status(); !errors.Is(err, ocicni.ErrNotReady) || !errors.Is(err, ocicni.ErrNoDefaultNetwork) {
		t.Fatalf("Status = %v, want ErrNotReady and ErrNoDefaultNetwork", err)
	}
	if _, err := p.SetUpPod(fakePod("one")); !errors.Is(err, ocicni.ErrNotReady) {
		t.Fatalf("setup on the default network = %v, want ErrNotReady", err)
	}
	if p.GetDefaultNetworkName() != "" {
		t.Fatalf("default network %q, want none", p.GetDefaultNetworkName())
	}
}

func TestStatusDefaultNetworkNotLoaded(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks("a", "b"), ocicnitest.WithDefaultNetwork("c"))
	if err := p.Status(); !errors.Is(err, ocicni.ErrNoDefaultNetwork) {
		t.Fatalf("Status = %v, want ErrNoDefaultNetwork", err)
	}
	p.SetNetworks("a", "c")
	if err := p.Status(); err != nil || p.GetDefaultNetworkName() != "c" {
		t.Fatalf("Status = %v, default %q, want ready on c", err, p.GetDefaultNetworkName())
	}
}

func TestWaitReadyWakesOnSetNetworks(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithNetworks())
	view := p.Networks()
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(context.Background()) }()
	p.SetNetworks("late")
	if err := <-done; err != nil {
		t.Fatalf("WaitReady = %v, want ready once a network is loaded", err)
	}
	select {
	case <-view.Changed:
	default:
		t.Fatal("the old view's Changed did not close")
	}
	now := p.Networks()
	if now.Default != "late" || len(now.Networks) != 1 || !reflect.DeepEqual(now.Networks[0].PluginTypes, []string{"ocicnitest"}) {
		t.Fatalf("view %+v", now)
	}
}

func TestWaitReadyEndsWithContextAndShutdown(t *testing.T) {
	p := ocicnitest.New(ocicnitest.WithFaults(ocicnitest.Fault{Verb: ocicnitest.VerbStatus, Code: 11}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.WaitReady(ctx); !errors.Is(err, ocicni.ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady = %v, want ErrNotReady and the context's error", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(context.Background()) }()
	if err := p.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ocicni.ErrShutdown) {
		t.Fatalf("WaitReady during Shutdown = %v, want ErrShutdown", err)
	}
	p.ClearFaults()
	if err := p.WaitReady(context.Background()); !errors.Is(err, ocicni.ErrShutdown) {
		t.Fatalf("WaitReady after Shutdown = %v, want ErrShutdown", err)
	}
}
