package ocicni

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/types"
)

// readiness asks the default network's plugins for STATUS in the
// background (when the configuration loads, when the default network's
// file or binaries change, and on an interval) and keeps the last answer,
// so that Status and Networks report without running a plugin: kubelet
// asks every few seconds, and a STATUS that hangs or a provider that is
// being restarted must not hold those calls up.
//
// Answers are kept by network name, not by the exact configuration: a
// provider's rollout typically rewrites its configuration file while its
// plugin is briefly unavailable, and the grace period is for exactly that,
// so the success before the rewrite still counts.
//
// Locking rule. mu guards st and changed, and is never held across a
// plugin exec: a poll runs unlocked and takes mu only to record its
// answer. Only the goroutine started by start polls.
type readiness struct {
	conf     *netconf.Source
	status   func(ctx context.Context, list *libcni.NetworkConfigList) error
	log      logrus.FieldLogger
	interval time.Duration // 0: no polling on an interval
	grace    time.Duration

	mu sync.Mutex
	st readyState
	// changed is closed, and replaced, whenever a poll records an answer.
	changed chan struct{}

	// life ends with stop; polls run on it, so stop kills a STATUS in
	// flight.
	life    context.Context
	endLife context.CancelFunc
	first   chan struct{} // closed once the first round of polling is over
	done    chan struct{} // closed when the poller goroutine has returned
}

// firstAnswerWait bounds how long New waits for the default network's first
// STATUS answer. Plugins answer in milliseconds, and a caller that asks
// Status right after New (a one-shot tool, a runtime starting) should get
// their word rather than "not answered yet"; a STATUS that takes longer
// goes on in the background and Status reports not ready until it answers.
const firstAnswerWait = time.Second

// readyState is what the polls have learnt of one network.
type readyState struct {
	name         string
	answered     bool
	everReady    bool
	err          error // the last answer, nil for a success
	checked      time.Time
	failingSince time.Time
}

// startReadiness starts the poller, which runs until stop, and waits up to
// firstAnswerWait for its first round.
func startReadiness(conf *netconf.Source, status func(context.Context, *libcni.NetworkConfigList) error, log logrus.FieldLogger, o readinessOptions) *readiness {
	r := &readiness{
		conf: conf, status: status, log: log,
		interval: o.pollInterval(), grace: o.grace,
		changed: make(chan struct{}), first: make(chan struct{}), done: make(chan struct{}),
	}
	r.life, r.endLife = context.WithCancel(context.Background())
	go r.run()
	t := time.NewTimer(firstAnswerWait)
	defer t.Stop()
	select {
	case <-r.first:
	case <-t.C:
	}
	return r
}

// stop ends the poller, killing a STATUS in flight, and waits for its
// goroutine. It may be called more than once.
func (r *readiness) stop() {
	r.endLife()
	<-r.done
}

func (r *readiness) run() {
	defer close(r.done)
	var tick <-chan time.Time
	if r.interval > 0 {
		t := time.NewTicker(r.interval)
		defer t.Stop()
		tick = t.C
	}
	var last struct {
		name string
		key  [32]byte
	}
	force, first := true, r.first
	for {
		set, _ := r.conf.Current(r.life)
		switch d := set.Default; {
		case d == nil || !hasStatusVerb(d.List):
			// Asked again when it comes back, even unchanged.
			last.name = ""
		case force || d.Name != last.name || d.Key() != last.key:
			r.poll(d)
			last.name, last.key = d.Name, d.Key()
		}
		if first != nil {
			close(first)
			first = nil
		}
		select {
		case <-r.life.Done():
			return
		case <-set.Changed():
			force = false
		case <-tick:
			force = true
		}
	}
}

// poll asks n's plugins for STATUS, each exec bounded by the STATUS
// timeout (see WithTimeouts), and records the answer, unless the plugin
// was shut down meanwhile (the exec was then killed, which says nothing
// about the network).
func (r *readiness) poll(n *netconf.Network) {
	err := r.status(r.life, n.List)
	if err != nil {
		err = statusFailure(n.Name, pluginexec.ContextError(r.life, err))
	}
	if r.life.Err() != nil {
		return
	}
	r.record(n.Name, err, time.Now())
}

func (r *readiness) record(name string, err error, at time.Time) {
	r.mu.Lock()
	prev := r.st
	st := prev
	if st.name != name {
		st = readyState{name: name}
	}
	st.answered, st.err, st.checked = true, err, at
	switch {
	case err == nil:
		st.everReady, st.failingSince = true, time.Time{}
	case st.failingSince.IsZero():
		st.failingSince = at
	}
	r.st = st
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()

	l := r.log.WithField("network", name)
	sameNet := prev.name == name && prev.answered
	switch {
	case err != nil && (!sameNet || prev.err == nil || prev.err.Error() != err.Error()):
		if st.everReady && r.grace > 0 {
			l = l.WithField("grace_until", st.failingSince.Add(r.grace).UTC().Format(time.RFC3339))
		}
		l.WithError(err).Warn("default CNI network's STATUS failed")
	case err == nil && sameNet && prev.err != nil:
		l.Info("default CNI network's STATUS succeeds again")
	}
}

// view returns what is known of network name at now, with the grace
// period applied.
func (r *readiness) view(name string, now time.Time) types.Readiness {
	r.mu.Lock()
	st := r.st
	r.mu.Unlock()
	if st.name != name || !st.answered {
		return types.Readiness{Pending: true, Err: fmt.Errorf("%w: default network %q: plugin STATUS not answered yet", ErrNotReady, name)}
	}
	v := types.Readiness{Ready: st.err == nil, Checked: st.checked, FailingSince: st.failingSince}
	if st.err == nil {
		return v
	}
	v.Err, v.Error = st.err, st.err.Error()
	var ce *cnitypes.Error
	if errors.As(st.err, &ce) {
		v.Code = ce.Code
	}
	if st.everReady && r.grace > 0 && now.Sub(st.failingSince) < r.grace {
		v.Ready, v.InGrace = true, true
	}
	return v
}

// changes returns a channel closed when the next answer is recorded.
func (r *readiness) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// hasStatusVerb reports whether the list's version has STATUS (1.1.0 on);
// libcni answers success without an exec for older ones.
func hasStatusVerb(list *libcni.NetworkConfigList) bool {
	ok, _ := version.GreaterThanOrEqualTo(list.CNIVersion, "1.1.0")
	return ok
}

// statusFailure is a failed STATUS as Status returns it: it matches
// ErrNotReady and, for the spec's codes 50 and 51, ErrNetworkUnavailable
// or ErrLimitedConnectivity, and errors.As finds the plugin's error.
func statusFailure(name string, err error) error {
	wrapped := fmt.Errorf("%w: default network %q: plugin STATUS: %w", ErrNotReady, name, err)
	var ce *cnitypes.Error
	if !errors.As(err, &ce) {
		return wrapped
	}
	switch ce.Code {
	case types.CodeNotAvailable:
		return &causedError{err: wrapped, causes: []error{ErrNetworkUnavailable}}
	case types.CodeLimitedConnectivity:
		return &causedError{err: wrapped, causes: []error{ErrLimitedConnectivity}}
	}
	return wrapped
}
