package ocicnitest

import (
	"context"
	"fmt"

	cnitypes "github.com/containernetworking/cni/pkg/types"
)

// Verb is a CNI command, named as in CNI_COMMAND. Each network operation
// the fake performs is one Verb on one network, and a Fault picks the
// operations it applies to by Verb.
type Verb string

// The verbs a pod operation is made of.
const (
	// VerbAdd attaches one network (SetUpPod).
	VerbAdd Verb = "ADD"
	// VerbDel detaches one network (TearDownPod, the rollback of a failed
	// SetUpPod, and GC of a stale attachment).
	VerbDel Verb = "DEL"
	// VerbCheck checks one attachment (GetPodNetworkStatus).
	VerbCheck Verb = "CHECK"
	// VerbStatus asks the default network whether it is ready (Status,
	// WaitReady).
	VerbStatus Verb = "STATUS"
	// VerbGC is sent to every loaded network at the end of GC.
	VerbGC Verb = "GC"
)

// Fault scripts a misbehaviour of one network and verb. Unless Hang is
// set, the operation fails with a *cnitypes.Error carrying Code and Msg,
// which callers find with errors.As through the ocicni.OpError the fake
// wraps it in, exactly as with the real plugin.
type Fault struct {
	// Network is the network whose operations fail; "" means every
	// network.
	Network string
	// Verb is the operation that fails.
	Verb Verb
	// Code is the CNI error code; 0 means 999 (internal error).
	Code uint
	// Msg is the CNI error message; "" means "scripted failure".
	Msg string
	// Hang makes the operation block until its context ends (or the
	// plugin timeout passes) instead of failing at once. The error then
	// matches ctx.Err(), and ocicni.ErrPluginTimeout for a deadline.
	Hang bool
	// Once makes the fault apply to the first matching operation only;
	// otherwise it applies until ClearFaults.
	Once bool
}

// cniError is the error a failing Fault returns.
func (f *Fault) cniError() *cnitypes.Error {
	code, msg := f.Code, f.Msg
	if code == 0 {
		code = cnitypes.ErrInternal
	}
	if msg == "" {
		msg = "scripted failure"
	}
	return &cnitypes.Error{Code: code, Msg: msg, Details: "scripted by ocicnitest"}
}

func (f *Fault) matches(v Verb, network string) bool {
	return f.Verb == v && (f.Network == "" || f.Network == network)
}

// Inject adds a fault. Faults are tried in the order they were added; the
// first that matches an operation decides it.
func (p *Plugin) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
	p.changedLocked()
}

// ClearFaults removes every fault, so every operation succeeds again.
func (p *Plugin) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
	p.changedLocked()
}

// takeFault returns the fault deciding an operation, consuming it if it
// applies once. The caller holds p.mu.
func (p *Plugin) takeFault(v Verb, network string) *Fault {
	for i, f := range p.faults {
		if !f.matches(v, network) {
			continue
		}
		if f.Once {
			p.faults = append(p.faults[:i:i], p.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// act is what a plugin does for one operation: fail when ctx has ended,
// act out a fault, or succeed.
func (p *Plugin) act(ctx context.Context, f *Fault) error {
	if err := ctx.Err(); err != nil {
		return withCtxErr(ctx, err)
	}
	if f == nil {
		return nil
	}
	if !f.Hang {
		return fmt.Errorf("fake plugin failed (%s): %w", f.Verb, f.cniError())
	}
	if p.opts.pluginTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.pluginTimeout)
		defer cancel()
	}
	<-ctx.Done()
	return withCtxErr(ctx, fmt.Errorf("fake plugin hung on %s and was killed", f.Verb))
}
