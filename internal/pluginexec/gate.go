package pluginexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// A Gate holds back an ADD's network configuration until work the caller
// runs alongside the exec has finished. A plugin learns what to do only from
// the configuration on its stdin, so a plugin that has not received it has
// done nothing; meanwhile its process can be forked, exec'd and its runtime
// started. The caller opens the gate exactly once, with the outcome of its
// work: nil hands the configuration over, an error kills the plugin's
// process group before the plugin has read a byte, and the exec fails with
// that error.
type Gate struct {
	done    chan struct{}
	err     error
	claimed atomic.Bool
}

// NewGate returns a closed gate.
func NewGate() *Gate { return &Gate{done: make(chan struct{})} }

// Open lets the held exec go on when err is nil and fails it otherwise.
// It must be called exactly once.
func (g *Gate) Open(err error) {
	g.err = err
	close(g.done)
}

// Wait blocks until Open is called and returns its error. It does not
// honour a context on purpose: the caller's work is what Open reports, and
// the caller must know its outcome before deciding what the attachment owes.
func (g *Gate) Wait() error {
	<-g.done
	return g.err
}

// hold waits, bounded by ctx, for the gate to open and returns its error
// marked as the gate's; a nil gate holds nothing.
func (g *Gate) hold(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		return g.failed()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failed returns the error the gate was opened with, marked as the gate's,
// or nil while it is open, still closed, or nil.
func (g *Gate) failed() error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		if g.err != nil {
			return fmt.Errorf("%w: %w", errGateFailed, g.err)
		}
	default:
	}
	return nil
}

type gateKey struct{}

// WithGate returns ctx carrying g. The first exec under ctx whose
// CNI_COMMAND is ADD is held by g; every other exec runs at once.
func WithGate(ctx context.Context, g *Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// gateFor returns the gate that holds this exec, or nil.
func gateFor(ctx context.Context, cmd string) *Gate {
	g, _ := ctx.Value(gateKey{}).(*Gate)
	if g == nil || cmd != "ADD" || !g.claimed.CompareAndSwap(false, true) {
		return nil
	}
	return g
}

// errGateFailed marks the error a gate was opened with, so the exec that
// it held reports it as it is rather than as the plugin's failure.
var errGateFailed = errors.New("configuration held back")

// heldReader is a plugin's stdin that yields nothing until hold returns.
type heldReader struct {
	hold func() error
	held bool
	r    io.Reader
}

func (h *heldReader) Read(p []byte) (int, error) {
	if !h.held {
		if err := h.hold(); err != nil {
			return 0, err
		}
		h.held = true
	}
	return h.r.Read(p)
}
