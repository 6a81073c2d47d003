package netconf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// waitFor bounds every wait on the watcher; a working one takes
// milliseconds, but the tests share two cores with -race.
const waitFor = 10 * time.Second

// testDirs is a conf dir and a plugin dir holding the noop plugin.
type testDirs struct {
	conf, bin string
}

func newTestDirs(t *testing.T) testDirs {
	t.Helper()
	return testDirs{conf: t.TempDir(), bin: testutil.LinkPlugins(t, "noop")}
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// open starts a Source on the dirs, closed when the test ends.
func (d testDirs) open(t *testing.T, watch bool) *Source {
	t.Helper()
	log := quietLog()
	s := Open(Config{
		ConfDir: d.conf, BinDirs: []string{d.bin}, Watch: watch, PollInterval: time.Second, Log: log,
		Exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log}),
	})
	t.Cleanup(s.Close)
	return s
}

// loader returns a loader on the dirs with a fresh cache.
func (d testDirs) loader() *loader {
	log := quietLog()
	return &loader{confDir: d.conf, binDirs: []string{d.bin}, cache: newValidCache(), log: log,
		exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log})}
}

// conflist is a valid one-plugin conflist for network name.
func conflist(name string) []byte {
	return []byte(fmt.Sprintf(`{"cniVersion":"1.0.0","name":%q,"plugins":[{"type":"noop"}]}`, name))
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// armed waits until the watcher set its watches up and went idle: the
// reload that added them and the one after.
func armed(t *testing.T, s *Source) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool { return s.Stats().Reloads >= 2 || s.Stats().Polling }, "the watcher never armed")
	if s.Stats().Polling {
		t.Skip("skipped: inotify unavailable, the watcher polls")
	}
}

func skipReason(set *Set, file string) string {
	for _, sk := range set.Skipped {
		if sk.File == file {
			return sk.Reason
		}
	}
	return ""
}

func confPath(d testDirs, file string) string { return filepath.Join(d.conf, file) }
