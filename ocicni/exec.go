package ocicni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/types/create"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"
)

const (
	// textBusyRetries bounds the retries of an exec that fails with
	// ETXTBSY, which happens while a plugin binary is being replaced.
	textBusyRetries = 6
	textBusyBackoff = 20 * time.Millisecond
	// waitDelay bounds how long an exec waits for a plugin's output pipes
	// to close after it exits or is killed: a grandchild holding them must
	// not hang the call forever, yet a plugin on a loaded node must not be
	// failed for a slow pipe drain (one second proved too short under a
	// load of 100 concurrent pods).
	waitDelay = 10 * time.Second
	// stderrLogCap keeps a chatty plugin from flooding the log.
	stderrLogCap = 64 << 10
)

// pluginExec is the invoke.Exec handed to libcni. It adds what libcni leaves
// out: a per-exec deadline, errors that name the plugin and say it timed out,
// a check that the output is a CNI document, stderr routed to the injected
// logger with the operation's fields, and a working "text file busy" retry.
type pluginExec struct {
	inner   invoke.Exec // nil means run the binary directly
	timeout time.Duration
	log     logrus.FieldLogger
}

var _ invoke.Exec = (*pluginExec)(nil)

type logFieldsKey struct{}

// withLogFields attaches fields to ctx that the exec adds to every log line
// about a plugin it ran under ctx.
func withLogFields(ctx context.Context, f logrus.Fields) context.Context {
	if prev, ok := ctx.Value(logFieldsKey{}).(logrus.Fields); ok {
		merged := make(logrus.Fields, len(prev)+len(f))
		for k, v := range prev {
			merged[k] = v
		}
		for k, v := range f {
			merged[k] = v
		}
		f = merged
	}
	return context.WithValue(ctx, logFieldsKey{}, f)
}

func logFields(ctx context.Context) logrus.Fields {
	f, _ := ctx.Value(logFieldsKey{}).(logrus.Fields)
	return f
}

func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// ExecPlugin runs one plugin and returns its stdout.
func (e *pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	name := filepath.Base(pluginPath)
	cmd := envValue(environ, "CNI_COMMAND")
	what := fmt.Sprintf("plugin %s (%s)", name, cmd)
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	log := e.log.WithFields(logFields(ctx)).WithFields(logrus.Fields{"plugin": name, "command": cmd})

	var out []byte
	var err error
	if e.inner != nil {
		out, err = e.inner.ExecPlugin(ctx, pluginPath, stdinData, environ)
	} else {
		out, err = e.run(ctx, log, pluginPath, stdinData, environ)
	}
	if cerr := ctxErr(ctx, what); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		var ce *cnitypes.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if cmd == "ADD" || cmd == "VERSION" {
		trimmed := bytes.TrimSpace(out)
		if len(trimmed) == 0 {
			return nil, fmt.Errorf("%s succeeded but printed no result: %w", what, ErrInvalidPluginOutput)
		}
		if !json.Valid(trimmed) || trimmed[0] != '{' {
			return nil, fmt.Errorf("%s succeeded but printed %s, which is not a CNI result: %w", what, quoteShort(trimmed), ErrInvalidPluginOutput)
		}
	}
	if cmd == "ADD" {
		if err := checkResult(stdinData, out); err != nil {
			return nil, fmt.Errorf("%s succeeded but printed %s, which is not a valid CNI result (%v): %w", what, quoteShort(bytes.TrimSpace(out)), err, ErrInvalidPluginOutput)
		}
	}
	return out, nil
}

