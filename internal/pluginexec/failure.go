package pluginexec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/types"
)

// Short local names for the sentinels this package returns.
var (
	errPluginNotFound      = types.ErrPluginNotFound
	errInvalidPluginOutput = types.ErrInvalidPluginOutput
)

// ContextError adds ctx's verdict to err when ctx has ended: libcni reports
// a plugin killed on cancellation only as "signal: killed", so without it a
// caller could not tell a timeout from a crash. A deadline adds
// ErrPluginTimeout and context.DeadlineExceeded, a cancellation
// context.Canceled; an err that already carries them, or a live ctx, leaves
// err as it is.
func ContextError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if err == nil || cerr == nil || errors.Is(err, cerr) {
		return err
	}
	if errors.Is(cerr, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w: %w", err, types.ErrPluginTimeout, cerr)
	}
	return fmt.Errorf("%w: %w", err, cerr)
}

// execError turns a failed run into the most useful error: the plugin's
// own CNI error when it printed one, otherwise a description of how it died.
func execError(err error, stdout, stderr []byte) error {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w: %w", errPluginNotFound, err)
		}
		return err
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("killed by signal %v%s: %w", ws.Signal(), stderrNote(stderr), errInvalidPluginOutput)
	}
	trimmed := bytes.TrimSpace(stdout)
	if len(trimmed) > 0 {
		var ce cnitypes.Error
		if json.Unmarshal(trimmed, &ce) == nil && (ce.Code != 0 || ce.Msg != "") {
			return &ce
		}
		return fmt.Errorf("exited with status %d and printed %s, which is not a CNI error%s: %w",
			exitErr.ExitCode(), quoteShort(trimmed), stderrNote(stderr), errInvalidPluginOutput)
	}
	return fmt.Errorf("exited with status %d without a CNI error%s: %w", exitErr.ExitCode(), stderrNote(stderr), errInvalidPluginOutput)
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
