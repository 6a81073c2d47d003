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

	"github.com/containernetworking/cni/pkg/invoke"

	"github.com/netplumb/ocicni/internal/testutil"
)

// gatedPlugin writes a plugin that records its PID, then copies its stdin
// to a file, and returns the plugin's path, the PID file and the stdin copy.
func gatedPlugin(t *testing.T) (plugin, pidFile, got string) {
	t.Helper()
	dir := t.TempDir()
	plugin, pidFile, got = filepath.Join(dir, "held"), filepath.Join(dir, "pid"), filepath.Join(dir, "stdin")
	script := "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\ncat > " + got + "\n" +
		`echo '{"cniVersion":"1.0.0","ips":[]}'` + "\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return plugin, pidFile, got
}

func gatedEnv(cmd string) []string {
	return append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID=c1", "CNI_IFNAME=eth0", "CNI_NETNS=/none", "CNI_PATH=/none")
}

// startedPID waits until the plugin has started and returns its PID.
func startedPID(t *testing.T, pidFile string) int {
	t.Helper()
	var pid int
	testutil.Eventually(t, 10*time.Second, func() bool {
		data, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	}, "the plugin never started")
	return pid
}

// readSoFar is what the plugin has read of its stdin.
func readSoFar(t *testing.T, got string) string {
	t.Helper()
	data, err := os.ReadFile(got)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

const gatedConf = `{"cniVersion":"1.0.0","name":"n","type":"held"}`

// execHeld starts an ADD of plugin held by a fresh gate and returns the
// gate and where the exec's error arrives.
func execHeld(plugin string) (*Gate, <-chan error) {
	g := NewGate()
	done := make(chan error, 1)
	go func() {
		_, err := New(Config{}).ExecPlugin(WithGate(context.Background(), g), plugin, []byte(gatedConf), gatedEnv("ADD"))
		done <- err
	}()
	return g, done
}

func TestGateHoldsConfigurationUntilOpened(t *testing.T) {
	plugin, pidFile, got := gatedPlugin(t)
	g, done := execHeld(plugin)
	startedPID(t, pidFile)
	if s := readSoFar(t, got); s != "" {
		t.Fatalf("the plugin read %q before the gate opened", s)
	}
	g.Open(nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := readSoFar(t, got); s != gatedConf {
		t.Fatalf("the plugin read %q, want its whole configuration", s)
	}
}

func TestGateOpenedWithErrorKillsPluginUnread(t *testing.T) {
	plugin, pidFile, got := gatedPlugin(t)
	g, done := execHeld(plugin)
	pid := startedPID(t, pidFile)
	boom := errors.New("record not written")
	g.Open(boom)
	err := <-done
	if !errors.Is(err, boom) {
		t.Fatalf("exec error %v, want one matching the gate's", err)
	}
	if s := readSoFar(t, got); s != "" {
		t.Fatalf("the plugin read %q although the gate failed", s)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("plugin %d still alive after its gate failed", pid)
	}
}

func TestGateHoldsNeitherDelNorASecondAdd(t *testing.T) {
	plugin, _, got := gatedPlugin(t)
	g := NewGate()
	ctx := WithGate(context.Background(), g)
	r := New(Config{})
	// A DEL under the gate neither waits nor uses the gate up.
	if _, err := r.ExecPlugin(ctx, plugin, []byte(gatedConf), gatedEnv("DEL")); err != nil {
		t.Fatal(err)
	}
	if gateFor(ctx, "ADD") != g {
		t.Fatal("a DEL claimed the gate meant for the ADD")
	}
	// The ADD has claimed it now; a later ADD (the next plugin of a
	// chain) runs at once, though the gate never opens.
	if _, err := r.ExecPlugin(ctx, plugin, []byte(gatedConf), gatedEnv("ADD")); err != nil {
		t.Fatal(err)
	}
	if s := readSoFar(t, got); s != gatedConf {
		t.Fatalf("second ADD read %q", s)
	}
}

// recordingExec is an invoke.Exec that notes whether it was called.
type recordingExec struct {
	invoke.Exec
	called bool
}

func (e *recordingExec) ExecPlugin(context.Context, string, []byte, []string) ([]byte, error) {
	e.called = true
	return []byte(`{"cniVersion":"1.0.0","ips":[]}`), nil
}

func TestGateHoldsReplacementRunner(t *testing.T) {
	inner := &recordingExec{}
	g := NewGate()
	boom := errors.New("record not written")
	g.Open(boom)
	_, err := New(Config{Inner: inner}).ExecPlugin(WithGate(context.Background(), g), "/none/held", []byte(gatedConf), gatedEnv("ADD"))
	if !errors.Is(err, boom) || inner.called {
		t.Fatalf("error %v, inner called %v; want the gate's error and no exec", err, inner.called)
	}
}
