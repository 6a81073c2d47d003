//go:build linux

package sandbox_test

import (
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

func TestTCPEchoWithinNamespace(t *testing.T) {
	ns := testutil.NewNetNS(t)
	if err := sandbox.InNetNS(ns, sandbox.LoopbackUp); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.TCPEcho(ns, ns, "127.0.0.1:0", "ping"); err != nil {
		t.Fatalf("echo over the namespace's loopback: %v", err)
	}
}

// The dialling side's loopback is down, so the echo must fail: it would
// pass if InNetNS ran both ends in the same namespace.
func TestTCPEchoCrossesNamespaces(t *testing.T) {
	from, to := testutil.NewNetNS(t), testutil.NewNetNS(t)
	if err := sandbox.InNetNS(to, sandbox.LoopbackUp); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.TCPEcho(from, to, "127.0.0.1:0", "ping"); err == nil {
		t.Fatal("echo reached a listener in another namespace over loopback")
	}
}

func TestCountLinks(t *testing.T) {
	ns := testutil.NewNetNS(t)
	count := func() int {
		t.Helper()
		var n int
		if err := sandbox.InNetNS(ns, func() (err error) { n, err = sandbox.CountLinks("veth"); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("fresh namespace has %d veths, want 0", n)
	}
	if err := sandbox.InNetNS(ns, func() error {
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "va"}, PeerName: "vb"})
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after adding a veth pair: %d veths, want 2", n)
	}
}
