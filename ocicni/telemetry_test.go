package ocicni

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A setup and a teardown each make one operation span, holding one span per
// network, holding one span per plugin exec; the pod's identity is on the
// operation span, the network and plugin on theirs, and the histograms and
// configuration counters count what ran.
func TestTelemetrySetUpTearDown(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.1.0.5", "")
	testutil.WriteJSON(t, e.confDir, "05-bad.conflist", map[string]any{"cniVersion": "1.0.0", "name": "bad"})
	tel := newTelemetryRig(t)
	p := e.plugin(append(tel.options(), WithWatch(false))...)

	ctx, caller := tel.spans.tracer.Start(context.Background(), "caller")
	pod := PodNetwork{Name: "web", Namespace: "shop", ID: "sb1", UID: "uid-1", NetNS: testutil.NewNetNS(t)}
	if _, err := p.SetUpPodWithContext(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := p.TearDownPodWithContext(ctx, PodNetwork{ID: "sb1", NetNS: pod.NetNS}); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(ctx, nil); err != nil {
		t.Fatal(err)
	}
	caller.End()

	ended := tel.spans.Ended()
	if got, want := spanTree(t, ended, "caller"), strings.Join([]string{
		"caller",
		"  ocicni.setup ocicni.outcome=ok",
		"    ocicni.network add cni.network=n ocicni.outcome=ok",
		"      cni.plugin ADD cni.network=n cni.plugin=noop ocicni.outcome=ok",
		"  ocicni.teardown ocicni.outcome=ok",
		"    ocicni.network del cni.network=n ocicni.outcome=ok",
		"      cni.plugin DEL cni.network=n cni.plugin=noop ocicni.outcome=ok",
		"  ocicni.gc ocicni.outcome=ok",
	}, "\n"); got != want {
		t.Fatalf("span tree:\n%s\nwant:\n%s", got, want)
	}
	wantAttrs(t, findSpan(t, ended, "ocicni.setup"), map[attribute.Key]string{
		"ocicni.operation": "setup", "k8s.namespace.name": "shop", "k8s.pod.name": "web",
		"k8s.pod.uid": "uid-1", "cni.sandbox_id": "sb1",
	})
	wantAttrs(t, findSpan(t, ended, "ocicni.network add"), map[attribute.Key]string{
		"ocicni.step": "add", "cni.network": "n", "cni.ifname": "eth0",
	})
	wantAttrs(t, findSpan(t, ended, "cni.plugin DEL"), map[attribute.Key]string{
		"cni.verb": "DEL", "cni.plugin": "noop", "cni.ifname": "eth0",
	})
	wantAttrs(t, findSpan(t, ended, "ocicni.gc"), map[attribute.Key]string{"ocicni.gc.valid_pods": "0"})

	m := tel.collect(t)
	m.wantUnit(t, "ocicni.operation.duration", "s")
	m.wantUnit(t, "ocicni.plugin.exec.duration", "s")
	m.wantCounts(t, "ocicni.operation.duration", map[string]int64{
		"ocicni.operation=setup,ocicni.outcome=ok":    1,
		"ocicni.operation=teardown,ocicni.outcome=ok": 1,
		"ocicni.operation=gc,ocicni.outcome=ok":       1,
	})
	m.wantCounts(t, "ocicni.network.duration", map[string]int64{
		"cni.network=n,ocicni.outcome=ok,ocicni.step=add": 1,
		"cni.network=n,ocicni.outcome=ok,ocicni.step=del": 1,
	})
	m.wantCounts(t, "ocicni.plugin.exec.duration", map[string]int64{
		"cni.network=n,cni.plugin=noop,cni.verb=ADD,ocicni.outcome=ok": 1,
		"cni.network=n,cni.plugin=noop,cni.verb=DEL,ocicni.outcome=ok": 1,
		"cni.plugin=noop,cni.verb=VERSION,ocicni.outcome=ok":           1, // validating the network at load
	})
	m.wantCounts(t, "ocicni.config.skipped_files", map[string]int64{"": 1})
	m.wantCounts(t, "ocicni.config.reloads", map[string]int64{"": 0})
	if got := m.counts(t, "ocicni.config.version_execs")[""]; got < 1 {
		t.Errorf("version_execs = %d, want the noop plugin's VERSION counted", got)
	}
	if _, ok := m["ocicni.del.owed"]; ok {
		t.Errorf("ocicni.del.owed reported with no DEL owed: %+v", m["ocicni.del.owed"])
	}
}

// A setup whose second network fails with a CNI error: the operation, the
// network and the plugin exec spans carry the error status and the code,
// the rollback DELs nest under the setup span, and the DEL that failed too
// is counted as owed.
func TestTelemetryFailedSetUp(t *testing.T) {
	e := newFaultEnv(t)
	a := e.noopNet("10-a.conflist", "a", "1.0.0", "10.1.0.5", "")
	e.writeList("20-b.conflist", "b", "1.0.0", nil,
		testutil.FaultyPlugin(e.logFile("faulty.log"), map[string]string{"ADD": "error", "DEL": "error"}, "errorCode", 11, "errorMsg", "try again"))
	tel := newTelemetryRig(t)
	p := e.plugin(append(tel.options(), WithWatch(false))...)

	pod := webPod(t, "sb1")
	pod.Networks = []NetAttachment{{Name: "a"}, {Name: "b"}}
	_, err := p.SetUpPodWithContext(context.Background(), pod)
	var ce *cnitypes.Error
	if !errors.As(err, &ce) || ce.Code != 11 {
		t.Fatalf("setup error %v: want the plugin's CNI error 11", err)
	}
	if got := testutil.Commands(t, a.log); !slices.Equal(got, []string{"ADD", "DEL"}) {
		t.Fatalf("network a saw %v, want its ADD rolled back", got)
	}

	ended := tel.spans.Ended()
	if got, want := spanTree(t, ended, "ocicni.setup"), strings.Join([]string{
		"ocicni.setup cni.error_code=11 ocicni.outcome=error ERROR",
		"  ocicni.network add cni.network=a ocicni.outcome=ok",
		"    cni.plugin ADD cni.network=a cni.plugin=noop ocicni.outcome=ok",
		"  ocicni.network add cni.error_code=11 cni.network=b ocicni.outcome=error ERROR",
		"    cni.plugin ADD cni.error_code=11 cni.network=b cni.plugin=faulty ocicni.outcome=error ERROR",
		"  ocicni.network del cni.error_code=11 cni.network=b ocicni.outcome=error ERROR",
		"    cni.plugin DEL cni.error_code=11 cni.network=b cni.plugin=faulty ocicni.outcome=error ERROR",
		"  ocicni.network del cni.network=a ocicni.outcome=ok",
		"    cni.plugin DEL cni.network=a cni.plugin=noop ocicni.outcome=ok",
	}, "\n"); got != want {
		t.Fatalf("span tree:\n%s\nwant:\n%s", got, want)
	}
	setup := findSpan(t, ended, "ocicni.setup")
	if !strings.Contains(setup.Status().Description, "try again") {
		t.Errorf("setup span status %q does not carry the plugin's message", setup.Status().Description)
	}
	if ev := setup.Events(); len(ev) != 1 || ev[0].Name != "exception" {
		t.Errorf("setup span events = %+v, want the error recorded once", ev)
	}

	m := tel.collect(t)
	m.wantCounts(t, "ocicni.operation.duration", map[string]int64{"ocicni.operation=setup,ocicni.outcome=error": 1})
	m.wantCounts(t, "ocicni.plugin.exec.duration", map[string]int64{
		"cni.network=a,cni.plugin=noop,cni.verb=ADD,ocicni.outcome=ok":      1,
		"cni.network=b,cni.plugin=faulty,cni.verb=ADD,ocicni.outcome=error": 1,
		"cni.network=b,cni.plugin=faulty,cni.verb=DEL,ocicni.outcome=error": 1,
		"cni.network=a,cni.plugin=noop,cni.verb=DEL,ocicni.outcome=ok":      1,
		"cni.plugin=faulty,cni.verb=VERSION,ocicni.outcome=ok":              1,
		"cni.plugin=noop,cni.verb=VERSION,ocicni.outcome=ok":                1,
	})
	m.wantCounts(t, "ocicni.del.owed", map[string]int64{"cni.network=b": 1})
}

// Without WithTracerProvider and WithMeterProvider nothing is recorded, not
// even through OpenTelemetry's global providers.
func TestTelemetryDefaultRecordsNothing(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.1.0.5", "")
	global := newTelemetryRig(t)
	prevTP, prevMP := otel.GetTracerProvider(), otel.GetMeterProvider()
	otel.SetTracerProvider(global.tp)
	otel.SetMeterProvider(global.mp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
	})
	p := e.plugin(WithWatch(false))

	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	tearDown(t, p, pod)
	if got := global.spans.Ended(); len(got) != 0 {
		t.Fatalf("%d spans reached the global provider, first %q", len(got), got[0].Name())
	}
	if m := global.collect(t); len(m) != 0 {
		t.Fatalf("metrics reached the global provider: %v", m)
	}
}

