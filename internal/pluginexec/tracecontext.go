package pluginexec

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Environment keys of the W3C trace context, as libcni on main hands them
// to plugins.
const (
	envTraceParent = "TRACEPARENT"
	envTraceState  = "TRACESTATE"
)

// withTraceContext puts the trace context of ctx's span, the exec's own,
// in the plugin's environment as TRACEPARENT and TRACESTATE, in place of
// any the runtime's environment holds, so a plugin that traces makes its
// spans children of the exec's. Without a valid span (tracing off and no
// trace in the caller's context) environ is returned as it is.
func withTraceContext(ctx context.Context, environ []string) []string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return environ
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	out := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, envTraceParent+"=") && !strings.HasPrefix(kv, envTraceState+"=") {
			out = append(out, kv)
		}
	}
	if v := carrier.Get("traceparent"); v != "" {
		out = append(out, envTraceParent+"="+v)
	}
	if v := carrier.Get("tracestate"); v != "" {
		out = append(out, envTraceState+"="+v)
	}
	return out
}
