package sandbox

import (
	"fmt"
	"io"
	"net"
	"time"
)

// echoTimeout bounds each step of TCPEcho, so a broken network fails the
// check instead of hanging it.
const echoTimeout = 10 * time.Second

// TCPEcho listens on addr (host:port; port 0 lets the kernel choose)
// inside the namespace at toNS, connects to it from the namespace at
// fromNS, sends msg and checks that the same bytes come back. A nil error
// means a TCP round trip between the two namespaces worked.
func TCPEcho(fromNS, toNS, addr, msg string) error {
	var ln net.Listener
	if err := InNetNS(toNS, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		return fmt.Errorf("listening on %s in %s: %w", addr, toNS, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(echoTimeout))
		_, _ = io.Copy(c, c)
	}()

	var conn net.Conn
	if err := InNetNS(fromNS, func() (err error) {
		conn, err = net.DialTimeout("tcp", ln.Addr().String(), echoTimeout)
		return err
	}); err != nil {
		return fmt.Errorf("connecting from %s to %s: %w", fromNS, ln.Addr(), err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(echoTimeout))
	if _, err := io.WriteString(conn, msg); err != nil {
		return fmt.Errorf("sending to %s: %w", ln.Addr(), err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		return fmt.Errorf("reading echo from %s: %w", ln.Addr(), err)
	}
	if string(got) != msg {
		return fmt.Errorf("echo from %s = %q, want %q", ln.Addr(), got, msg)
	}
	return nil
}