// telemetryRig is an SDK tracer provider with an in-memory span recorder
// and an SDK meter provider with a manual reader.
type telemetryRig struct {
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	spans  spanRecorder
	reader *sdkmetric.ManualReader
}

type spanRecorder struct {
	*tracetest.SpanRecorder
	tracer trace.Tracer
}

func newTelemetryRig(t *testing.T) *telemetryRig {
	rec := tracetest.NewSpanRecorder()
	r := &telemetryRig{
		tp:     sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)),
		reader: sdkmetric.NewManualReader(),
	}
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	r.spans = spanRecorder{SpanRecorder: rec, tracer: r.tp.Tracer("test")}
	t.Cleanup(func() {
		_ = r.tp.Shutdown(context.Background())
		_ = r.mp.Shutdown(context.Background())
	})
	return r
}

func (r *telemetryRig) options() []Option {
	return []Option{WithTracerProvider(r.tp), WithMeterProvider(r.mp)}
}

// metrics maps an instrument's name to what the reader collected for it.
type metrics map[string]metricdata.Metrics

func (r *telemetryRig) collect(t *testing.T) metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// counts returns, by encoded attribute set, a histogram's count of
// measurements or a sum's or gauge's value.
func (m metrics) counts(t *testing.T, name string) map[string]int64 {
	t.Helper()
	got, ok := m[name]
	if !ok {
		t.Fatalf("no metric %s; have %v", name, slices.Sorted(maps.Keys(m)))
	}
	out := map[string]int64{}
	enc := attribute.DefaultEncoder()
	switch d := got.Data.(type) {
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out[p.Attributes.Encoded(enc)] = int64(p.Count)
		}
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out[p.Attributes.Encoded(enc)] = p.Value
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out[p.Attributes.Encoded(enc)] = p.Value
		}
	default:
		t.Fatalf("metric %s has unexpected data %T", name, got.Data)
	}
	return out
}

