package netconf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestLoadSkipsInvalidFilesWithReason(t *testing.T) {
	e := newEnv(t)
	noop := map[string]any{"type": "noop"}
	cases := []struct {
		file, content, reason string
	}{
		{"01-garbage.conflist", `{not json`, "is not a JSON object"},
		{"02-noname.conflist", mustJSON(map[string]any{"cniVersion": "1.0.0", "plugins": []any{noop}}), "no name"},
		{"03-empty.conflist", mustJSON(map[string]any{"cniVersion": "1.0.0", "name": "empty", "plugins": []any{}}), "no plugins"},
		{"04-noplugins.conflist", mustJSON(map[string]any{"cniVersion": "1.0.0", "name": "noplugins"}), "no plugins"},
		{"05-missing.conflist", mustJSON(map[string]any{"cniVersion": "1.0.0", "name": "missing", "plugins": []any{map[string]any{"type": "nosuchplugin"}}}), `plugin "nosuchplugin" is missing from ` + e.binDir},
		{"06-version.conflist", mustJSON(map[string]any{"cniVersion": "7.0.0", "name": "version", "plugins": []any{noop}}), `cniVersion "7.0.0"`},
		{"07-noname.conf", mustJSON(map[string]any{"cniVersion": "1.0.0", "type": "noop"}), `has no "name"`},
		{"08-empty.json", ``, "is empty"},
	}
	for _, c := range cases {
		testutil.WriteJSON(t, e.confDir, c.file, c.content)
	}
	e.writeList("50-good.conflist", "good", "1.0.0", nil, noop)

	p := e.plugin(WithWatch(false))
	set := p.Networks()
	if got := networkNames(set); !reflect.DeepEqual(got, []string{"good"}) || set.Default != "good" {
		t.Fatalf("networks = %v default %q, want only good as default", got, set.Default)
	}
	if len(set.Skipped) != len(cases) {
		t.Fatalf("skipped %d files, want %d: %+v", len(set.Skipped), len(cases), set.Skipped)
	}
	for i, c := range cases {
		s := set.Skipped[i]
		if s.File != filepath.Join(e.confDir, c.file) || !strings.Contains(s.Reason, c.reason) {
			t.Errorf("skipped[%d] = %+v, want file %s with reason containing %q", i, s, c.file, c.reason)
		}
		logged := false
		for _, en := range e.logs.AllEntries() {
			if strings.Contains(en.Message, "skipping CNI configuration file") && en.Data["file"] == s.File && en.Data["reason"] == s.Reason {
				logged = true
			}
		}
		if !logged {
			t.Errorf("no warning logged for skipped %s", c.file)
		}
	}
}

func TestReloadOfUnchangedFilesExecsNoVersion(t *testing.T) {
	e := newEnv(t)
	e.noopNets("a", "b")
	slowConf := map[string]any{"type": "slow"}
	e.slowPlugin()
	e.writeList("30-c.conflist", "c", "1.0.0", nil, slowConf)
	p := e.plugin(WithWatch(false))
	execs := func() int64 { return stats(p.conf).VersionExecs }
	// One VERSION per distinct binary (noop, slow), not per file.
	if got := execs(); got != 2 {
		t.Fatalf("VERSION execs on first load = %d, want 2", got)
	}
	for range 3 {
		reloadNow(p.conf)
		_ = p.Networks()
	}
	if got := execs(); got != 2 {
		t.Fatalf("VERSION execs after reloads of unchanged files = %d, want 2", got)
	}

	// A changed file whose plugin binary did not change needs no VERSION.
	e.writeList("20-b.conflist", "b", "1.0.0", map[string]any{"args": map[string]any{"changed": true}}, map[string]any{"type": "noop"})
	if got := networkNames(p.Networks()); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("networks = %v", got)
	}
	if got := execs(); got != 2 {
		t.Fatalf("VERSION execs after a config-only change = %d, want 2", got)
	}

	// A replaced binary is asked again, once.
	if err := os.Remove(filepath.Join(e.binDir, "noop")); err != nil {
		t.Fatal(err)
	}
	testutil.CopyPlugin(t, "noop", e.binDir)
	reloadNow(p.conf)
	reloadNow(p.conf)
	if got := execs(); got != 3 {
		t.Fatalf("VERSION execs after replacing noop = %d, want 3", got)
	}
	if got := networkNames(p.Networks()); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("networks after binary replacement = %v", got)
	}
}

func TestLoadEchoesDisableFlags(t *testing.T) {
	e := newEnv(t)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableCheck": true, "disableGC": true}, map[string]any{"type": "noop"})
	set := e.plugin(WithWatch(false)).Networks()
	if len(set.Networks) != 1 || !set.Networks[0].DisableCheck || !set.Networks[0].DisableGC {
		t.Fatalf("networks = %+v, want disableCheck and disableGC set", set.Networks)
	}
}

// A load looks each plugin binary up once, however many files name it. It
// used to do so per file, and since a timed-out VERSION is not remembered
// (the binary may only have been slow), a plugin that hangs on VERSION
// held a reload up once for every file naming it.
func TestLoadAsksHangingBinaryOncePerLoad(t *testing.T) {
	e := newFaultEnv(t)
	e.control(map[string]any{"faults": map[string]string{"VERSION": "hang"}})
	for _, n := range []string{"a", "b", "c"} {
		e.writeList("10-"+n+".conflist", n, "1.0.0", nil, faultyPlugin(e.logFile(n+".log"), nil))
	}
	p := e.plugin(WithWatch(false), withVersionTimeout(300*time.Millisecond))
	before := stats(p.conf).VersionExecs
	reloadNow(p.conf)
	if n := stats(p.conf).VersionExecs - before; n != 1 {
		t.Fatalf("%d VERSION execs of the hanging plugin in one load, want 1", n)
	}
	if s := p.current().Skipped; len(s) != 3 {
		t.Fatalf("skipped %v, want all three files", s)
	}
}
