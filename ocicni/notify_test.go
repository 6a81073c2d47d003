package ocicni

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestWaitReadyReturnsWhenConfigAppears(t *testing.T) {
	e := newEnv(t)
	p := e.watched()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(ctx) }()
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0"))
	if err := <-done; err != nil {
		t.Fatalf("WaitReady = %v, want nil once a valid config appeared", err)
	}
	if err := p.Status(); err != nil {
		t.Fatalf("Status after WaitReady returned = %v", err)
	}
}

func TestWaitReadyTimesOut(t *testing.T) {
	e := newEnv(t)
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0", "nosuch"))
	p := e.watched()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.WaitReady(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotReady) {
		t.Fatalf("WaitReady = %v, want context.DeadlineExceeded and ErrNotReady", err)
	}
	if !strings.Contains(err.Error(), `plugin "nosuch" is missing`) {
		t.Fatalf("WaitReady's error %q does not say why the node is not ready", err)
	}
}

func TestWaitReadyAfterShutdown(t *testing.T) {
	e := newEnv(t)
	p := e.watched()
	done := make(chan error, 1)
	go func() { done <- p.WaitReady(context.Background()) }()
	if err := p.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrShutdown) {
		t.Fatalf("WaitReady blocked across Shutdown returned %v, want ErrShutdown", err)
	}

	// Called after Shutdown, even with a valid configuration on disk.
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0"))
	if err := p.WaitReady(context.Background()); !errors.Is(err, ErrShutdown) {
		t.Fatalf("WaitReady after Shutdown = %v, want ErrShutdown", err)
	}
	if err := p.Shutdown(); err != nil {
		t.Fatalf("second Shutdown = %v", err)
	}
}
