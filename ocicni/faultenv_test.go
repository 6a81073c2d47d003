package ocicni

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// newFaultEnv is newEnv with the faulty test plugin copied in as a real
// file, so a test may chmod it, hold it open or look for its processes
// without touching any other test's plugins.
func newFaultEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "noop", "sleep")
	testutil.CopyPlugin(t, "faulty", e.binDir)
	return e
}

// faultyPlugin is one faulty plugin entry of a chain: faults maps a CNI
// command to the fault it acts out, and log is its command log.
func faultyPlugin(log string, faults map[string]string, extra ...any) map[string]any {
	m := map[string]any{"type": "faulty", "commandLog": log, "faults": faults}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// noopPlugin is one noop plugin entry with its debug file and command log.
func noopPlugin(debugFile, log string) map[string]any {
	return map[string]any{"type": "noop", "debugFile": debugFile, "commandLog": log}
}

// logFile returns a fresh, empty command log path.
func (e *env) logFile(name string) string {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// control sets what the faulty plugin does on its next calls, whatever the
// (possibly cached) configuration says; nil restores the configuration's
// behaviour.
func (e *env) control(c map[string]any) {
	e.t.Helper()
	p := filepath.Join(e.binDir, "faulty.control.json")
	if c == nil {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.t.Fatal(err)
		}
		return
	}
	testutil.WriteJSON(e.t, e.binDir, "faulty.control.json", c)
}

// faultyLog returns the lines of a faulty plugin's command log, each
// "COMMAND containerID ifname".
func faultyLog(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

// faultyCommands returns just the commands of a faulty plugin's log.
func faultyCommands(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, l := range faultyLog(t, path) {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

// processesOf returns the PIDs of live processes running the binary at
// path, so a test can prove a killed plugin is really gone.
func processesOf(t *testing.T, path string) []string {
	t.Helper()
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	var out []string
	for _, p := range procs {
		if exe, err := os.Readlink(p); err == nil && exe == want {
			out = append(out, strings.Split(p, "/")[2])
		}
	}
	return out
}

// hasLog reports whether an entry whose message contains msg was logged.
func (e *env) hasLog(msg string) bool {
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, msg) {
			return true
		}
	}
	return false
}

// countLog counts the entries whose message contains msg.
func (e *env) countLog(msg string) int {
	n := 0
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, msg) {
			n++
		}
	}
	return n
}

// hasLogWith reports whether an entry whose message contains msg carries
// field key with value v.
func (e *env) hasLogWith(msg, key string, v any) bool {
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, msg) && en.Data[key] == v {
			return true
		}
	}
	return false
}

// isPendingDel reports whether the cache file name is the library's record
// of a DEL still owed after a failed rollback.
func (e *env) isPendingDel(name string) bool {
	e.t.Helper()
	c := parseCacheFile(filepath.Join(e.cache, "results", name), "")
	pending, _ := c.caps[pendingDelKey].(bool)
	return c.err == nil && pending
}
