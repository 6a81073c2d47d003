package ocicni

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// instrumentationName names the library to tracer and meter providers.
const instrumentationName = "github.com/netplumb/ocicni"

// Attribute keys of the spans and metrics, besides the cni.* ones the plugin
// exec spans share (see package pluginexec). Pod identity goes on spans
// only, never on metrics, to keep the number of series bounded.
const (
	attrNamespace = attribute.Key("k8s.namespace.name")
	attrPodName   = attribute.Key("k8s.pod.name")
	attrPodUID    = attribute.Key("k8s.pod.uid")
	attrSandbox   = attribute.Key("cni.sandbox_id")
	attrOperation = attribute.Key("ocicni.operation")
	attrStep      = attribute.Key("ocicni.step")
	attrValidPods = attribute.Key("ocicni.gc.valid_pods")
)

// durationBuckets suit plugin execs and pod operations, which take from a
// millisecond to the two-minute default plugin timeout; the SDK's default
// boundaries are meant for milliseconds.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// telemetry is a Plugin's tracer and instruments. It is built once in New
// and then only read, so it needs no lock.
type telemetry struct {
	tracer      trace.Tracer
	opDuration  metric.Float64Histogram
	netDuration metric.Float64Histogram
	owedDels    metric.Int64Counter
	exec        pluginexec.Telemetry
	// observed is the callback of the configuration counters; Shutdown
	// unregisters it so the meter provider lets go of the Plugin.
	observed metric.Registration
	meter    metric.Meter
}

// newTelemetry creates the tracer and the instruments a pod operation and
// a plugin exec use; observe adds those of the configuration once it is
// open.
func newTelemetry(o *options) (*telemetry, error) {
	t := &telemetry{tracer: o.tracerProvider.Tracer(instrumentationName)}
	m := o.meterProvider.Meter(instrumentationName)
	t.meter = m
	var errs [4]error
	t.opDuration, errs[0] = m.Float64Histogram("ocicni.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of pod operations (setup, teardown, status, gc, ready)."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.netDuration, errs[1] = m.Float64Histogram("ocicni.network.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one network's step of a pod operation, all its plugins included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.exec.ExecDuration, errs[2] = m.Float64Histogram("ocicni.plugin.exec.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one plugin exec."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	t.owedDels, errs[3] = m.Int64Counter("ocicni.del.owed", metric.WithUnit("{del}"),
		metric.WithDescription("DELs that failed and stay owed: their attachment is recorded for a later teardown or GC to retry."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("creating OpenTelemetry instruments: %w", err)
	}
	t.exec.Tracer = t.tracer
	_, noop := o.meterProvider.(metricnoop.MeterProvider)
	t.exec.Metered = !noop
	return t, nil
}

// observe registers the configuration's counters, read from conf when the
// meter provider collects. Reading the current snapshot checks the
// directories, as every operation does, when nothing watches them.
func (t *telemetry) observe(conf *netconf.Source) error {
	m := t.meter
	reloads, err1 := m.Int64ObservableCounter("ocicni.config.reloads", metric.WithUnit("{reload}"),
		metric.WithDescription("Reloads of the CNI configuration driven by directory changes."))
	versionExecs, err2 := m.Int64ObservableCounter("ocicni.config.version_execs", metric.WithUnit("{exec}"),
		metric.WithDescription("VERSION execs run to validate plugin binaries."))
	skipped, err3 := m.Int64ObservableGauge("ocicni.config.skipped_files", metric.WithUnit("{file}"),
		metric.WithDescription("Configuration files the current configuration skipped as invalid."))
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("creating OpenTelemetry instruments: %w", err)
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, ob metric.Observer) error {
		st := conf.Stats()
		ob.ObserveInt64(reloads, st.Reloads)
		ob.ObserveInt64(versionExecs, st.VersionExecs)
		set, err := conf.Current(ctx)
		ob.ObserveInt64(skipped, int64(len(set.Skipped)))
		return err
	}, reloads, versionExecs, skipped)
	if err != nil {
		return fmt.Errorf("registering the OpenTelemetry callback: %w", err)
	}
	t.observed = reg
	return nil
}

// close unregisters the configuration counters' callback.
func (t *telemetry) close() {
	if t.observed != nil {
		_ = t.observed.Unregister()
	}
}

// span is one pod operation or one network step being observed.
type span struct {
	span     trace.Span
	ctx      context.Context
	start    time.Time
	duration metric.Float64Histogram
	metered  bool                 // whether duration records anything
	attrs    []attribute.KeyValue // of the histogram, before the outcome
}

// startOp opens the span of a pod operation; pod is nil for GC and Status.
// extra attributes go on the span.
func (t *telemetry) startOp(ctx context.Context, op string, pod *PodNetwork, extra ...attribute.KeyValue) (context.Context, *span) {
	ctx, s := t.tracer.Start(ctx, "ocicni."+op)
	if s.IsRecording() {
		s.SetAttributes(attrOperation.String(op))
		s.SetAttributes(extra...)
		if pod != nil {
			s.SetAttributes(attrNamespace.String(pod.Namespace), attrPodName.String(pod.Name), attrSandbox.String(pod.ID))
			if pod.UID != "" {
				s.SetAttributes(attrPodUID.String(pod.UID))
			}
		}
	}
	return ctx, &span{span: s, ctx: ctx, start: time.Now(), duration: t.opDuration, metered: t.exec.Metered,
		attrs: []attribute.KeyValue{attrOperation.String(op)}}
}

// startNetwork opens the span of one network's step (add, del, status or
// gc) of a pod operation.
func (t *telemetry) startNetwork(ctx context.Context, st step, a *attachment) (context.Context, *span) {
	ctx, s := t.tracer.Start(ctx, "ocicni.network "+string(st))
	if s.IsRecording() {
		s.SetAttributes(attrStep.String(string(st)), pluginexec.AttrNetwork.String(a.name), pluginexec.AttrIfname.String(a.ifname))
	}
	return ctx, &span{span: s, ctx: ctx, start: time.Now(), duration: t.netDuration, metered: t.exec.Metered,
		attrs: []attribute.KeyValue{attrStep.String(string(st)), pluginexec.AttrNetwork.String(a.name)}}
}

// end closes the span with err's verdict and records its duration.
func (s *span) end(err error) {
	pluginexec.EndSpan(s.span, err)
	if s.metered {
		attrs := append(s.attrs, pluginexec.AttrOutcome.String(pluginexec.Outcome(err)))
		s.duration.Record(s.ctx, time.Since(s.start).Seconds(), metric.WithAttributes(attrs...))
	}
}

// endOp is end for a deferred call on a named error result.
func (s *span) endOp(err *error) { s.end(*err) }

// owedDel counts a failed DEL left for a later teardown or GC to retry.
func (t *telemetry) owedDel(ctx context.Context, network string) {
	t.owedDels.Add(ctx, 1, metric.WithAttributes(pluginexec.AttrNetwork.String(network)))
}
