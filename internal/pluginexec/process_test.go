package pluginexec

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

// ExecPlugin returns, once its context is cancelled, only when every
// process of the plugin's group is gone, the child the plugin started
// included. The exec code before the process groups (ocicni/exec.go at
// 99a8b90^) killed the plugin's own PID alone, so the child, which holds
// no pipe of ours, went on running after the call returned.
func TestExecPluginCancelKillsWholeProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pid, err := spawnHang(ctx, t, cancel)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("the plugin's child %d is still running after ExecPlugin returned", pid)
	}
}

// The same holds for a deadline, and the error says the plugin timed out.
func TestExecPluginDeadlineKillsWholeProcessGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pid, err := spawnHang(ctx, t, nil)
	if !errors.Is(err, types.ErrPluginTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrPluginTimeout and context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "plugin faulty (ADD)") {
		t.Errorf("error %q does not name the plugin and command", err)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("the plugin's child %d is still running after ExecPlugin returned", pid)
	}
}
