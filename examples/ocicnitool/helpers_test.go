package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// TestMain runs the tests in a throwaway network and mount namespace when
// root (see testutil.Main); the end-to-end test needs it.
func TestMain(m *testing.M) { testutil.Main(m) }

// env is a process environment for run.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// parseOK parses a command line (verb first) and fails the test on error.
func parseOK(t *testing.T, e env, args ...string) *invocation {
	t.Helper()
	var v *verb
	for _, cand := range verbs() {
		if cand.name == args[0] {
			v = cand
		}
	}
	if v == nil {
		t.Fatalf("no verb %q", args[0])
	}
	inv, err := parseInvocation(v, args[1:], e.get, io.Discard, io.Discard)
	if err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return inv
}

// runInProcess runs the tool's run function and returns its exit code and
// output.
func runInProcess(t *testing.T, e env, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, e.get, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// decodeJSON decodes s into v and fails the test if it does not parse.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, s)
	}
}

// tool is the built binary with the environment it runs in.
type tool struct {
	t    *testing.T
	path string
	env  []string
}

// buildTool builds the binary into a temporary directory.
func buildTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ocicnitool")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// result is one finished run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary to completion, bounded by a minute.
func (tl *tool) run(args ...string) result {
	tl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.path, args...)
	cmd.Env = tl.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		tl.t.Fatalf("running ocicnitool %q: %v", args, err)
	}
	tl.t.Logf("ocicnitool %s -> %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// want fails the test unless the run exited with code.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// start runs the binary in the background, sending each line it prints on
// the returned channel, which closes when the output ends. The process is
// killed when the test ends, if still running.
func (tl *tool) start(args ...string) (*exec.Cmd, <-chan string) {
	tl.t.Helper()
	cmd := exec.Command(tl.path, args...)
	cmd.Env = tl.env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tl.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tl.t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// Killing a process that already exited is harmless; whoever waits
	// for it (exitsZero) reaps it, so the cleanup does not wait too.
	tl.t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, lines
}

// waitLine waits, up to timeout, for a line containing want, and returns it.
func waitLine(t *testing.T, lines <-chan string, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line containing %q", want)
			}
			t.Logf("watch: %s", l)
			if strings.Contains(l, want) {
				return l
			}
		case <-deadline.C:
			t.Fatalf("no line containing %q within %s", want, timeout)
		}
	}
}
