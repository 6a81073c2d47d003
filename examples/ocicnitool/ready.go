package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

// reasonTimeout bounds the STATUS that explains why ready --wait gave up.
const reasonTimeout = 15 * time.Second

func readyVerb() *verb {
	return &verb{
		name: "ready", args: "", minArgs: 0, maxArgs: 0,
		summary: "say whether pods can be set up, and why not; exit 3 if not",
		help: `
Ready means the default network is loaded, every plugin binary of its chain
is present, and the plugins' STATUS verb (cniVersion 1.1.0) reports ready.
When it is not, the reason says what to fix, and the exit code is 3.
With --wait it blocks until ready, up to --timeout (or until interrupted).`,
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.BoolVar(&inv.wait, "wait", false, "wait until ready, up to --timeout")
		},
		run: runReady,
	}
}

// readyReport is the outcome of ready.
type readyReport struct {
	Ready   bool   `json:"ready"`
	ConfDir string `json:"conf_dir"`
	Default string `json:"default"`
	File    string `json:"file,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func runReady(ctx context.Context, inv *invocation) error {
	p, err := inv.newPlugin(inv.wait)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	if inv.wait {
		err = p.WaitReady(ctx)
		if err != nil && ctx.Err() != nil {
			// WaitReady's error leads with the context's; the reason is
			// what the configuration says now.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reasonTimeout)
			err = p.StatusWithContext(rctx)
			cancel()
			if err == nil {
				err = fmt.Errorf("%w: gave up waiting: %w", ocicni.ErrNotReady, ctx.Err())
			}
		}
	} else {
		err = p.StatusWithContext(ctx)
	}
	if err != nil && !errors.Is(err, ocicni.ErrNotReady) {
		return err
	}
	r := newReadyReport(p.Networks(), err)
	if perr := inv.emit(r); perr != nil {
		return perr
	}
	if !r.Ready {
		return exitStatus(exitNotReady)
	}
	return nil
}

// newReadyReport describes the verdict of Status on a configuration.
func newReadyReport(set ocicni.NetworkSet, statusErr error) *readyReport {
	r := &readyReport{Ready: statusErr == nil, ConfDir: set.ConfDir, Default: set.Default}
	for _, n := range set.Networks {
		if n.Default {
			r.File = n.File
		}
	}
	if statusErr != nil {
		r.Reason = statusErr.Error()
	}
	return r
}

func (r *readyReport) writeText(w io.Writer) error {
	var err error
	if r.Ready {
		_, err = fmt.Fprintf(w, "ready: default network %s (%s)\n", r.Default, r.File)
	} else {
		_, err = fmt.Fprintf(w, "not ready: %s\n", r.Reason)
	}
	return err
}
