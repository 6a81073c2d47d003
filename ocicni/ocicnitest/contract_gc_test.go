package ocicnitest_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// GC's contract: what it removes, what it refuses, and what it lets run
// beside it. The fake and the real plugin must agree on all three.
func TestContractGCFake(t *testing.T) { runGCContract(t, newFakeSubject) }

func TestContractGCReal(t *testing.T) {
	testutil.RequireRoot(t)
	runGCContract(t, newRealSubject)
}

func runGCContract(t *testing.T, newSubject func(*testing.T) *subject) {
	a := func(name, ifname string) ocicni.NetAttachment {
		return ocicni.NetAttachment{Name: name, Ifname: ifname}
	}

	t.Run("GCRemovesOnlyStale", func(t *testing.T) {
		s := newSubject(t)
		keep, stale := s.pod("keep"), s.pod("stale", a(netA, ""), a(netB, ""))
		for _, p := range []ocicni.PodNetwork{keep, stale} {
			if _, err := s.plugin.SetUpPod(p); err != nil {
				t.Fatal(err)
			}
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.plugin.GC(cancelled, []*ocicni.PodNetwork{&keep}); !errors.Is(err, context.Canceled) {
			t.Fatalf("GC with a cancelled context = %v, want context.Canceled", err)
		}
		if got := s.ops(stale.ID); !reflect.DeepEqual(got[:2], []string{"ADD eth0", "ADD eth1"}) {
			t.Fatalf("ops of the stale pod %v", got)
		}
		if err := s.plugin.GC(context.Background(), []*ocicni.PodNetwork{&keep}); err != nil {
			t.Fatal(err)
		}
		stale.Networks = nil
		if st, err := s.plugin.GetPodNetworkStatus(stale); !errors.Is(err, ocicni.ErrNotAttached) || len(st) != 0 {
			t.Fatalf("stale pod after GC: %v, %v; want nothing attached (ErrNotAttached)", attachments(st), err)
		}
		if got := s.ops(stale.ID); len(got) < 4 || got[len(got)-1] != "DEL eth0" && got[len(got)-1] != "DEL eth1" {
			t.Fatalf("ops of the stale pod %v, want its attachments DEL'd", got)
		}
		st, err := s.plugin.GetPodNetworkStatus(keep)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(st); !reflect.DeepEqual(got, []string{netA + "/eth0"}) {
			t.Fatalf("valid pod after GC: %v, want it kept", got)
		}
	})

	t.Run("GCWaitsForSetUpAndGivesUpWithContext", func(t *testing.T) {
		s := newSubject(t)
		s.hang(netA, ocicnitest.VerbAdd)
		pod := s.pod("web")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := s.plugin.SetUpPodWithContext(ctx, pod)
			done <- err
		}()
		testutil.Eventually(t, 30*time.Second, func() bool { return len(s.ops(pod.ID)) > 0 }, "the ADD did not start")
		gctx, gcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer gcancel()
		if err := s.plugin.GC(gctx, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GC during a setup = %v, want it to wait and give up with its context", err)
		}
		cancel()
		<-done
		s.clear()
		if err := s.plugin.GC(context.Background(), nil); err != nil {
			t.Fatalf("GC once the setup ended = %v", err)
		}
	})

	// Only the GC verb excludes setups and teardowns: while GC's DEL of a
	// stale sandbox hangs, another pod is set up.
	t.Run("GCDelOfStaleSandboxLetsOtherPodsSetUp", func(t *testing.T) {
		s := newSubject(t)
		stale := s.pod("stale")
		if _, err := s.plugin.SetUpPod(stale); err != nil {
			t.Fatal(err)
		}
		s.hang(netA, ocicnitest.VerbDel)
		gctx, gcancel := context.WithCancel(context.Background())
		defer gcancel()
		gcDone := make(chan error, 1)
		go func() { gcDone <- s.plugin.GC(gctx, nil) }()
		testutil.Eventually(t, 30*time.Second, func() bool { return slices.Contains(s.ops(stale.ID), "DEL eth0") },
			"GC never DEL'd the stale sandbox")

		other := s.pod("other", a(netB, ""))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := s.plugin.SetUpPodWithContext(ctx, other)
		if err != nil {
			t.Fatalf("setup while GC DELs a stale sandbox = %v, want it to proceed", err)
		}
		if got := attachments(res); !reflect.DeepEqual(got, []string{netB + "/eth0"}) {
			t.Fatalf("attached %v during GC", got)
		}
		select {
		case err := <-gcDone:
			t.Fatalf("GC returned %v while its DEL hangs", err)
		default:
		}
		gcancel()
		if err := <-gcDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("GC cancelled during a hanging DEL = %v, want context.Canceled", err)
		}
		s.clear()
		if err := s.plugin.TearDownPod(other); err != nil {
			t.Fatal(err)
		}
	})

	// GC refuses what it cannot report to the plugins, before it removes
	// anything: the stale pod stays attached.
	t.Run("GCRefusesInvalidValidPodsBeforeRemovingAnything", func(t *testing.T) {
		s := newSubject(t)
		stale := s.pod("stale")
		if _, err := s.plugin.SetUpPod(stale); err != nil {
			t.Fatal(err)
		}
		keep := s.pod("keep")
		noID := s.pod("noid")
		noID.ID = ""
		badIfname := s.pod("badif", a(netA, "a/b"))
		twice := s.pod("twice", a(netA, "x0"), a(netB, "x0"))
		for name, valid := range map[string][]*ocicni.PodNetwork{
			"nil pod":            {&keep, nil},
			"no sandbox ID":      {&noID},
			"bad interface name": {&keep, &badIfname},
			"duplicate ifname":   {&twice},
		} {
			if err := s.plugin.GC(context.Background(), valid); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
				t.Errorf("GC with %s = %v, want ErrInvalidPodNetwork", name, err)
			}
		}
		if got := s.ops(stale.ID); !reflect.DeepEqual(got, []string{"ADD eth0"}) {
			t.Fatalf("ops of the stale pod %v after refused GCs, want only its ADD", got)
		}
		st, err := s.plugin.GetPodNetworkStatus(stale)
		if err != nil || !reflect.DeepEqual(attachments(st), []string{netA + "/eth0"}) {
			t.Fatalf("stale pod after refused GCs: %v, %v; want it still attached", attachments(st), err)
		}
	})
}
