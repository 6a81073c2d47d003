//go:build linux

package e2e

import (
	"net"
	"testing"

	"github.com/netplumb/ocicni/internal/sandbox"
)

// checkTCP opens a listener on toIP inside toNS and connects to it from
// fromNS, then checks that a message comes back echoed. Both namespaces are
// the test's own pods.
func checkTCP(tb testing.TB, fromNS, toNS, toIP string) {
	tb.Helper()
	if err := sandbox.TCPEcho(fromNS, toNS, net.JoinHostPort(toIP, "0"), "hello from "+fromNS); err != nil {
		tb.Fatalf("pod-to-pod TCP: %v", err)
	}
}
