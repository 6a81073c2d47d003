package ocicni

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// WithTracerProvider sets where the library's spans go: one for each pod
// operation, each network of it, and each plugin exec, nested in that
// order under whatever span the caller's context carries. The default
// records nothing; the library never uses OpenTelemetry's global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) {
		if tp != nil {
			o.tracerProvider = tp
		}
	}
}

// WithMeterProvider sets where the library's metrics go: histograms of
// operation, network and plugin exec durations, and counters of reloads,
// skipped files and owed DELs. The default records nothing; the library
// never uses OpenTelemetry's global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) {
		if mp != nil {
			o.meterProvider = mp
		}
	}
}
