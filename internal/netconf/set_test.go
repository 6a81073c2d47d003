package netconf

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

func TestNetworksExplainsEveryFile(t *testing.T) {
	e := newEnv(t)
	file := func(name string) string { return filepath.Join(e.confDir, name) }
	writeFile(t, file("10-a.conflist"), []byte(`{"cniVersion":"1.0.0","name":"a","disableCheck":true,"plugins":[{"type":"noop"},{"type":"noop"}]}`))
	writeFile(t, file("20-b.conf"), []byte(`{"cniVersion":"0.4.0","name":"b","type":"noop"}`))
	writeFile(t, file("30-garbage.conflist"), []byte("{not json"))
	writeFile(t, file("40-missing.conflist"), confBytes("c", "1.0.0", "noop", "nosuch"))
	writeFile(t, file("50-future.conflist"), confBytes("d", "9.9.9"))
	writeFile(t, file("60-dup.json"), confBytes("a", "1.0.0"))
	writeFile(t, file("README"), []byte("not a configuration file"))
	p := e.watched()

	got := p.Networks()
	want := []types.NetworkInfo{
		{Name: "a", File: file("10-a.conflist"), CNIVersion: "1.0.0", PluginTypes: []string{"noop", "noop"}, Default: true, DisableCheck: true},
		{Name: "b", File: file("20-b.conf"), CNIVersion: "0.4.0", PluginTypes: []string{"noop"}},
	}
	if got.ConfDir != e.confDir || got.Default != "a" || !reflect.DeepEqual(got.Networks, want) {
		t.Fatalf("Networks() = %+v\nwant conf dir %s, default a, networks %+v", got, e.confDir, want)
	}
	reasons := map[string][]string{
		file("30-garbage.conflist"): {"not a JSON object"},
		file("40-missing.conflist"): {`plugin "nosuch" is missing`, e.binDir},
		file("50-future.conflist"):  {`cniVersion "9.9.9"`, "does not support"},
		file("60-dup.json"):         {`network name "a" is already defined by`, file("10-a.conflist")},
	}
	if len(got.Skipped) != len(reasons) {
		t.Fatalf("skipped = %+v, want exactly %d files", got.Skipped, len(reasons))
	}
	for _, s := range got.Skipped {
		for _, w := range reasons[s.File] {
			if !strings.Contains(s.Reason, w) {
				t.Errorf("%s skipped because %q, want a reason mentioning %q", s.File, s.Reason, w)
			}
		}
		if reasons[s.File] == nil {
			t.Errorf("unexpected skipped file %+v", s)
		}
	}
}

func TestNetworksChangedClosesOnlyOnChange(t *testing.T) {
	e := newEnv(t)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	p := e.watched()
	view := p.Networks()

	// A reload that finds the same configuration leaves the view current.
	reloads := stats(p.conf).Reloads
	writeFile(t, filepath.Join(e.confDir, "notes.txt"), []byte("ignored"))
	testutil.Eventually(t, waitFor, func() bool { return stats(p.conf).Reloads > reloads }, "no reload")
	select {
	case <-view.Changed:
		t.Fatal("Changed closed although no network changed")
	default:
	}

	writeFile(t, filepath.Join(e.confDir, "05-b.conflist"), confBytes("b", "1.0.0"))
	waitChanged(t, view)
	next := p.Networks()
	if next.Default != "b" || !reflect.DeepEqual(networkNames(next), []string{"b", "a"}) {
		t.Fatalf("view after the change = %+v", next)
	}
	if view.Default != "a" {
		t.Fatalf("the old view was modified: %+v", view)
	}

	// A skipped file changing its reason is a change too: the operator's
	// answer to "why not ready" changed.
	writeFile(t, filepath.Join(e.confDir, "07-c.conflist"), []byte("{"))
	waitChanged(t, next)
	last := p.Networks()
	writeFile(t, filepath.Join(e.confDir, "07-c.conflist"), []byte("[]"))
	waitChanged(t, last)
}
