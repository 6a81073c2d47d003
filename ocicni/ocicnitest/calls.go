package ocicnitest

import (
	"slices"

	"github.com/netplumb/ocicni/ocicni"
)

// PodRef identifies the pod a call was about.
type PodRef struct {
	Namespace string
	Name      string
	// ID is the sandbox ID.
	ID string
}

// Call is one call of a CNIPlugin method on the fake. The WithContext
// variants are recorded under the name of the plain method.
type Call struct {
	// Method is "SetUpPod", "TearDownPod", "GetPodNetworkStatus", "GC",
	// "Status" or "WaitReady".
	Method string
	// Pod is the pod the call was about; zero for GC, Status and
	// WaitReady.
	Pod PodRef
	// Networks are the networks the caller asked for, as given; empty
	// when it asked for the default network (setup) or for every
	// attachment (teardown, status).
	Networks []ocicni.NetAttachment
	// ValidPods are the sandbox IDs a GC call was told to keep.
	ValidPods []string
	// Steps are the network operations the call ran, in the order they
	// started; a call refused before any plugin would run has none.
	Steps []Step
	// Done is false while the call is still running.
	Done bool
	// Err is what the call returned.
	Err error
}

// Step is one network operation of a call: one verb on one attachment.
type Step struct {
	Verb Verb
	// Sandbox is the sandbox ID; "" for STATUS and GC verbs, which
	// concern a network, not an attachment.
	Sandbox string
	Network string
	// Ifname is the interface name; "" for STATUS and GC verbs.
	Ifname string
	// Done is false while the operation runs (a scripted hang, say).
	Done bool
	// Err is the operation's own error, before the call wrapped it.
	Err error
}

// Calls returns every call made so far, in the order they started, with
// the steps each has run. Calls still running are included with Done
// false, so a test can wait for a hanging operation to begin.
func (p *Plugin) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		out[i] = *c
		out[i].Networks = slices.Clone(c.Networks)
		out[i].ValidPods = slices.Clone(c.ValidPods)
		out[i].Steps = slices.Clone(c.Steps)
	}
	return out
}

// begin records the start of a call.
func (p *Plugin) begin(method string, pod *ocicni.PodNetwork) *Call {
	c := &Call{Method: method}
	if pod != nil {
		c.Pod = PodRef{Namespace: pod.Namespace, Name: pod.Name, ID: pod.ID}
		c.Networks = slices.Clone(pod.Networks)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	return c
}

// end records what a call returned.
func (p *Plugin) end(c *Call, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.Done, c.Err = true, err
}

// ResetCalls forgets the calls that have returned, so a long test or a
// benchmark does not keep every call it ever made. Calls still running
// stay recorded.
func (p *Plugin) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	running := p.calls[:0]
	for _, c := range p.calls {
		if !c.Done {
			running = append(running, c)
		}
	}
	clear(p.calls[len(running):])
	p.calls = running
}
