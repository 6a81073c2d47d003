package ocicni

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A readiness error that says a plugin binary is missing matches
// ErrPluginNotFound, however the binary went missing and whether or not the
// default network is named.
func TestStatusMissingPluginMatchesErrPluginNotFound(t *testing.T) {
	cases := []struct {
		name   string
		opts   []Option
		before func(e *env)
		after  func(e *env)
	}{
		{name: "unnamed default skipped at load", before: func(e *env) {
			testutil.WriteFile(e.t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0", "noop", "nosuch"))
		}},
		{name: "named default skipped at load", opts: []Option{WithDefaultNetwork("b")}, before: func(e *env) {
			testutil.WriteFile(e.t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0", "noop"))
			testutil.WriteFile(e.t, filepath.Join(e.confDir, "20-b.conflist"), testutil.ConfBytes("b", "1.0.0", "nosuch"))
		}},
		{name: "binary removed after load", before: func(e *env) {
			testutil.WriteFile(e.t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0", "noop", "faulty"))
		}, after: func(e *env) {
			if err := os.Remove(filepath.Join(e.binDir, "faulty")); err != nil {
				e.t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "noop", "faulty")
			tc.before(e)
			// Without the watcher every call reloads when the directories
			// changed, so the removal is seen by the next Status.
			p := e.plugin(append(tc.opts, WithWatch(false))...)
			if tc.after != nil {
				if err := p.Status(); err != nil {
					t.Fatalf("Status before the binary went away = %v", err)
				}
				tc.after(e)
			}
			err := p.Status()
			if !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrPluginNotFound) {
				t.Fatalf("Status = %v; want it to match ErrNotReady and ErrPluginNotFound", err)
			}
			if !strings.Contains(err.Error(), "is missing from") {
				t.Fatalf("Status = %q; want it to say which binary is missing", err)
			}
		})
	}
}

// A readiness error that has nothing to do with a plugin binary does not
// claim one is missing; one about an absent conf dir matches fs.ErrNotExist.
func TestStatusNotReadyMatchesOnlyItsCause(t *testing.T) {
	e := newEnv(t)
	p := e.plugin(WithWatch(false))
	if err := p.Status(); !errors.Is(err, ErrNoDefaultNetwork) || errors.Is(err, ErrPluginNotFound) {
		t.Fatalf("Status on an empty conf dir = %v; want ErrNoDefaultNetwork and not ErrPluginNotFound", err)
	}

	gone := e.plugin(WithConfDir(filepath.Join(e.confDir, "absent")), WithWatch(false))
	if err := gone.Status(); !errors.Is(err, ErrNotReady) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Status on a missing conf dir = %v; want ErrNotReady and fs.ErrNotExist", err)
	}
}

// A netns path that does not exist is refused before any plugin runs, with
// an error a caller can tell apart from other refusals with fs.ErrNotExist.
func TestSetUpPodMissingNetNSMatchesErrNotExist(t *testing.T) {
	e := newEnv(t)
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0"))
	p := e.plugin()
	pod := PodNetwork{Name: "web", Namespace: "default", ID: "sandbox-1", NetNS: filepath.Join(t.TempDir(), "gone")}
	_, err := p.SetUpPodWithContext(context.Background(), pod)
	if !errors.Is(err, ErrInvalidPodNetwork) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SetUpPod with a missing netns = %v; want ErrInvalidPodNetwork and fs.ErrNotExist", err)
	}
	if err := ValidatePodNetwork(pod); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ValidatePodNetwork with a missing netns = %v; want fs.ErrNotExist", err)
	}
}

// WaitReady's timeout error is one line, so it fits a log line or a
// condition message, and still matches both of its causes.
func TestWaitReadyTimeoutIsOneLine(t *testing.T) {
	e := newEnv(t)
	testutil.WriteFile(t, filepath.Join(e.confDir, "10-a.conflist"), testutil.ConfBytes("a", "1.0.0", "nosuch"))
	p := e.watched()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.WaitReady(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrPluginNotFound) {
		t.Fatalf("WaitReady = %v; want DeadlineExceeded, ErrNotReady and ErrPluginNotFound", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("WaitReady's error spans lines:\n%s", err)
	}
}

// A conf file with a JSON syntax error is skipped with a reason naming the
// line and column an operator has to fix.
func TestSkippedSyntaxErrorNamesLineAndColumn(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"stray comma", "{\n  \"cniVersion\": \"1.0.0\",\n  \"name\": \"a\",,\n  \"plugins\": []\n}\n", "line 3, column 15"},
		{"after a multibyte rune", "{\n  \"name\": \"é\" \"x\"\n}", "line 2, column 15"},
		{"cut short", "{\n  \"name\": \"a\",\n", "line 2, column 15"},
		{"first byte", "x", "line 1, column 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			path := filepath.Join(e.confDir, "10-a.conflist")
			testutil.WriteFile(t, path, []byte(tc.data))
			set := e.plugin(WithWatch(false)).Networks()
			if len(set.Skipped) != 1 || set.Skipped[0].File != path {
				t.Fatalf("Skipped = %+v; want %s", set.Skipped, path)
			}
			if reason := set.Skipped[0].Reason; !strings.Contains(reason, tc.want) {
				t.Fatalf("reason %q does not name %q", reason, tc.want)
			}
		})
	}
}
