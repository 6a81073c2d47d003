package pluginexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

const (
	// textBusyRetries bounds the retries of an exec that fails with
	// ETXTBSY, which happens while a plugin binary is being replaced.
	textBusyRetries = 6
	textBusyBackoff = 20 * time.Millisecond
	// waitDelay bounds how long an exec waits for a plugin's output pipes
	// to close after it exits or is killed, and how long a killed process
	// group may take to die: a grandchild holding the pipes must not hang
	// the call forever, yet a plugin on a loaded node must not be failed
	// for a slow pipe drain (one second proved too short under a load of
	// 100 concurrent pods).
	waitDelay = 10 * time.Second
)

// run execs the binary in a process group of its own, retrying a bounded
// number of times on ETXTBSY. A fresh exec.Cmd is built for every attempt,
// since a Cmd cannot be reused. When ctx ends, the whole group is killed
// and run returns only once no process of it is left alive, so a child a
// plugin started (an IPAM delegate, say) cannot go on working on the
// sandbox while the caller rolls back or tears down.
func run(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string, gate *Gate) ([]byte, error) {
	backoff := textBusyBackoff
	for attempt := 0; ; attempt++ {
		out, err := runOnce(ctx, log, pluginPath, stdinData, environ, gate)
		if err == nil {
			return out, nil
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
		return nil, err
	}
}

// runOnce is one attempt of run. With a gate, the plugin's stdin yields
// nothing until the gate opens; a gate opened with an error kills the group
// before the plugin has read its configuration.
func runOnce(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string, gate *Gate) ([]byte, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr bytes.Buffer
	var stdin io.Reader = bytes.NewReader(stdinData)
	var held atomic.Pointer[error]
	if gate != nil {
		stdin = &heldReader{r: stdin, hold: func() error {
			err := gate.await(cctx)
			if err != nil {
				held.Store(&err)
				cancel()
			}
			return err
		}}
	}
	c := exec.CommandContext(cctx, pluginPath)
	c.Env = environ
	c.Stdin = stdin
	c.Stdout = &stdout
	c.Stderr = &stderr
	c.WaitDelay = waitDelay
	ownGroup(c)
	err := c.Run()
	if cctx.Err() != nil && c.Process != nil {
		if gerr := endGroup(c.Process.Pid, waitDelay); gerr != nil {
			log.WithError(gerr).Error("a cancelled plugin's process group outlived SIGKILL")
		}
	}
	if h := held.Load(); h != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("%w: %w", errGateFailed, *h)
	}
	logStderr(log, stderr.Bytes(), err != nil)
	if err != nil {
		return nil, execError(err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}
