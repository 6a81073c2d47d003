package ocicni

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// The bounds come per verb, CRI-O's by default; WithPluginTimeout, the one
// bound of before, still sets every verb; WithTimeouts changes single
// verbs and WithNetworkTimeouts single networks.
func TestTimeoutsResolve(t *testing.T) {
	resolve := func(opts ...Option) pluginexec.Timeouts {
		o := defaultOptions()
		for _, opt := range opts {
			opt(&o)
		}
		return o.execTimeouts()
	}
	m := func(kv ...any) map[string]time.Duration {
		out := map[string]time.Duration{}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1].(time.Duration)
		}
		return out
	}
	all := func(d time.Duration) map[string]time.Duration {
		return m("ADD", d, "DEL", d, "CHECK", d, "STATUS", d, "GC", d, "VERSION", d)
	}
	for _, c := range []struct {
		name string
		opts []Option
		want pluginexec.Timeouts
	}{
		{"defaults", nil, pluginexec.Timeouts{ByVerb: m("ADD", 5*time.Minute, "DEL", time.Minute, "CHECK", time.Minute,
			"STATUS", 10*time.Second, "GC", 30*time.Second, "VERSION", 10*time.Second)}},
		{"WithPluginTimeout", []Option{WithPluginTimeout(7 * time.Second)}, pluginexec.Timeouts{ByVerb: all(7 * time.Second)}},
		{"WithPluginTimeout(0) removes every bound", []Option{WithPluginTimeout(0)}, pluginexec.Timeouts{ByVerb: all(-1)}},
		{"WithTimeouts changes the verbs it names", []Option{WithPluginTimeout(time.Second), WithTimeouts(Timeouts{Add: time.Hour, GC: -1})},
			pluginexec.Timeouts{ByVerb: m("ADD", time.Hour, "DEL", time.Second, "CHECK", time.Second, "STATUS", time.Second, "GC", time.Duration(-1), "VERSION", time.Second)}},
		{"WithNetworkTimeouts", []Option{WithPluginTimeout(time.Second), WithNetworkTimeouts("nics", Timeouts{Add: 20 * time.Minute, Version: time.Hour}), WithNetworkTimeouts("idle", Timeouts{})},
			pluginexec.Timeouts{ByVerb: all(time.Second), ByNetwork: map[string]map[string]time.Duration{"nics": m("ADD", 20*time.Minute)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := resolve(c.opts...); !reflect.DeepEqual(got, c.want) {
				t.Errorf("timeouts = %+v, want %+v", got, c.want)
			}
		})
	}
}

// A plugin is bounded by its verb's timeout and, where its network has
// one, by the network's: with ADD and DEL bounded to 300 ms, an ADD taking
// a second fails as timed out long before the caller's deadline, while on
// a network given a longer ADD the same plugin succeeds; its DEL taking a
// second then times out at the DEL bound.
func TestTimeoutsPerVerbAndNetwork(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	slow := map[string]string{"ADD": "slow", "DEL": "slow"}
	e.writeList("10-brisk.conflist", "brisk", "1.0.0", nil, testutil.FaultyPlugin(log, slow, "slowFor", "1s"))
	e.writeList("20-patient.conflist", "patient", "1.0.0", nil, testutil.FaultyPlugin(log, slow, "slowFor", "1s"))
	p := e.plugin(WithTimeouts(Timeouts{Add: 300 * time.Millisecond, Del: 300 * time.Millisecond}),
		WithNetworkTimeouts("patient", Timeouts{Add: 30 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	brisk := webPod(t, "sb1")
	brisk.Networks = []NetAttachment{{Name: "brisk"}}
	if _, err := p.SetUpPodWithContext(ctx, brisk); !errors.Is(err, ErrPluginTimeout) || ctx.Err() != nil {
		t.Fatalf("ADD on brisk: %v (caller's context: %v); want ErrPluginTimeout at the 300 ms ADD bound", err, ctx.Err())
	}
	patient := webPod(t, "sb2")
	patient.Networks = []NetAttachment{{Name: "patient"}}
	if _, err := p.SetUpPodWithContext(ctx, patient); err != nil {
		t.Fatalf("ADD on patient, whose ADD bound is 30 s: %v", err)
	}
	if err := p.TearDownPodWithContext(ctx, patient); !errors.Is(err, ErrPluginTimeout) || ctx.Err() != nil {
		t.Fatalf("DEL on patient: %v (caller's context: %v); want ErrPluginTimeout at the 300 ms DEL bound", err, ctx.Err())
	}
}
