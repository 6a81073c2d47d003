package ocicni

import (
	"time"

	"github.com/netplumb/ocicni/internal/pluginexec"
)

// Timeouts bounds each plugin exec by its CNI verb. Each bound applies to
// one exec of one plugin of a chain, and only while the caller's context
// has no earlier deadline. In the options that take a Timeouts, a zero
// field leaves that verb's bound as it was and a negative one removes it.
type Timeouts struct {
	Add     time.Duration
	Del     time.Duration
	Check   time.Duration
	Status  time.Duration
	GC      time.Duration
	Version time.Duration
}

// DefaultTimeouts returns the bounds in force unless an option changes
// them: CRI-O's ADD 5 minutes, DEL 1 minute and GC 30 seconds, with CHECK
// 1 minute, STATUS 10 seconds (Status answers a kubelet polling every few
// seconds) and VERSION 10 seconds (a reload waits for it).
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Add:     5 * time.Minute,
		Del:     time.Minute,
		Check:   time.Minute,
		Status:  10 * time.Second,
		GC:      30 * time.Second,
		Version: 10 * time.Second,
	}
}

// WithTimeouts sets the bound of each plugin exec by verb, for every
// network (default DefaultTimeouts). Zero fields keep the bound set before,
// negative ones remove it.
func WithTimeouts(t Timeouts) Option {
	return func(o *options) { o.timeouts = o.timeouts.over(t) }
}

// WithNetworkTimeouts sets, for the network named, bounds that win over
// those of WithTimeouts and WithPluginTimeout: a plugin known to be slow
// (host-device over many NICs, say) gets a longer ADD without giving every
// network one. Zero fields fall back to the bounds for every network,
// negative ones remove the bound. Version is ignored: a VERSION exec
// serves no network. The option may be given once per network; a later
// one for the same network replaces an earlier one.
func WithNetworkTimeouts(network string, t Timeouts) Option {
	return func(o *options) {
		if o.networkTimeouts == nil {
			o.networkTimeouts = map[string]Timeouts{}
		}
		o.networkTimeouts[network] = t
	}
}

// over returns t with the non-zero fields of u in place of its own.
func (t Timeouts) over(u Timeouts) Timeouts {
	pick := func(old, new time.Duration) time.Duration {
		if new != 0 {
			return new
		}
		return old
	}
	return Timeouts{
		Add: pick(t.Add, u.Add), Del: pick(t.Del, u.Del), Check: pick(t.Check, u.Check),
		Status: pick(t.Status, u.Status), GC: pick(t.GC, u.GC), Version: pick(t.Version, u.Version),
	}
}

// byVerb maps the CNI verbs to t's non-zero bounds.
func (t Timeouts) byVerb() map[string]time.Duration {
	m := map[string]time.Duration{}
	for verb, d := range map[string]time.Duration{
		"ADD": t.Add, "DEL": t.Del, "CHECK": t.Check, "STATUS": t.Status, "GC": t.GC, "VERSION": t.Version,
	} {
		if d != 0 {
			m[verb] = d
		}
	}
	return m
}

// execTimeouts is what the plugin runner applies: the bounds for every
// network, and each network's own where it set one.
func (o *options) execTimeouts() pluginexec.Timeouts {
	t := pluginexec.Timeouts{ByVerb: o.timeouts.byVerb()}
	for name, nt := range o.networkTimeouts {
		nt.Version = 0
		if m := nt.byVerb(); len(m) > 0 {
			if t.ByNetwork == nil {
				t.ByNetwork = map[string]map[string]time.Duration{}
			}
			t.ByNetwork[name] = m
		}
	}
	return t
}
