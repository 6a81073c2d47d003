package pluginexec

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
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

// A plugin that answers and exits, leaving a child that holds its stdout
// and stderr (a daemon it started), has given its answer: the exec returns
// it at once, and the child, if still in the plugin's process group, is
// killed. Before, the exec waited for the pipes to close and failed after
// ten seconds with "WaitDelay expired", so such a DEL failed forever.
func TestExecPluginEndsWhenPluginExitsLeavingChild(t *testing.T) {
	for _, tc := range []struct {
		cmd     string
		session bool // the child leaves the plugin's group
	}{{"ADD", false}, {"DEL", false}, {"ADD", true}, {"DEL", true}} {
		name := tc.cmd + "/in-group"
		if tc.session {
			name = tc.cmd + "/own-session"
		}
		t.Run(name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			out, err := execFaulty(t, nil, tc.cmd, map[string]any{
				"faults": map[string]string{tc.cmd: "leave-child"}, "childPidFile": pidFile, "childSession": tc.session,
			})
			pid := readPID(t, pidFile)
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			if err != nil {
				t.Fatalf("ExecPlugin: %v, want the plugin's answer", err)
			}
			if tc.cmd == "ADD" && !strings.Contains(string(out), `"ips"`) {
				t.Errorf("ADD returned %q, want the plugin's result", out)
			}
			if alive := testutil.ProcessAlive(pid); alive == !tc.session {
				t.Errorf("child %d alive = %v after the exec; want it killed only while it is in the plugin's group", pid, alive)
			}
		})
	}
}