// checkResult decodes an ADD result the way libcni will, so a document of
// the wrong shape or an unknown version is reported as the plugin's fault
// rather than surfacing as a bare JSON decode error from inside libcni.
func checkResult(netconf, out []byte) error {
	var v struct {
		CNIVersion string `json:"cniVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	if v.CNIVersion == "" {
		var d version.ConfigDecoder
		confVersion, err := d.Decode(netconf)
		if err != nil {
			return err
		}
		v.CNIVersion = confVersion
	}
	_, err := create.Create(v.CNIVersion, out)
	return err
}

// run execs the binary, retrying a bounded number of times on ETXTBSY. A
// fresh exec.Cmd is built for every attempt, since a Cmd cannot be reused.
func (e *pluginExec) run(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	backoff := textBusyBackoff
	for attempt := 0; ; attempt++ {
		var stdout, stderr bytes.Buffer
		c := exec.CommandContext(ctx, pluginPath)
		c.Env = environ
		c.Stdin = bytes.NewReader(stdinData)
		c.Stdout = &stdout
		c.Stderr = &stderr
		c.WaitDelay = waitDelay
		err := c.Run()
		logStderr(log, stderr.Bytes(), err != nil)
		if err == nil {
			return stdout.Bytes(), nil
		}
		if errors.Is(err, syscall.ETXTBSY) && attempt < textBusyRetries {
			log.WithField("attempt", attempt+1).Debug("plugin binary busy (being replaced), retrying")
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			backoff *= 2
			continue
		}
		return nil, execError(err, stdout.Bytes(), stderr.Bytes())
	}
}

func logStderr(log logrus.FieldLogger, stderr []byte, failed bool) {
	msg := strings.TrimSpace(string(stderr))
	if msg == "" {
		return
	}
	if len(msg) > stderrLogCap {
		msg = msg[:stderrLogCap] + "…(truncated)"
	}
	l := log.WithField("stderr", msg)
	if failed {
		l.Warn("plugin wrote to stderr")
	} else {
		l.Debug("plugin wrote to stderr")
	}
}

// execError turns a failed run into the most useful error: the plugin's
// own CNI error when it printed one, otherwise a description of how it died.
func execError(err error, stdout, stderr []byte) error {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w: %w", ErrPluginNotFound, err)
		}
		return err
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("killed by signal %v%s: %w", ws.Signal(), stderrNote(stderr), ErrInvalidPluginOutput)
	}
	trimmed := bytes.TrimSpace(stdout)
	if len(trimmed) > 0 {
		var ce cnitypes.Error
		if json.Unmarshal(trimmed, &ce) == nil && (ce.Code != 0 || ce.Msg != "") {
			return &ce
		}
		return fmt.Errorf("exited with status %d and printed %s, which is not a CNI error%s: %w",
			exitErr.ExitCode(), quoteShort(trimmed), stderrNote(stderr), ErrInvalidPluginOutput)
	}
	return fmt.Errorf("exited with status %d without a CNI error%s: %w", exitErr.ExitCode(), stderrNote(stderr), ErrInvalidPluginOutput)
}

func stderrNote(stderr []byte) string {
	s := strings.TrimSpace(string(stderr))
	if s == "" {
		return ""
	}
	return " (stderr: " + quoteShort([]byte(s)) + ")"
}

func quoteShort(b []byte) string {
	const max = 200
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// FindInPath finds a plugin binary and checks it can be executed.
func (e *pluginExec) FindInPath(plugin string, paths []string) (string, error) {
	if e.inner != nil {
		p, err := e.inner.FindInPath(plugin, paths)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrPluginNotFound, err)
		}
		return p, nil
	}
	return findPlugin(plugin, paths)
}

// Decode parses a VERSION answer.
func (e *pluginExec) Decode(jsonBytes []byte) (version.PluginInfo, error) {
	if e.inner != nil {
		return e.inner.Decode(jsonBytes)
	}
	var d version.PluginDecoder
	return d.Decode(jsonBytes)
}

// findPlugin looks a plugin type up in dirs. Unlike invoke.FindInPath it
// follows symlinks explicitly and refuses files that are not executable, so
// the error says which of the two went wrong.
func findPlugin(plugin string, dirs []string) (string, error) {
	p, _, err := statPlugin(plugin, dirs)
	return p, err
}

// statPlugin is findPlugin that also returns the binary's FileInfo, so a
// caller that stamps the binary need not stat it a second time.
func statPlugin(plugin string, dirs []string) (string, os.FileInfo, error) {
	if plugin == "" || strings.ContainsAny(plugin, `/\`) || plugin == "." || plugin == ".." {
		return "", nil, fmt.Errorf("%w: invalid plugin type %q", ErrPluginNotFound, plugin)
	}
	var notExec string
	for _, d := range dirs {
		p := filepath.Join(d, plugin)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Mode().Perm()&0o111 == 0 {
			notExec = p
			continue
		}
		return p, fi, nil
	}
	if notExec != "" {
		return "", nil, fmt.Errorf("%w: plugin %q at %s is not executable", ErrPluginNotFound, plugin, notExec)
	}
	return "", nil, fmt.Errorf("%w: plugin %q is missing from %s", ErrPluginNotFound, plugin, strings.Join(dirs, ", "))
}
