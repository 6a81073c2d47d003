package ocicni

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/internal/testutil"
)

// crioSandboxIPs calls the library as CRI-O's restore does (getSandboxIPs
// in server/sandbox_network.go): status with Networks empty, then [0] of
// the answer without a length check. A panic there is what crashed crio on
// every start while a stopped sandbox existed; it comes back as an error.
func crioSandboxIPs(p CNIPlugin, pod PodNetwork) (res cnitypes.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("CRI-O would have panicked: %v", r)
		}
	}()
	pod.Networks = nil
	st, err := p.GetPodNetworkStatusWithContext(context.Background(), pod)
	if err != nil {
		return nil, err
	}
	return st[0].Result, nil
}

// CRI-O restarts over a node holding a running, a stopped, a never set up
// and a netns-gone sandbox, and asks each for its addresses: the running
// ones answer with their default network's address, the others with an
// error matching ErrNotAttached, and none with an empty list.
func TestPodNetworkStatusRestoreAsCRIO(t *testing.T) {
	e := newEnv(t)
	_, old := e.oneNet("1.0.0", "10.0.0.7")
	running := PodNetwork{Namespace: "ns", Name: "running", ID: "running", NetNS: testutil.NewNetNS(t)}
	stopped := PodNetwork{Namespace: "ns", Name: "stopped", ID: "stopped", NetNS: testutil.NewNetNS(t)}
	gone := PodNetwork{Namespace: "ns", Name: "gone", ID: "gone", NetNS: testutil.NewNetNS(t)}
	for _, pod := range []PodNetwork{running, stopped, gone} {
		setUp(t, old, pod)
	}
	tearDown(t, old, stopped)
	if err := old.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.DeleteNetNS(filepath.Base(gone.NetNS)); err != nil {
		t.Fatal(err)
	}
	never := PodNetwork{Namespace: "ns", Name: "never", ID: "never", NetNS: testutil.NewNetNS(t)}

	restarted := e.plugin(WithWatch(false))
	for _, pod := range []PodNetwork{running, gone} {
		res, err := crioSandboxIPs(restarted, pod)
		if err != nil {
			t.Fatalf("%s: %v", pod.Name, err)
		}
		if got := firstIP(t, res); got != "10.0.0.7/24" {
			t.Fatalf("%s: address %s, want the cached 10.0.0.7/24", pod.Name, got)
		}
	}
	stoppedNoNetNS := stopped
	stoppedNoNetNS.NetNS = ""
	for _, pod := range []PodNetwork{stopped, stoppedNoNetNS, never} {
		res, err := crioSandboxIPs(restarted, pod)
		var op *OpError
		if !errors.Is(err, ErrNotAttached) || !errors.As(err, &op) || op.Network != "n" || op.Ifname != "eth0" {
			t.Fatalf("%s (netns %q): %v, %v; want ErrNotAttached for the default network on eth0", pod.Name, pod.NetNS, res, err)
		}
	}
}

// With no default network loaded and nothing recorded, status cannot even
// say which network was meant: the error matches both ErrNotAttached and
// ErrNoDefaultNetwork.
func TestPodNetworkStatusNothingRecordedNoDefault(t *testing.T) {
	e := newEnv(t)
	p := e.plugin(WithWatch(false))
	res, err := crioSandboxIPs(p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if !errors.Is(err, ErrNotAttached) || !errors.Is(err, ErrNoDefaultNetwork) {
		t.Fatalf("status = %v, %v; want ErrNotAttached and ErrNoDefaultNetwork", res, err)
	}
}

// A named network the sandbox has no record of and no interface for is
// not attached, whatever the reason.
func TestPodNetworkStatusNamedNetworkNotAttached(t *testing.T) {
	e := newEnv(t)
	_, p := e.oneNet("1.0.0", "10.0.0.7")
	res, err := p.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n", Ifname: "net1"}}})
	if !errors.Is(err, ErrNotAttached) || res != nil {
		t.Fatalf("status = %v, %v; want ErrNotAttached", res, err)
	}
}
