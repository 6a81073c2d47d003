package pluginexec

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
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
func run(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string, how launch) ([]byte, error) {
	backoff := textBusyBackoff
	for attempt := 0; ; attempt++ {
		out, err := runOnce(ctx, log, pluginPath, stdinData, environ, how)
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

// launch says how an exec starts beyond the plain case.
type launch struct {
	// gate, when not nil, holds the configuration back until it opens.
	gate *Gate
	// nice, when above 0, is the CPU niceness the plugin's process group
	// runs at.
	nice int
}

// runOnce is one attempt of run. The plugin's stdin yields nothing until
// the process group has its niceness and the gate, if any, has opened; a
// plugin acts only on its configuration, so nothing it does escapes
// either. A gate opened with an error kills the group before the plugin
// has read a byte.
//
// The plugin's answer is what it printed by the time it exited: a daemon
// it started may hold its stdout or stderr open for good, so the exec ends
// with the plugin, not with the pipes, and what is left of the plugin's
// process group is killed. Stdout is capped at StdoutCap and stderr keeps
// a head and a tail, so a runaway plugin cannot grow the runtime.
func runOnce(ctx context.Context, log logrus.FieldLogger, pluginPath string, stdinData []byte, environ []string, how launch) ([]byte, error) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdin io.Reader = bytes.NewReader(stdinData)
	// started is closed once the group has its niceness; only a process
	// that started has a stdin to hold.
	started := make(chan struct{})
	if how.gate != nil || how.nice > 0 {
		stdin = &heldReader{r: stdin, hold: func() error {
			select {
			case <-started:
			case <-cctx.Done():
				return cctx.Err()
			}
			if err := how.gate.hold(cctx); err != nil {
				cancel()
				return err
			}
			return nil
		}}
	}
	stdout := &capped{limit: StdoutCap}
	stderr := &headTail{headCap: stderrHead, tailCap: stderrTail}
	c := exec.CommandContext(cctx, pluginPath)
	c.Env = environ
	c.Stdin = stdin
	c.WaitDelay = waitDelay
	ownGroup(c)
	outs, err := outputPipes(c, stdout, stderr)
	if err != nil {
		return nil, err
	}
	err = c.Start()
	outs.closeWriteEnds()
	if err == nil {
		if how.nice > 0 {
			if perr := niceGroup(c.Process.Pid, how.nice); perr != nil {
				log.WithError(perr).Debug("cannot lower the plugin's CPU priority")
			}
		}
		close(started)
		// The plugin has exited but is not reaped yet, so its group ID
		// cannot be reused: kill what it left behind in its group.
		if awaitExit(c.Process.Pid) == nil {
			_ = killGroup(c.Process.Pid)
		}
		err = c.Wait()
		if gerr := endGroup(c.Process.Pid, waitDelay); gerr != nil {
			log.WithError(gerr).Error("a plugin's process group outlived SIGKILL")
		}
	}
	outs.finish()
	if gerr := how.gate.failed(); gerr != nil && ctx.Err() == nil {
		return nil, gerr
	}
	logStderr(log, stderr.Bytes(), err != nil || stdout.overflowed())
	if stdout.overflowed() {
		return nil, stdout.tooLarge()
	}
	if err != nil {
		return nil, execError(err, stdout.buf, stderr.Bytes())
	}
	return stdout.buf, nil
}

// pipes are a plugin's stdout and stderr, read as it writes.
type pipes struct {
	writeEnds []*os.File
	readers   []*pipeReader
}

// outputPipes gives c a pipe of its own for stdout and one for stderr,
// copied into the sinks. A pipe handed over as an *os.File is one exec.Cmd
// does not wait on, unlike the pipes it makes for a Writer.
func outputPipes(c *exec.Cmd, stdout, stderr interface{ Write([]byte) (int, error) }) (*pipes, error) {
	p := &pipes{}
	for _, sink := range []interface{ Write([]byte) (int, error) }{stdout, stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			p.closeWriteEnds()
			p.finish()
			return nil, err
		}
		p.writeEnds = append(p.writeEnds, w)
		p.readers = append(p.readers, readPipe(r, sink))
	}
	c.Stdout, c.Stderr = p.writeEnds[0], p.writeEnds[1]
	return p, nil
}

// closeWriteEnds closes the runtime's copies of the write ends once the
// plugin has its own, so the pipes end when the plugin's side closes.
func (p *pipes) closeWriteEnds() {
	for _, w := range p.writeEnds {
		_ = w.Close()
	}
}

func (p *pipes) finish() {
	for _, r := range p.readers {
		r.finish()
	}
}
