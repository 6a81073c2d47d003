//go:build linux

package e2e

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// inNetNS runs fn on a goroutine whose thread has entered the namespace at
// path. Sockets fn creates stay in that namespace after it returns. If the
// thread cannot be moved back it is left locked, so Go discards it rather
// than reuse a thread in the wrong namespace.
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
			errc <- fmt.Errorf("returning from %s: %w", path, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// checkTCP opens a listener on toIP inside toNS and connects to it from
// fromNS, then checks that a message comes back echoed. Both namespaces are
// the test's own pods.
func checkTCP(tb testing.TB, fromNS, toNS, toIP string) {
	tb.Helper()
	var ln net.Listener
	if err := inNetNS(toNS, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(toIP, "0"))
		return err
	}); err != nil {
		tb.Fatalf("listening on %s in %s: %v", toIP, toNS, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(c, c)
	}()

	var conn net.Conn
	if err := inNetNS(fromNS, func() (err error) {
		conn, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		return err
	}); err != nil {
		tb.Fatalf("connecting from %s to %s: %v", fromNS, ln.Addr(), err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	msg := "hello from " + fromNS
	if _, err := io.WriteString(conn, msg); err != nil {
		tb.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		tb.Fatalf("reading echo from %s: %v", ln.Addr(), err)
	}
	if string(got) != msg {
		tb.Fatalf("echo = %q, want %q", got, msg)
	}
}
