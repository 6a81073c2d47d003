package pluginexec

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/netplumb/ocicni/types"
)

// Attribute keys of the spans and metrics, shared with package ocicni so a
// plugin exec and the network it serves are described alike.
const (
	AttrPlugin    = attribute.Key("cni.plugin")
	AttrVerb      = attribute.Key("cni.verb")
	AttrNetwork   = attribute.Key("cni.network")
	AttrIfname    = attribute.Key("cni.ifname")
	AttrErrorCode = attribute.Key("cni.error_code")
	AttrOutcome   = attribute.Key("ocicni.outcome")
)

// Outcomes: the values of AttrOutcome. They are few so that the metrics
// keep a small number of series.
const (
	OutcomeOK       = "ok"
	OutcomeError    = "error"
	OutcomeTimeout  = "timeout"
	OutcomeCanceled = "canceled"
)

// Telemetry is where a Runner reports each plugin exec: a span, child of
// whatever span the exec's context carries, and the exec's duration.
// Nil fields report nothing.
type Telemetry struct {
	Tracer trace.Tracer
	// ExecDuration receives each exec's wall time in seconds.
	ExecDuration metric.Float64Histogram
	// Metered says whether ExecDuration records anything, so that the
	// no-op default costs no attribute building. (Instruments learned to
	// say so themselves only in OpenTelemetry releases newer than the
	// oldest our consumers require.)
	Metered bool
}

func (t Telemetry) orNoop() Telemetry {
	if t.Tracer == nil {
		t.Tracer = tracenoop.NewTracerProvider().Tracer("")
	}
	if t.ExecDuration == nil {
		t.ExecDuration, _ = metricnoop.NewMeterProvider().Meter("").Float64Histogram("")
	}
	return t
}

// execSpan is one exec being observed.
type execSpan struct {
	tel   *Telemetry
	ctx   context.Context
	span  trace.Span
	start time.Time
	attrs []attribute.KeyValue // of the histogram, before the outcome
	live  bool                 // whether anything is recorded at all
}

// startExec opens the span of one exec. The network name is read from the
// plugin's stdin only when something records it, so the default no-op
// telemetry costs no parsing.
func (t *Telemetry) startExec(ctx context.Context, plugin, verb string, stdin []byte, environ []string) (context.Context, *execSpan) {
	ctx, span := t.Tracer.Start(ctx, "cni.plugin "+verb, trace.WithSpanKind(trace.SpanKindInternal))
	e := &execSpan{tel: t, ctx: ctx, span: span, start: time.Now()}
	e.live = span.IsRecording() || t.Metered
	if !e.live {
		return ctx, e
	}
	e.attrs = []attribute.KeyValue{AttrPlugin.String(plugin), AttrVerb.String(verb)}
	if n := networkName(stdin); n != "" {
		e.attrs = append(e.attrs, AttrNetwork.String(n))
	}
	span.SetAttributes(e.attrs...)
	if ifname := envValue(environ, "CNI_IFNAME"); ifname != "" {
		span.SetAttributes(AttrIfname.String(ifname))
	}
	return ctx, e
}

// end closes the span with err's verdict and records the duration.
func (e *execSpan) end(err error) {
	if !e.live {
		e.span.End()
		return
	}
	EndSpan(e.span, err)
	attrs := append(e.attrs, AttrOutcome.String(Outcome(err)))
	e.tel.ExecDuration.Record(e.ctx, time.Since(e.start).Seconds(), metric.WithAttributes(attrs...))
}

// EndSpan ends span with err's outcome, marking it failed with err's
// message and, when err holds a plugin's CNI error, its code.
func EndSpan(span trace.Span, err error) {
	span.SetAttributes(AttrOutcome.String(Outcome(err)))
	if err != nil {
		var ce *cnitypes.Error
		if errors.As(err, &ce) {
			span.SetAttributes(AttrErrorCode.Int(int(ce.Code)))
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Outcome classifies err for the metrics: ok, timeout (the plugin or the
// caller's deadline), canceled, or error.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, types.ErrPluginTimeout), errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	default:
		return OutcomeError
	}
}

// networkName reads the "name" of the network configuration a plugin is
// given; VERSION's stdin has none.
func networkName(stdin []byte) string {
	var conf struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(stdin, &conf) != nil {
		return ""
	}
	return conf.Name
}
