package netconf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
	"github.com/sirupsen/logrus"
)

// inotifyLimitEnv carries "name=value" to a test re-run in a child user
// namespace, where name is a file of /proc/sys/user.
const inotifyLimitEnv = "OCICNI_TEST_INOTIFY_LIMIT"

// inLimitedUserNS makes the calling test run with a real, exhausted
// inotify limit. In the parent it re-runs the test in a new user namespace
// (where /proc/sys/user/max_inotify_* are per-namespace limits that count
// against the namespace alone, so the machine's own limits stay untouched),
// checks that it passed there and returns false. (A mount namespace comes
// with it because the test binary mounts tmpfs on start.) In the child it sets the
// limit and returns true: the test body runs there.
func inLimitedUserNS(t *testing.T, limit string, value int) bool {
	t.Helper()
	if v := os.Getenv(inotifyLimitEnv); v != "" {
		name, val, _ := strings.Cut(v, "=")
		if err := os.WriteFile(filepath.Join("/proc/sys/user", name), []byte(val), 0o644); err != nil {
			t.Fatalf("setting %s in the child user namespace: %v", name, err)
		}
		return true
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("skipped: needs unshare(1) to make a user namespace")
	}
	if err := exec.Command("unshare", "--user", "--map-root-user", "true").Run(); err != nil {
		t.Skipf("skipped: cannot create a user namespace: %v", err)
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", os.Args[0],
		"-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s=%d", inotifyLimitEnv, limit, value))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the test failed with %s=%d in a child user namespace (%v):\n%s", limit, value, err, out)
	}
	return false
}

// pollingLogs returns the log entries announcing the fallback to polling.
func pollingLogs(e *env) []*logrus.Entry {
	var out []*logrus.Entry
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, "polling") {
			out = append(out, en)
		}
	}
	return out
}

// waitChanged waits until a reload replaces view, without calling into the
// plugin (which would reload on its own when polling).
func waitChanged(t *testing.T, view types.NetworkSet) {
	t.Helper()
	select {
	case <-view.Changed:
	case <-time.After(waitFor):
		t.Fatalf("the configuration view was not replaced within %s", waitFor)
	}
}

// checkPolls asserts that the plugin polls: a config written after the
// fallback is picked up by the poller itself, and the fallback was logged
// once, with the kernel's reason.
func checkPolls(t *testing.T, e *env, p *plugin, reason error) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Polling }, "the watcher never fell back to polling")
	view := p.current().Info()
	writeFile(t, filepath.Join(e.confDir, "05-late.conflist"), confBytes("late", "1.0.0"))
	waitChanged(t, view)
	if got := p.current().Info().Default; got != "late" {
		t.Fatalf("default network after polling = %q, want late", got)
	}
	writeFile(t, filepath.Join(e.confDir, "04-later.conflist"), confBytes("later", "1.0.0"))
	waitDefault(t, p, "later")

	logs := pollingLogs(e)
	if len(logs) != 1 {
		t.Fatalf("fallback logged %d times, want once: %v", len(logs), logs)
	}
	if err, _ := logs[0].Data[logrus.ErrorKey].(error); !errors.Is(err, reason) {
		t.Fatalf("fallback logged with error %v, want %v", logs[0].Data[logrus.ErrorKey], reason)
	}
}

func TestWatchPollsWithoutInotifyInstances(t *testing.T) {
	if !inLimitedUserNS(t, "max_inotify_instances", 0) {
		return
	}
	e := newEnv(t)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	p := e.plugin(WithPollInterval(5 * time.Millisecond))
	if got := p.GetDefaultNetworkName(); got != "a" {
		t.Fatalf("default network = %q, want a", got)
	}
	checkPolls(t, e, p, syscall.EMFILE)
}

func TestWatchPollsWithoutInotifyWatches(t *testing.T) {
	if !inLimitedUserNS(t, "max_inotify_watches", 0) {
		return
	}
	e := newEnv(t)
	p := e.plugin(WithPollInterval(5 * time.Millisecond))
	checkPolls(t, e, p, syscall.ENOSPC)
}

// When the watches run out later, for a directory that only became
// interesting after start, the watcher must not carry on half blind.
func TestWatchPollsWhenWatchesRunOutLater(t *testing.T) {
	// The conf dir, the plugin dir and their common parent.
	if !inLimitedUserNS(t, "max_inotify_watches", 3) {
		return
	}
	e := newEnv(t)
	p := e.watched(WithPollInterval(5 * time.Millisecond))
	if stats(p.conf).Polling {
		t.Fatalf("polling from the start; the limit is too low for this test's layout: %v", pollingLogs(e))
	}
	// A symlinked config whose target lives in a new directory needs a
	// fourth watch.
	elsewhere := t.TempDir()
	target := filepath.Join(elsewhere, "a.conflist")
	writeFile(t, target, confBytes("a", "1.0.0"))
	symlink(t, target, filepath.Join(e.confDir, "10-a.conflist"))
	waitDefault(t, p, "a")
	checkPolls(t, e, p, syscall.ENOSPC)

	view := p.current().Info()
	writeFile(t, target, confBytes("a2", "1.0.0"))
	waitChanged(t, view)
	waitDefault(t, p, "later")
	waitNetwork(t, p, "a2", func(types.NetworkInfo) bool { return true })
}
