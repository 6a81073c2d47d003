package ocicni

import "time"

// DefaultStatusInterval is how often the default network's STATUS is asked
// in the background when nothing else prompts it. Kubelet asks the runtime
// for its status about this often, so Status is never staler than what a
// synchronous exec per kubelet call would give.
const DefaultStatusInterval = 5 * time.Second

// readinessOptions configure the background STATUS poll; the zero value is
// the default.
type readinessOptions struct {
	// interval between polls: 0 means DefaultStatusInterval, less than 0
	// no polling on an interval.
	interval time.Duration
	// grace is how long a STATUS failure after a success is reported as
	// ready; 0 (the default) reports it at once.
	grace time.Duration
}

func (o readinessOptions) pollInterval() time.Duration {
	switch {
	case o.interval == 0:
		return DefaultStatusInterval
	case o.interval < 0:
		return 0
	}
	return o.interval
}

// WithStatusInterval sets how often the default network's plugins are
// asked for STATUS in the background (default DefaultStatusInterval), on
// top of the asking done when the configuration loads and whenever the
// default network's file or plugin binaries change. Zero or less turns the
// interval off: STATUS is then asked on load and on change only, so a
// plugin that stops being ready while its configuration stays put goes
// unnoticed.
func WithStatusInterval(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			d = -1
		}
		o.readiness.interval = d
	}
}

// WithStatusGracePeriod makes Status keep reporting ready for up to d after
// the default network's STATUS starts failing, provided it succeeded
// before: a network provider being rolled out is unavailable for some
// seconds, and a node should not flap NotReady for it. The failure is
// logged at once and shown in Networks() (Readiness.InGrace) all along. A
// network whose STATUS never succeeded gets no grace. Zero (the default)
// or less turns the grace period off.
func WithStatusGracePeriod(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			d = 0
		}
		o.readiness.grace = d
	}
}
