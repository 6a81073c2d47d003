package ocicni

import (
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// The sample configurations in testdata, which the demo, the examples and
// the documentation use, load as testdata/README.md describes them.
func TestSharedSampleConfigurationsLoad(t *testing.T) {
	bin := testutil.LinkPlugins(t, "bridge", "host-local", "portmap")
	p, err := New(WithConfDir("../testdata/net.d"), WithBinDirs(bin), WithCacheDir(t.TempDir()), WithWatch(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	view := p.Networks()
	if len(view.Skipped) != 0 {
		t.Fatalf("samples skipped: %+v", view.Skipped)
	}
	if got := testutil.NetworkNames(view); !reflect.DeepEqual(got, []string{"demo", "extra"}) || view.Default != "demo" {
		t.Fatalf("samples load as %v with default %q, want demo (default) and extra", got, view.Default)
	}
	want := map[string][]string{"demo": {"bridge", "portmap"}, "extra": {"bridge"}}
	for _, n := range view.Networks {
		if n.CNIVersion != "1.1.0" || !reflect.DeepEqual(n.PluginTypes, want[n.Name]) {
			t.Errorf("sample %s: cniVersion %s, plugins %v; want 1.1.0 and %v", n.Name, n.CNIVersion, n.PluginTypes, want[n.Name])
		}
	}
}
