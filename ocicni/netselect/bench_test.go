package netselect

import (
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

const benchAnnotation = `[{"name":"datanet","interface":"data0","ips":["10.1.0.5/24"],"mac":"02:00:00:00:00:0d"},
	{"name":"storage","namespace":"tenant-a","default-route":["10.2.0.1"]}]`

// BenchmarkParse measures reading a two-entry JSON annotation; it should
// be a rounding error beside one plugin exec (milliseconds).
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(benchAnnotation, catalog, WithNamespace("web")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus measures building the status annotation of three
// attachments.
func BenchmarkStatus(b *testing.B) {
	sel, err := Parse(benchAnnotation, catalog, WithNamespace("web"))
	if err != nil {
		b.Fatal(err)
	}
	var results []ocicni.NetResult
	for _, n := range sel.Networks() {
		results = append(results, ocicni.NetResult{NetAttachment: n, Result: podResult(n.Ifname, "02:00:00:00:00:01", "10.0.0.2/24", "10.0.0.1")})
	}
	for b.Loop() {
		if _, err := sel.Status(results); err != nil {
			b.Fatal(err)
		}
	}
}
