package ocicni

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// standardLog records what logrus's standard logger receives during the
// test, keeping it off stderr, and restores the logger when the test ends.
func standardLog(t *testing.T) *test.Hook {
	t.Helper()
	std := logrus.StandardLogger()
	hooks, out, level := std.ReplaceHooks(make(logrus.LevelHooks)), std.Out, std.GetLevel()
	t.Cleanup(func() {
		std.ReplaceHooks(hooks)
		std.SetOutput(out)
		std.SetLevel(level)
	})
	std.SetOutput(io.Discard)
	std.SetLevel(logrus.InfoLevel)
	return test.NewLocal(std)
}

// loggedFile reports whether hook saw the warning about skipping file.
func loggedFile(hook *test.Hook, file string) bool {
	for _, entry := range hook.AllEntries() {
		if entry.Message == "skipping CNI configuration file" && entry.Data["file"] == file {
			return true
		}
	}
	return false
}

// The cri-o-compatible constructors log where cri-o/ocicni logs, to
// logrus's standard logger, so a runtime that swaps the import keeps its
// CNI log lines; New stays silent unless given a logger.
func TestInitCNILogsToStandardLogger(t *testing.T) {
	constructors := []struct {
		name string
		init func(confDir, cacheDir, binDir string) (CNIPlugin, error)
	}{
		{"InitCNI", func(c, _, b string) (CNIPlugin, error) { return InitCNI("", c, b) }},
		{"InitCNIWithCache", func(c, k, b string) (CNIPlugin, error) { return InitCNIWithCache("", c, k, b) }},
		{"InitCNINoInotify", func(c, k, b string) (CNIPlugin, error) { return InitCNINoInotify("", c, k, b) }},
		{"New", func(c, k, b string) (CNIPlugin, error) {
			return New(WithConfDir(c), WithCacheDir(k), WithBinDirs(b))
		}},
	}
	for _, tc := range constructors {
		t.Run(tc.name, func(t *testing.T) {
			hook := standardLog(t)
			e := newEnv(t)
			bad := filepath.Join(e.confDir, "10-bad.conflist")
			testutil.WriteFile(t, bad, []byte("{not json"))
			p, err := tc.init(e.confDir, e.cache, e.binDir)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Shutdown()
			_ = p.Status()
			got, want := loggedFile(hook, bad), tc.name != "New"
			if got != want {
				t.Fatalf("%s: standard logger saw the skipped file: %v, want %v (entries: %d)", tc.name, got, want, len(hook.AllEntries()))
			}
		})
	}
}
