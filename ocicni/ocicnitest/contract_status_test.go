package ocicnitest_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// CRI-O's restore asks every sandbox for its status with Networks empty
// and takes [0] of the answer unchecked; the fake and the real plugin
// agree on what it gets.
func TestContractStatusAsCRIOFake(t *testing.T) { runStatusContract(t, newFakeSubject) }

func TestContractStatusAsCRIOReal(t *testing.T) {
	testutil.RequireRoot(t)
	runStatusContract(t, newRealSubject)
}

func runStatusContract(t *testing.T, newSubject func(*testing.T) *subject) {
	t.Run("EmptyNetworksIsDefaultOnEth0", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web")
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		st, err := s.plugin.GetPodNetworkStatus(pod)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(st); !reflect.DeepEqual(got, []string{netA + "/eth0"}) {
			t.Fatalf("status %v, want the default network on eth0 first", got)
		}
		address(t, st[0], s.subnets[netA], "eth0", pod.NetNS)
	})

	t.Run("NothingAttachedIsErrNotAttached", func(t *testing.T) {
		s := newSubject(t)
		stopped, never := s.pod("stopped"), s.pod("never")
		if _, err := s.plugin.SetUpPod(stopped); err != nil {
			t.Fatal(err)
		}
		if err := s.plugin.TearDownPod(stopped); err != nil {
			t.Fatal(err)
		}
		for _, pod := range []ocicni.PodNetwork{stopped, never} {
			st, err := s.plugin.GetPodNetworkStatus(pod)
			var op *ocicni.OpError
			if len(st) != 0 || !errors.Is(err, ocicni.ErrNotAttached) || !errors.As(err, &op) || op.Network != netA || op.Ifname != "eth0" {
				t.Fatalf("%s: status %v, %v; want ErrNotAttached for %s on eth0", pod.Name, attachments(st), err, netA)
			}
		}
	})

	t.Run("NamedNetworkNotAttached", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web")
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		pod.Networks = []ocicni.NetAttachment{{Name: netB, Ifname: "net1"}}
		if st, err := s.plugin.GetPodNetworkStatus(pod); len(st) != 0 || !errors.Is(err, ocicni.ErrNotAttached) {
			t.Fatalf("status %v, %v; want ErrNotAttached", attachments(st), err)
		}
	})
}
