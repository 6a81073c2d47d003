package ocicnitest_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// The fake and the real library keep one contract: the same suite runs
// against both, so they cannot drift apart.
func TestContractFake(t *testing.T) { runContract(t, newFakeSubject) }

func TestContractReal(t *testing.T) {
	testutil.RequireRoot(t)
	runContract(t, newRealSubject)
}

// runContract checks what a runtime relies on in a CNIPlugin. Each subtest
// gets a fresh subject from newSubject.
func runContract(t *testing.T, newSubject func(*testing.T) *subject) {
	a := func(name, ifname string) ocicni.NetAttachment {
		return ocicni.NetAttachment{Name: name, Ifname: ifname}
	}

	t.Run("SetUpDefaultNetwork", func(t *testing.T) {
		s := newSubject(t)
		if got := s.plugin.GetDefaultNetworkName(); got != netA {
			t.Fatalf("default network %q, want %q", got, netA)
		}
		pod := s.pod("web")
		res, err := s.plugin.SetUpPod(pod)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(res); !reflect.DeepEqual(got, []string{netA + "/eth0"}) {
			t.Fatalf("attached %v, want the default network on eth0", got)
		}
		address(t, res[0], s.subnets[netA], "eth0", pod.NetNS)
		if err := s.plugin.Status(); err != nil {
			t.Fatalf("Status = %v, want ready", err)
		}
	})

	t.Run("DistinctAddressesPerPod", func(t *testing.T) {
		s := newSubject(t)
		p1, p2 := s.pod("one"), s.pod("two")
		r1, err := s.plugin.SetUpPod(p1)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.plugin.SetUpPod(p2)
		if err != nil {
			t.Fatal(err)
		}
		ip1 := address(t, r1[0], s.subnets[netA], "eth0", p1.NetNS)
		ip2 := address(t, r2[0], s.subnets[netA], "eth0", p2.NetNS)
		if ip1.Equal(ip2) {
			t.Fatalf("both pods got %s", ip1)
		}
	})

	t.Run("InterfaceNamesRequestedFirst", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netA, ""), a(netB, "eth0"))
		res, err := s.plugin.SetUpPod(pod)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(res); !reflect.DeepEqual(got, []string{netA + "/eth1", netB + "/eth0"}) {
			t.Fatalf("attached %v, want requested eth0 reserved and net-a on eth1, in attach order", got)
		}
		address(t, res[0], s.subnets[netA], "eth1", pod.NetNS)
		address(t, res[1], s.subnets[netB], "eth0", pod.NetNS)
	})

	t.Run("AlreadyAttachedLeavesAttachmentUntouched", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web")
		first, err := s.plugin.SetUpPod(pod)
		if err != nil {
			t.Fatal(err)
		}
		want := address(t, first[0], s.subnets[netA], "eth0", pod.NetNS)
		if _, err := s.plugin.SetUpPod(pod); !errors.Is(err, ocicni.ErrAlreadyAttached) {
			t.Fatalf("second setup = %v, want ErrAlreadyAttached", err)
		}
		st, err := s.plugin.GetPodNetworkStatus(pod)
		if err != nil {
			t.Fatal(err)
		}
		if got := address(t, st[0], s.subnets[netA], "eth0", pod.NetNS); !got.Equal(want) {
			t.Fatalf("address after refused setup %s, want %s", got, want)
		}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, []string{"ADD eth0", "CHECK eth0"}) {
			t.Fatalf("ops %v: the refused setup must run nothing", got)
		}
	})

	t.Run("InvalidPodRefusedBeforeAnythingRuns", func(t *testing.T) {
		s := newSubject(t)
		valid := s.pod("web")
		for name, mutate := range map[string]func(*ocicni.PodNetwork){
			"bad sandbox ID":    func(p *ocicni.PodNetwork) { p.ID = "-bad/id" },
			"no netns":          func(p *ocicni.PodNetwork) { p.NetNS = "" },
			"netns not a netns": func(p *ocicni.PodNetwork) { p.NetNS = "/proc/self/status" },
			"bad ifname":        func(p *ocicni.PodNetwork) { p.Networks = []ocicni.NetAttachment{a(netA, "a/b")} },
			"duplicate ifname":  func(p *ocicni.PodNetwork) { p.Networks = []ocicni.NetAttachment{a(netA, "x0"), a(netB, "x0")} },
			"smuggled CNI_ARGS": func(p *ocicni.PodNetwork) { p.Name = "web;IP=10.0.0.1" },
			"bad IP": func(p *ocicni.PodNetwork) {
				p.RuntimeConfig = map[string]ocicni.RuntimeConfig{netA: {IP: "10.0.0.300"}}
			},
			"port out of range": func(p *ocicni.PodNetwork) {
				p.RuntimeConfig = map[string]ocicni.RuntimeConfig{netA: {PortMappings: []ocicni.PortMapping{{HostPort: 0, ContainerPort: 80}}}}
			},
			"cache name too long": func(p *ocicni.PodNetwork) { p.ID = strings.Repeat("x", 250) },
		} {
			pod := valid
			mutate(&pod)
			if _, err := s.plugin.SetUpPod(pod); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
				t.Errorf("%s: setup = %v, want ErrInvalidPodNetwork", name, err)
			}
		}
		bad := valid
		bad.ID = "-bad/id"
		if err := s.plugin.TearDownPod(bad); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
			t.Errorf("teardown with a bad ID = %v, want ErrInvalidPodNetwork", err)
		}
		if _, err := s.plugin.GetPodNetworkStatus(bad); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
			t.Errorf("status with a bad ID = %v, want ErrInvalidPodNetwork", err)
		}
		if err := s.plugin.GC(context.Background(), []*ocicni.PodNetwork{&valid, nil}); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
			t.Errorf("GC with a nil pod = %v, want ErrInvalidPodNetwork", err)
		}
		if got := s.ops(valid.ID); len(got) != 0 {
			t.Fatalf("ops %v for refused requests", got)
		}
	})

	t.Run("UnknownNetwork", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netA, ""), a("no-such-net", ""))
		if _, err := s.plugin.SetUpPod(pod); !errors.Is(err, ocicni.ErrNetworkNotFound) {
			t.Fatalf("setup = %v, want ErrNetworkNotFound", err)
		}
		if got := s.ops(pod.ID); len(got) != 0 {
			t.Fatalf("ops %v: nothing may run for an unknown network", got)
		}
		if err := s.plugin.TearDownPod(pod); err != nil {
			t.Fatalf("teardown naming an unknown network = %v, want nil", err)
		}
	})

	t.Run("TearDownReverseAttachOrderAndTwice", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netA, ""), a(netB, ""))
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		all := pod
		all.Networks = nil
		for i := range 2 {
			if err := s.plugin.TearDownPod(all); err != nil {
				t.Fatalf("teardown %d = %v", i+1, err)
			}
		}
		// The second teardown finds nothing cached and, as cri-o/ocicni
		// does, sends the default network a DEL on eth0.
		want := []string{"ADD eth0", "ADD eth1", "DEL eth1", "DEL eth0", "DEL eth0"}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("ops %v, want %v", got, want)
		}
		st, err := s.plugin.GetPodNetworkStatus(all)
		if !errors.Is(err, ocicni.ErrNotAttached) || len(st) != 0 {
			t.Fatalf("status after teardown = %v, %v; want nothing attached (ErrNotAttached)", attachments(st), err)
		}
	})

	t.Run("TearDownReverseOrderAcrossSetUpCalls", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netB, "eth1"))
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		pod.Networks = []ocicni.NetAttachment{a(netA, "eth0")}
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		pod.Networks = nil
		st, err := s.plugin.GetPodNetworkStatus(pod)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(st); !reflect.DeepEqual(got, []string{netB + "/eth1", netA + "/eth0"}) {
			t.Fatalf("status %v, want attach order", got)
		}
		if err := s.plugin.TearDownPod(pod); err != nil {
			t.Fatal(err)
		}
		want := []string{"ADD eth1", "ADD eth0", "CHECK eth1", "CHECK eth0", "DEL eth0", "DEL eth1"}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("ops %v, want %v", got, want)
		}
	})

	t.Run("FailedSetUpRollsBackInReverse", func(t *testing.T) {
		s := newSubject(t)
		s.fail(netB, ocicnitest.VerbAdd, 7)
		pod := s.pod("web", a(netA, ""), a(netB, ""))
		_, err := s.plugin.SetUpPod(pod)
		var ce *cnitypes.Error
		if !errors.As(err, &ce) || ce.Code != 7 || ce.Msg != "boom" {
			t.Fatalf("setup = %v, want the CNI error with code 7", err)
		}
		var oe *ocicni.OpError
		if !errors.As(err, &oe) || oe.Op != "add" || oe.Network != netB || oe.Ifname != "eth1" || oe.ID != pod.ID {
			t.Fatalf("OpError = %+v", oe)
		}
		want := []string{"ADD eth0", "ADD eth1", "DEL eth1", "DEL eth0"}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("ops %v, want %v", got, want)
		}
		s.clear()
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatalf("setup after the rollback = %v, want nothing left to be already attached", err)
		}
	})

	t.Run("FailedRollbackLeavesAttachmentOwed", func(t *testing.T) {
		s := newSubject(t)
		s.fail(netA, ocicnitest.VerbAdd, 7)
		s.fail(netA, ocicnitest.VerbDel, 7)
		pod := s.pod("web")
		_, err := s.plugin.SetUpPod(pod)
		if err == nil || !strings.Contains(err.Error(), "rollback also failed") {
			t.Fatalf("setup = %v, want the failed rollback reported", err)
		}
		s.clear()
		if _, err := s.plugin.SetUpPod(pod); !errors.Is(err, ocicni.ErrAlreadyAttached) {
			t.Fatalf("setup while a DEL is owed = %v, want ErrAlreadyAttached", err)
		}
		var oe *ocicni.OpError
		if _, err := s.plugin.GetPodNetworkStatus(pod); !errors.As(err, &oe) || oe.Op != "status" || oe.Network != netA {
			t.Fatalf("status while a DEL is owed = %v, want a status OpError for %s", err, netA)
		}
		if err := s.plugin.TearDownPod(pod); err != nil {
			t.Fatal(err)
		}
		want := []string{"ADD eth0", "DEL eth0", "DEL eth0"}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("ops %v, want %v", got, want)
		}
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatalf("setup after the owed DEL was done = %v", err)
		}
	})

	t.Run("FailingDelKeepsGoingAndStaysOwed", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netA, ""), a(netB, ""))
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		s.fail(netB, ocicnitest.VerbDel, 7)
		pod.Networks = nil
		err := s.plugin.TearDownPod(pod)
		var ce *cnitypes.Error
		var oe *ocicni.OpError
		if !errors.As(err, &ce) || ce.Code != 7 || !errors.As(err, &oe) || oe.Op != "del" || oe.Network != netB {
			t.Fatalf("teardown = %v, want net-b's DEL error with code 7", err)
		}
		// The attachment whose DEL failed owes one: status runs no CHECK on
		// it and says so; net-a, torn down, is not asked about at all.
		if _, err := s.plugin.GetPodNetworkStatus(pod); !errors.As(err, &oe) || oe.Op != "status" || oe.Network != netB {
			t.Fatalf("status after net-b's DEL failed = %v, want a status OpError for %s, which owes a DEL", err, netB)
		}
		s.clear()
		if err := s.plugin.TearDownPod(pod); err != nil {
			t.Fatal(err)
		}
		want := []string{"ADD eth0", "ADD eth1", "DEL eth1", "DEL eth0", "DEL eth1"}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("ops %v, want %v", got, want)
		}
	})

	t.Run("StatusInAttachOrderAndCheckFailure", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web", a(netA, ""), a(netB, ""))
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatal(err)
		}
		only := pod
		only.Networks = []ocicni.NetAttachment{a(netB, "")}
		st, err := s.plugin.GetPodNetworkStatus(only)
		if err != nil {
			t.Fatal(err)
		}
		if got := attachments(st); !reflect.DeepEqual(got, []string{netB + "/eth1"}) {
			t.Fatalf("status of net-b alone %v, want it on the interface it was set up on", got)
		}
		address(t, st[0], s.subnets[netB], "eth1", pod.NetNS)
		s.fail(netA, ocicnitest.VerbCheck, 7)
		pod.Networks = nil
		_, err = s.plugin.GetPodNetworkStatus(pod)
		var ce *cnitypes.Error
		var oe *ocicni.OpError
		if !errors.As(err, &ce) || ce.Code != 7 || !errors.As(err, &oe) || oe.Op != "status" || oe.Network != netA {
			t.Fatalf("status with a failing CHECK = %v, want net-a's CHECK error with code 7", err)
		}
	})

	t.Run("NotReady", func(t *testing.T) {
		s := newSubject(t)
		s.fail(netA, ocicnitest.VerbStatus, 11)
		// The real library asks STATUS in the background, so a fault
		// shows at its next poll.
		testutil.Eventually(t, 10*time.Second, func() bool { return s.plugin.Status() != nil }, "the STATUS fault never showed")
		err := s.plugin.Status()
		var ce *cnitypes.Error
		if !errors.Is(err, ocicni.ErrNotReady) || !errors.As(err, &ce) || !ocicni.IsRetryable(err) {
			t.Fatalf("Status = %v, want ErrNotReady carrying the retryable STATUS error", err)
		}
		s.clear()
		testutil.Eventually(t, 10*time.Second, func() bool { return s.plugin.Status() == nil }, "Status never recovered")
		if err := s.plugin.Status(); err != nil {
			t.Fatalf("Status after the fault cleared = %v", err)
		}
	})

	t.Run("HangKilledAtDeadlineAndRolledBack", func(t *testing.T) {
		s := newSubject(t)
		s.hang(netA, ocicnitest.VerbAdd)
		pod := s.pod("web")
		// Far enough off for a loaded machine to reach the hang first.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := s.plugin.SetUpPodWithContext(ctx, pod)
		if !errors.Is(err, ocicni.ErrPluginTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("setup = %v, want ErrPluginTimeout and DeadlineExceeded", err)
		}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, []string{"ADD eth0", "DEL eth0"}) {
			t.Fatalf("ops %v, want the hung ADD rolled back", got)
		}
		s.clear()
		if _, err := s.plugin.SetUpPod(pod); err != nil {
			t.Fatalf("setup after the rollback = %v", err)
		}
	})

	t.Run("CancelWhileHanging", func(t *testing.T) {
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
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("setup = %v, want context.Canceled", err)
		}
		if got := s.ops(pod.ID); !reflect.DeepEqual(got, []string{"ADD eth0", "DEL eth0"}) {
			t.Fatalf("ops %v, want the cancelled ADD rolled back", got)
		}
	})

	t.Run("CancelledContextRunsNothing", func(t *testing.T) {
		s := newSubject(t)
		pod := s.pod("web")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.plugin.SetUpPodWithContext(ctx, pod); !errors.Is(err, context.Canceled) {
			t.Fatalf("setup = %v, want context.Canceled", err)
		}
		if err := s.plugin.TearDownPodWithContext(ctx, pod); !errors.Is(err, context.Canceled) {
			t.Fatalf("teardown = %v, want context.Canceled", err)
		}
		if _, err := s.plugin.GetPodNetworkStatusWithContext(ctx, pod); !errors.Is(err, context.Canceled) {
			t.Fatalf("status = %v, want context.Canceled", err)
		}
		if got := s.ops(pod.ID); len(got) != 0 {
			t.Fatalf("ops %v after a cancelled context", got)
		}
	})
}
