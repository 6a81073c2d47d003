// Package testutil holds what the tests share: a throwaway network and
// mount namespace for the whole test binary, pod network namespaces inside
// it, the plugin directory built by the Makefile, and bounded waiting.
package testutil

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PluginDir returns the directory of plugins built by `make plugins`
// (OCICNI_PLUGIN_DIR, or bin/plugins at the repository root). It fails the
// test with the command to run when the plugins are missing.
func PluginDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("OCICNI_PLUGIN_DIR")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			tb.Fatalf("finding repository root: %v", err)
		}
		dir = filepath.Join(root, "bin", "plugins")
	}
	if _, err := os.Stat(filepath.Join(dir, "noop")); err != nil {
		tb.Fatalf("test plugins missing from %s: run `make plugins` (%v)", dir, err)
	}
	return dir
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(string(out[:len(out)-1])), nil
}

// LinkPlugins makes a fresh plugin directory holding symlinks to the named
// plugins of PluginDir, so a test can add or remove binaries without
// affecting others.
func LinkPlugins(tb testing.TB, names ...string) string {
	tb.Helper()
	src := PluginDir(tb)
	dst := tb.TempDir()
	for _, n := range names {
		if err := os.Symlink(filepath.Join(src, n), filepath.Join(dst, n)); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}

// CopyPlugin copies one plugin binary into dir (a real file, not a link).
func CopyPlugin(tb testing.TB, name, dir string) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(PluginDir(tb), name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
		tb.Fatal(err)
	}
}

// WriteJSON writes v (a string is written as is) to dir/name.
func WriteJSON(tb testing.TB, dir, name string, v any) string {
	tb.Helper()
	var data []byte
	switch x := v.(type) {
	case string:
		data = []byte(x)
	case []byte:
		data = x
	default:
		var err error
		if data, err = json.MarshalIndent(v, "", "  "); err != nil {
			tb.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Eventually polls cond until it holds or timeout passes, then fails the
// test with msg. It is the only way tests wait: never a bare sleep.
func Eventually(tb testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
