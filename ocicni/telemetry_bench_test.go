package ocicni

import (
	"context"
	"testing"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/netplumb/ocicni/internal/testutil"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// instantExec answers every plugin call at once, without a process, so a
// benchmark sees only the library's own work.
type instantExec struct {
	invoke.RawExec
	version.PluginDecoder
}

func (*instantExec) ExecPlugin(_ context.Context, _ string, _ []byte, environ []string) ([]byte, error) {
	switch testutil.CNICommand(environ) {
	case "VERSION":
		return []byte(`{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}`), nil
	case "ADD":
		return []byte(testutil.ResultFor("1.0.0", "10.0.0.1")), nil
	}
	return nil, nil
}

// BenchmarkTelemetrySetUpTearDown times a setup and teardown of a
// two-plugin network with instant plugins, without providers and with SDK
// providers recording every span and metric, so the difference is what the
// instrumentation costs per operation.
func BenchmarkTelemetrySetUpTearDown(b *testing.B) {
	testutil.RequireRoot(b)
	for _, withSDK := range []bool{false, true} {
		name := "default"
		if withSDK {
			name = "sdk"
		}
		b.Run(name, func(b *testing.B) {
			binDir := testutil.LinkPlugins(b, "noop")
			confDir := b.TempDir()
			testutil.WriteJSON(b, confDir, "10-n.conflist", map[string]any{
				"cniVersion": "1.0.0", "name": "n", "plugins": []any{map[string]any{"type": "noop"}, map[string]any{"type": "noop"}},
			})
			opts := []Option{WithConfDir(confDir), WithBinDirs(binDir), WithCacheDir(b.TempDir()), WithWatch(false), WithExec(&instantExec{})}
			if withSDK {
				rec := tracetest.NewSpanRecorder()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() {
					_ = tp.Shutdown(context.Background())
					_ = mp.Shutdown(context.Background())
				})
				opts = append(opts, WithTracerProvider(tp), WithMeterProvider(mp))
			}
			p, err := New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = p.Shutdown() })
			pod := PodNetwork{Name: "web", Namespace: "prod", ID: "bench", NetNS: testutil.NewNetNS(b)}
			for b.Loop() {
				if _, err := p.SetUpPod(pod); err != nil {
					b.Fatal(err)
				}
				if err := p.TearDownPod(pod); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
