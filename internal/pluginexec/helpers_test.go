package pluginexec

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/netplumb/ocicni/internal/testutil"
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

// gatedPlugin writes a plugin that records its PID, then reads its stdin
// in the shell process itself (so /proc shows the read) and copies it to a
// file. It returns the plugin's path, the PID file and the stdin copy.
func gatedPlugin(t *testing.T) (plugin, pidFile, got string) {
	t.Helper()
	dir := t.TempDir()
	plugin, pidFile, got = filepath.Join(dir, "held"), filepath.Join(dir, "pid"), filepath.Join(dir, "stdin")
	script := "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + "\n" +
		"IFS= read -r conf\nprintf '%s' \"$conf\" > " + got + "\n" +
		`echo '{"cniVersion":"1.0.0","ips":[]}'` + "\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return plugin, pidFile, got
}

// readSyscall is the number of read(2) on the architectures whose
// /proc/<pid>/syscall the tests interpret.
var readSyscall = map[string]string{"amd64": "0", "arm64": "63"}

// blockedReadingStdin reports whether process pid sits in a read of its
// stdin: a plugin waiting for its configuration.
func blockedReadingStdin(t *testing.T, pid int) bool {
	t.Helper()
	nr, ok := readSyscall[runtime.GOARCH]
	if !ok {
		t.Skipf("skipped: reading /proc/<pid>/syscall is not taught for %s", runtime.GOARCH)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return len(f) > 1 && f[0] == nr && f[1] == "0x0"
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

// recordingExec is an invoke.Exec that notes whether it was called.
type recordingExec struct {
	invoke.Exec
	called bool
}

func (e *recordingExec) ExecPlugin(context.Context, string, []byte, []string) ([]byte, error) {
	e.called = true
	return []byte(`{"cniVersion":"1.0.0","ips":[]}`), nil
}

// waiting returns how many execs wait for a slot of a.
func (a *Admission) waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.queues[classRelease].Len() + a.queues[classClaim].Len()
}

// faultyRun runs the faulty test plugin at path for cmd on sandbox id,
// with conf's keys added to its network configuration.
func faultyRun(ctx context.Context, r *Runner, path, cmd, id string, conf map[string]any) error {
	c := map[string]any{"cniVersion": "1.0.0", "name": "n", "type": "faulty"}
	maps.Copy(c, conf)
	stdin, err := json.Marshal(c)
	if err != nil {
		return err
	}
	environ := append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID="+id, "CNI_IFNAME=eth0", "CNI_NETNS=/none", "CNI_PATH="+filepath.Dir(path))
	_, err = r.ExecPlugin(ctx, path, stdin, environ)
	return err
}

// lines returns the lines of a file, none when it does not exist.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
}

// execFaulty runs the faulty test plugin for cmd with the network
// configuration conf (cniVersion, name and type are filled in) through r,
// or a default Runner when r is nil.
func execFaulty(t *testing.T, r *Runner, cmd string, conf map[string]any) ([]byte, error) {
	t.Helper()
	bin := t.TempDir()
	testutil.CopyPlugin(t, "faulty", bin)
	conf["cniVersion"], conf["name"], conf["type"] = "1.0.0", "n", "faulty"
	if cmd == "DEL" {
		conf["prevResult"] = map[string]any{"cniVersion": "1.0.0"}
	}
	stdin, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	environ := append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID=c1", "CNI_IFNAME=eth0", "CNI_NETNS=/none", "CNI_PATH="+bin)
	if r == nil {
		r = New(Config{})
	}
	return r.ExecPlugin(context.Background(), filepath.Join(bin, "faulty"), stdin, environ)
}

// readPID reads the PID a test plugin's child wrote.
func readPID(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the plugin's child left no PID: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
