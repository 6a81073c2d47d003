package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

func TestDiffSets(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)
	a := ocicni.NetworkInfo{Name: "a", File: "/d/10-a.conflist", CNIVersion: "1.0.0", PluginTypes: []string{"bridge"}, Default: true}
	b := ocicni.NetworkInfo{Name: "b", File: "/d/20-b.conflist", CNIVersion: "1.0.0", PluginTypes: []string{"ptp"}}
	b2 := b
	b2.PluginTypes = []string{"ptp", "portmap"}
	c := ocicni.NetworkInfo{Name: "c", File: "/d/05-c.conflist", CNIVersion: "1.1.0", PluginTypes: []string{"noop"}, Default: true}
	old := ocicni.NetworkSet{Default: "a", Networks: []ocicni.NetworkInfo{a, b},
		Skipped: []ocicni.SkippedFile{{File: "/d/x", Reason: "r1"}, {File: "/d/y", Reason: "r2"}}}
	cur := ocicni.NetworkSet{Default: "c", Networks: []ocicni.NetworkInfo{c, b2},
		Skipped: []ocicni.SkippedFile{{File: "/d/y", Reason: "r3"}, {File: "/d/z", Reason: "r4"}}}

	var got []string
	for _, ch := range diffSets(old, cur, now) {
		got = append(got, ch.text())
	}
	want := []string{
		"03:04:05.006 removed network a from /d/10-a.conflist (cniVersion 1.0.0, plugins bridge)",
		"03:04:05.006 added network c from /d/05-c.conflist (cniVersion 1.1.0, plugins noop)",
		"03:04:05.006 changed network b from /d/20-b.conflist (cniVersion 1.0.0, plugins ptp,portmap)",
		"03:04:05.006 no longer skipped /d/x",
		"03:04:05.006 skipped /d/y: r3",
		"03:04:05.006 skipped /d/z: r4",
		"03:04:05.006 default network is now c",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes:\n%q\nwant:\n%q", got, want)
	}
	if d := diffSets(old, old, now); len(d) != 0 {
		t.Fatalf("no change reported as %+v", d)
	}
}

func TestDiffSetsLosingTheDefault(t *testing.T) {
	a := ocicni.NetworkInfo{Name: "a", File: "/d/a.conf", CNIVersion: "1.0.0", PluginTypes: []string{"bridge"}, Default: true}
	changes := diffSets(ocicni.NetworkSet{Default: "a", Networks: []ocicni.NetworkInfo{a}}, ocicni.NetworkSet{}, time.Time{})
	if len(changes) != 2 || changes[0].Event != "removed" || changes[1].Event != "default" || changes[1].Default != "" {
		t.Fatalf("changes = %+v", changes)
	}
	if got := changes[1].text(); got != "00:00:00.000 default network is now (none)" {
		t.Fatalf("text = %q", got)
	}
}

func TestWatchLinesAsJSON(t *testing.T) {
	n, s := 2, 1
	for _, c := range []change{
		{Event: "watching", ConfDir: "/d", Default: "a", Networks: &n, Skipped: &s},
		{Event: "added", Network: &networkView{Name: "a", PluginTypes: []string{"noop"}}, Default: "a"},
		{Event: "skipped", File: "/d/x", Reason: "bad", Default: "a"},
	} {
		var out bytes.Buffer
		inv := &invocation{json: true, stdout: &out}
		if err := inv.writeChange(c); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n != 1 || !strings.HasSuffix(out.String(), "\n") {
			t.Fatalf("%s: %q is not exactly one line", c.Event, out.String())
		}
		var back change
		decodeJSON(t, out.String(), &back)
		if back.Event != c.Event || back.Default != c.Default || back.File != c.File || back.ConfDir != c.ConfDir {
			t.Fatalf("round trip %+v -> %+v", c, back)
		}
	}
}