func (m metrics) wantCounts(t *testing.T, name string, want map[string]int64) {
	t.Helper()
	if got := m.counts(t, name); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func (m metrics) wantUnit(t *testing.T, name, unit string) {
	t.Helper()
	if got := m[name].Unit; got != unit {
		t.Errorf("%s has unit %q, want %q", name, got, unit)
	}
}

// shownAttrs are the attributes spanTree prints.
var shownAttrs = []attribute.Key{"cni.error_code", "cni.network", "cni.plugin", "ocicni.outcome"}

// spanTree renders the one span called root and its descendants, children
// in start order, each line the name, the shown attributes and ERROR for an
// error status.
func spanTree(t *testing.T, spans []sdktrace.ReadOnlySpan, root string) string {
	t.Helper()
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth), s.Name())
		attrs := attrMap(s)
		for _, k := range shownAttrs {
			if v, ok := attrs[k]; ok {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		if s.Status().Code == codes.Error {
			b.WriteString(" ERROR")
		}
		b.WriteString("\n")
		var kids []sdktrace.ReadOnlySpan
		for _, c := range spans {
			if c.Parent().SpanID() == s.SpanContext().SpanID() && c.Parent().IsValid() {
				kids = append(kids, c)
			}
		}
		sort.Slice(kids, func(i, j int) bool { return kids[i].StartTime().Before(kids[j].StartTime()) })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	walk(findSpan(t, spans, root), 0)
	return strings.TrimSuffix(b.String(), "\n")
}

// findSpan returns the one ended span called name.
func findSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans called %q, want 1", len(found), name)
	}
	return found[0]
}

func attrMap(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[attribute.Key]string) {
	t.Helper()
	got := attrMap(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %s: %s = %q, want %q (all: %v)", s.Name(), k, got[k], v, got)
		}
	}
}
