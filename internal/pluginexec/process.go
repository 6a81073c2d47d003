package pluginexec

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
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
func run(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	backoff := textBusyBackoff
	for attempt := 0; ; attempt++ {
		var stdout, stderr bytes.Buffer
		c := exec.CommandContext(ctx, pluginPath)
		c.Env = environ
		c.Stdin = bytes.NewReader(stdinData)
		c.Stdout = &stdout
		c.Stderr = &stderr
		c.WaitDelay = waitDelay
		ownGroup(c)
		err := c.Run()
		if ctx.Err() != nil && c.Process != nil {
			if gerr := endGroup(c.Process.Pid, waitDelay); gerr != nil {
				log.WithError(gerr).Error("a cancelled plugin's process group outlived SIGKILL")
			}
		}
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
