package ocicni

import (
	"slices"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A Go plugin run under WithPluginGOMAXPROCS(7) starts its runtime with 7
// processors, though the runtime's own environment says 5 and
// WithPluginEnvironment lets no GOMAXPROCS through; without the option it
// gets the runtime's 5.
func TestPluginGOMAXPROCSReachesGoPlugins(t *testing.T) {
	t.Setenv("GOMAXPROCS", "5")
	for _, c := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithPluginGOMAXPROCS(7), WithPluginEnvironment()}, "ADD 7"},
		{[]Option{WithPluginGOMAXPROCS(7)}, "ADD 7"},
		{nil, "ADD 5"},
	} {
		e := newFaultEnv(t)
		procs := e.logFile("procs")
		e.writeList("10-n.conflist", "n", "1.0.0", nil, testutil.FaultyPlugin(e.logFile("f.log"), nil, "procsLog", procs))
		p := e.plugin(append([]Option{WithWatch(false)}, c.opts...)...)
		pod := PodNetwork{Name: "p", Namespace: "ns", ID: "sb", NetNS: testutil.NewNetNS(t)}
		setUp(t, p, pod)
		tearDown(t, p, pod)
		if got := testutil.FaultyLog(t, procs); !slices.Contains(got, c.want) {
			t.Fatalf("plugin calls logged %v, want %q among them", got, c.want)
		}
	}
}
