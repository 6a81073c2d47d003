package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const sandboxEnv = "OCICNI_DEMO_SANDBOX"

// echoPort is where pod-b listens in the connectivity check.
const echoPort = 80

func inSandbox() bool { return os.Getenv(sandboxEnv) != "" }

// reexecInSandbox runs this program again under `unshare --net --mount`,
// so every bridge, veth, firewall rule and file it makes dies with it.
func reexecInSandbox() int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		fmt.Fprintln(os.Stderr, "demo: needs unshare (Debian package util-linux) to make a throwaway network namespace")
		return 1
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), sandboxEnv+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "demo: running under unshare:", err)
		return 1
	}
	return 0
}

// prepareSandbox puts private tmpfs mounts on the directories where
// network namespaces, the CNI cache and host-local's state live.
func prepareSandbox() error {
	for _, d := range []string{"/run/netns", cacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", d, "tmpfs", 0, "size=16m"); err != nil {
			return fmt.Errorf("mounting a tmpfs on %s: %w", d, err)
		}
	}
	return nil
}

// createNetNS creates a named network namespace, as a runtime does for
// each pod sandbox, and returns its path.
func createNetNS(name string) (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return "", err
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		return "", err
	}
	h.Close()
	return filepath.Join("/run/netns", name), netns.Set(orig)
}

func deleteNetNS(name string) { _ = netns.DeleteNamed(name) }

// inNetNS runs fn on a thread inside the namespace at path. A thread that
// cannot return to the original namespace stays locked, so Go discards it.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- err
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// tcpEcho listens on toIP inside toNS, connects from fromNS, and checks
// that msg comes back.
func tcpEcho(fromNS, toNS, toIP, msg string) error {
	addr := net.JoinHostPort(toIP, strconv.Itoa(echoPort))
	var ln net.Listener
	if err := inNetNS(toNS, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(c, c)
	}()
	var conn net.Conn
	if err := inNetNS(fromNS, func() (err error) { conn, err = net.DialTimeout("tcp", addr, 5*time.Second); return err }); err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo was %q", got)
	}
	return nil
}

// countVeths counts the veths in the sandbox's own namespace, where the
// bridge plugin puts the host side of each pod's pair.
func countVeths() (int, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range links {
		if l.Type() == "veth" {
			n++
		}
	}
	return n, nil
}
