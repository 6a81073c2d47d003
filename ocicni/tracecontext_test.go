package ocicni

import (
	"context"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"go.opentelemetry.io/otel/trace"
)

// With tracing on, every plugin gets its exec span's W3C trace context as
// TRACEPARENT and TRACESTATE, even through WithPluginEnvironment and in
// place of a stale TRACEPARENT in the runtime's own environment, so a span
// the plugin makes from them joins the runtime's trace as a child of the
// exec span. The faulty plugin records what it got.
func TestTraceContextReachesPlugins(t *testing.T) {
	t.Setenv("TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	e := newFaultEnv(t)
	traceLog := e.logFile("trace.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(e.logFile("faulty.log"), nil, "traceLog", traceLog))
	tel := newTelemetryRig(t)
	p := e.plugin(append(tel.options(), WithPluginEnvironment("NOTHING_ELSE"), WithWatch(false))...)

	// The runtime's caller continues a trace that carries a tracestate.
	state, err := trace.ParseTraceState("runtime=on")
	if err != nil {
		t.Fatal(err)
	}
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, TraceState: state, Remote: true,
	})
	ctx, caller := tel.spans.tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "caller")
	pod := webPod(t, "sb1")
	if _, err := p.SetUpPodWithContext(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := p.TearDownPodWithContext(ctx, pod); err != nil {
		t.Fatal(err)
	}
	caller.End()

	ended := tel.spans.Ended()
	got := testutil.FaultyLog(t, traceLog)
	if len(got) != 2 {
		t.Fatalf("trace log = %q, want one line for ADD and one for DEL", got)
	}
	for _, line := range got {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("trace log line %q", line)
		}
		verb, parent, tracestate := f[0], strings.Split(f[1], "-"), f[2]
		exec := findSpan(t, ended, "cni.plugin "+verb).SpanContext()
		if len(parent) != 4 || parent[0] != "00" || parent[3] != "01" {
			t.Fatalf("%s: TRACEPARENT %q is not a sampled W3C traceparent", verb, f[1])
		}
		if parent[1] != remote.TraceID().String() || parent[1] != exec.TraceID().String() {
			t.Errorf("%s: TRACEPARENT trace id %s, want the runtime's trace %s", verb, parent[1], remote.TraceID())
		}
		if parent[2] != exec.SpanID().String() {
			t.Errorf("%s: TRACEPARENT parent span id %s, want the exec span's %s", verb, parent[2], exec.SpanID())
		}
		if tracestate != "runtime=on" {
			t.Errorf("%s: TRACESTATE %q, want the trace's %q", verb, tracestate, "runtime=on")
		}
	}
}
