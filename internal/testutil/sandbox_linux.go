package testutil

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/netplumb/ocicni/internal/sandbox"
)

const sandboxEnv = "OCICNI_TEST_SANDBOX"

// Main runs the tests of a package. As root it first re-executes the test
// binary under `unshare --net --mount`, with private tmpfs mounts on
// /run/netns and /var/lib/cni, so every link, address, firewall rule and
// IPAM file a test makes lives and dies with that process and nothing
// touches the machine's own network namespace. Without root the tests run
// as they are and the ones needing root skip.
func Main(m *testing.M) {
	if os.Geteuid() != 0 || ChildPayload() != "" {
		os.Exit(m.Run())
	}
	if !InSandbox() {
		code, err := sandbox.Reexec(sandboxEnv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(2)
		}
		os.Exit(code)
	}
	if err := sandbox.MountTmpfs("64m", "/run/netns", "/var/lib/cni"); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(2)
	}
	if err := sandbox.LoopbackUp(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: lo up:", err)
	}
	os.Exit(m.Run())
}

// InSandbox reports whether the process runs in the throwaway namespaces.
func InSandbox() bool { return sandbox.Inside(sandboxEnv) }

// RequireRoot skips the test, with one line saying why, unless it runs as
// root inside the throwaway namespaces.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipped: needs root to create network namespaces")
	}
	if !InSandbox() {
		tb.Skip("skipped: not inside the throwaway namespace (run through testutil.Main)")
	}
}

var nsCounter atomic.Int64

// NewNetNS creates a named network namespace under /run/netns (a private
// tmpfs in the sandbox) and removes it when the test ends. It returns the
// namespace's path.
func NewNetNS(tb testing.TB) string {
	tb.Helper()
	RequireRoot(tb)
	name := fmt.Sprintf("pod%d-%d", os.Getpid(), nsCounter.Add(1))
	path, err := sandbox.CreateNetNS(name)
	if err != nil {
		tb.Fatalf("creating netns %s: %v", name, err)
	}
	tb.Cleanup(func() { _ = sandbox.DeleteNetNS(name) })
	return path
}
