package ocicnitest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// After Shutdown every operation fails with ErrShutdown, on the fake as
// on the real plugin, while the loaded networks can still be read.
func TestContractShutdownFake(t *testing.T) { runShutdownContract(t, newFakeSubject) }

func TestContractShutdownReal(t *testing.T) {
	testutil.RequireRoot(t)
	runShutdownContract(t, newRealSubject)
}

func runShutdownContract(t *testing.T, newSubject func(*testing.T) *subject) {
	t.Run("ShutdownIdempotentAndLaterOperationsFail", func(t *testing.T) {
		s := newSubject(t)
		for range 2 {
			if err := s.plugin.Shutdown(); err != nil {
				t.Fatal(err)
			}
		}
		pod := s.pod("web")
		if _, err := s.plugin.SetUpPod(pod); !errors.Is(err, ocicni.ErrShutdown) {
			t.Errorf("setup after Shutdown = %v, want ErrShutdown", err)
		}
		if err := s.plugin.TearDownPod(pod); !errors.Is(err, ocicni.ErrShutdown) {
			t.Errorf("teardown after Shutdown = %v, want ErrShutdown", err)
		}
		if _, err := s.plugin.GetPodNetworkStatus(pod); !errors.Is(err, ocicni.ErrShutdown) {
			t.Errorf("status after Shutdown = %v, want ErrShutdown", err)
		}
		if err := s.plugin.GC(context.Background(), nil); !errors.Is(err, ocicni.ErrShutdown) {
			t.Errorf("GC after Shutdown = %v, want ErrShutdown", err)
		}
		if err := s.plugin.Status(); !errors.Is(err, ocicni.ErrShutdown) || !errors.Is(err, ocicni.ErrNotReady) {
			t.Errorf("Status after Shutdown = %v, want ErrShutdown and ErrNotReady", err)
		}
		if got := s.plugin.GetDefaultNetworkName(); got != netA {
			t.Errorf("default network after Shutdown %q, want %q still reported", got, netA)
		}
		if got := s.ops(pod.ID); len(got) != 0 {
			t.Errorf("ops %v after Shutdown, want none", got)
		}
	})
}
