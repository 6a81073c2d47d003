package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// probePlugin installs the plugin type "probe", a shell script that
// answers VERSION and, on DEL, appends "DEL child=<state>" to log, where
// state is the state letter /proc gives the process whose PID is in
// pidFile, "gone" when it no longer exists, or "nopid" when the file is
// empty or missing. Placed after a plugin in a chain, its DEL is the first
// of the rollback, so it tells what was still running when the rollback
// began.
func (e *env) probePlugin(pidFile, log string) {
	e.t.Helper()
	script := fmt.Sprintf(`#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
DEL)
  pid=$(cat %[1]q 2>/dev/null)
  state=nopid
  if [ -n "$pid" ]; then
    state=$(sed 's/.*) \(.\).*/\1/' /proc/"$pid"/stat 2>/dev/null)
    [ -n "$state" ] || state=gone
  fi
  echo "DEL child=$state" >> %[2]q ;;
esac
`, pidFile, log)
	if err := os.WriteFile(filepath.Join(e.binDir, "probe"), []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
}

// A plugin that starts a child (as a plugin delegating to IPAM does) and
// hangs is killed with its whole process group when the deadline passes:
// when SetUpPod returns, the child is dead, and it was already dead when
// the rollback's first DEL ran, so the DEL never raced it on the sandbox.
// The old code killed only the plugin's own PID, so the child lived on
// (it holds no output pipe, so nothing waited for it) through the rollback
// and after the call.
func TestSetUpDeadlineKillsPluginProcessGroupBeforeRollback(t *testing.T) {
	e := newFaultEnv(t)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	faultyLogPath, probeLog := e.logFile("faulty.log"), e.logFile("probe.log")
	e.probePlugin(pidFile, probeLog)
	e.writeList("10-net.conflist", "net1", "1.0.0", nil,
		testutil.FaultyPlugin(faultyLogPath, map[string]string{"ADD": "spawn-hang"}, "childPidFile", pidFile),
		map[string]any{"type": "probe"})
	p := e.plugin(WithWatch(false))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := p.SetUpPodWithContext(ctx, webPod(t, "sb1"))
	if !errors.Is(err, ErrPluginTimeout) {
		t.Fatalf("setup error = %v, want ErrPluginTimeout", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil || len(data) == 0 {
		t.Fatalf("the plugin's child never wrote its PID before the deadline (%v); the test proves nothing", err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("the plugin's child %d is still running after SetUpPod returned", pid)
	}
	if got := testutil.FaultyCommands(t, faultyLogPath); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin saw %v, want the ADD and the rollback DEL", got)
	}
	got := testutil.FaultyLog(t, probeLog)
	if len(got) != 1 || (got[0] != "DEL child=gone" && got[0] != "DEL child=Z" && got[0] != "DEL child=X") {
		t.Fatalf("rollback DEL found the child in state %v, want it gone (or a zombie)", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after the rolled-back setup = %v", got)
	}
}

// A plugin whose ADD and DEL succeed but leave a daemon holding their
// stdout and stderr: the setup is kept and the teardown succeeds, leaving
// nothing cached. Before, each call waited 10 s and failed with "WaitDelay
// expired", so the setup was rolled back and the sandbox could never be
// torn down.
func TestPodOperationsSurvivePluginLeavingDaemon(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil,
		testutil.FaultyPlugin(log, map[string]string{"ADD": "leave-child", "DEL": "leave-child"}, "childPidFile", pidFile, "childSession", true))
	p := e.plugin(WithWatch(false))
	killChild := func() {
		if data, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(string(data)); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = os.Remove(pidFile)
	}
	t.Cleanup(killChild)

	pod := webPod(t, "sb1")
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatalf("setup: %v", err)
	}
	killChild()
	if err := p.TearDownPod(pod); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin saw %v, want one ADD and one DEL", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}
