// Package testutil holds what the tests share: a throwaway network and
// mount namespace for the whole test binary, pod network namespaces inside
// it, the plugin directory built by the Makefile, and bounded waiting.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const sandboxEnv = "OCICNI_TEST_SANDBOX"

// Main runs the tests of a package. As root it first re-executes the test
// binary under `unshare --net --mount`, with private tmpfs mounts on
// /run/netns and /var/lib/cni, so every link, address, firewall rule and
// IPAM file a test makes lives and dies with that process and nothing
// touches the machine's own network namespace. Without root the tests run
// as they are and the ones needing root skip.
func Main(m *testing.M) {
	if os.Geteuid() != 0 {
		os.Exit(m.Run())
	}
	if os.Getenv(sandboxEnv) == "" {
		os.Exit(reexec())
	}
	for _, d := range []string{"/run/netns", "/var/lib/cni"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(2)
		}
		if err := unix.Mount("tmpfs", d, "tmpfs", 0, "size=64m"); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox: mount tmpfs on", d+":", err)
			os.Exit(2)
		}
	}
	if err := setLinkUp("lo"); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: lo up:", err)
	}
	os.Exit(m.Run())
}

func reexec() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 2
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), sandboxEnv+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "sandbox: running under unshare:", err)
		return 2
	}
	return 0
}

// InSandbox reports whether the process runs in the throwaway namespaces.
func InSandbox() bool { return os.Getenv(sandboxEnv) != "" }

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
	if err := CreateNetNS(name); err != nil {
		tb.Fatalf("creating netns %s: %v", name, err)
	}
	tb.Cleanup(func() { _ = netns.DeleteNamed(name) })
	return filepath.Join("/run/netns", name)
}

// CreateNetNS creates the named namespace without moving the calling
// goroutine's thread into it for longer than the call.
func CreateNetNS(name string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return err
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		_ = netns.Set(orig)
		return err
	}
	h.Close()
	return netns.Set(orig)
}

func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
