package pluginexec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

// spawnHang runs the faulty test plugin's "spawn-hang" ADD through a
// Runner under ctx, cancelling with cancel (when not nil) once the
// plugin's child has written its PID. It returns the child's PID and
// ExecPlugin's error.
func spawnHang(ctx context.Context, t *testing.T, cancel context.CancelFunc) (int, error) {
	t.Helper()
	bin := t.TempDir()
	testutil.CopyPlugin(t, "faulty", bin)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	stdin := `{"cniVersion":"1.0.0","name":"n","type":"faulty","faults":{"ADD":"spawn-hang"},"childPidFile":"` + pidFile + `"}`
	environ := append(os.Environ(), "CNI_COMMAND=ADD", "CNI_CONTAINERID=c1", "CNI_IFNAME=eth0", "CNI_NETNS=/none", "CNI_PATH="+bin)

	pid := make(chan int, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if data, err := os.ReadFile(pidFile); err == nil && len(data) > 0 {
				if n, err := strconv.Atoi(string(data)); err == nil {
					pid <- n
					if cancel != nil {
						cancel()
					}
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		pid <- 0
	}()
	_, err := New(Config{}).ExecPlugin(ctx, filepath.Join(bin, "faulty"), []byte(stdin), environ)
	// The child wrote its PID before it could be killed, so the reader
	// has it or gives up within its bound.
	n := <-pid
	if n == 0 {
		t.Fatalf("the plugin's child never wrote its PID (exec error %v); the test proves nothing", err)
	}
	return n, err
}

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
