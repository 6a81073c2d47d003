package ocicni

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestLoadExtensionsInByteOrderWithSingleConfUpConverted(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-b.conflist", "b", "1.0.0", "10.0.0.2", "")
	e.noopNet("20-c.json", "c", "1.0.0", "10.0.0.3", "")
	// A single-plugin .conf file, up-converted to a one-plugin list.
	aDebug := e.noopDebug(debug.Debug{ReportResult: resultFor("1.0.0", "10.0.0.1")})
	aLog := e.newLog()
	testutil.WriteJSON(t, e.confDir, "5-a.conf", map[string]any{
		"cniVersion": "1.0.0", "name": "a", "type": "noop", "debugFile": aDebug, "commandLog": aLog,
	})
	// Not a configuration extension: ignored without being reported.
	e.noopNet("30-d.txt", "d", "1.0.0", "10.0.0.4", "")
	e.noopNet("40-e.conf.bak", "e", "1.0.0", "10.0.0.5", "")

	p := e.plugin(WithWatch(false))
	set := p.Networks()
	// "10-" sorts before "20-" before "5-" in byte order, as in cri-o.
	if got, want := networkNames(set), []string{"b", "c", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("networks = %v, want %v", got, want)
	}
	if len(set.Skipped) != 0 {
		t.Fatalf("skipped = %+v, want none", set.Skipped)
	}
	if set.Default != "b" || p.GetDefaultNetworkName() != "b" {
		t.Fatalf("default = %q/%q, want b (first file in byte order)", set.Default, p.GetDefaultNetworkName())
	}
	a := set.Networks[2]
	if a.File != filepath.Join(e.confDir, "5-a.conf") || !reflect.DeepEqual(a.PluginTypes, []string{"noop"}) || a.CNIVersion != "1.0.0" {
		t.Fatalf("up-converted .conf network = %+v", a)
	}
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "a"}}}
	setUp(t, p, pod)
	if got := events(t, aLog); !reflect.DeepEqual(got, []string{"ADD a c1 eth0"}) {
		t.Fatalf("up-converted network's plugin got %v", got)
	}
}

func TestLoadSkipsInvalidFilesWithReason(t *testing.T) {
	e := newEnv(t)
	noop, _ := e.noopConf(debug.Debug{}, "", nil)
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
	e.noopNet("50-good.conflist", "good", "1.0.0", "10.0.0.1", "")

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
		for _, en := range e.logsWith("skipping CNI configuration file") {
			if en.Data["file"] == s.File && en.Data["reason"] == s.Reason {
				logged = true
			}
		}
		if !logged {
			t.Errorf("no warning logged for skipped %s", c.file)
		}
	}
}

func TestLoadDuplicateNameFirstFileWins(t *testing.T) {
	e := newEnv(t)
	first := e.noopNet("10-first.conflist", "net", "1.0.0", "10.0.0.1", "")
	second := e.noopNet("20-second.conflist", "net", "1.0.0", "10.0.0.2", "")
	p := e.plugin(WithWatch(false))
	set := p.Networks()
	if len(set.Networks) != 1 || set.Networks[0].File != filepath.Join(e.confDir, "10-first.conflist") {
		t.Fatalf("networks = %+v, want net from 10-first.conflist", set.Networks)
	}
	if len(set.Skipped) != 1 || set.Skipped[0].File != filepath.Join(e.confDir, "20-second.conflist") ||
		!strings.Contains(set.Skipped[0].Reason, "already defined by "+filepath.Join(e.confDir, "10-first.conflist")) {
		t.Fatalf("skipped = %+v", set.Skipped)
	}
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if got := commands(t, first.log); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("first file's plugin got %v", got)
	}
	if got := commands(t, second.log); len(got) != 0 {
		t.Fatalf("second file's plugin got %v", got)
	}
}

func TestLoadDefaultNetwork(t *testing.T) {
	t.Run("first valid file", func(t *testing.T) {
		e := newEnv(t)
		testutil.WriteJSON(t, e.confDir, "00-broken.conflist", `{`)
		e.noopNet("10-x.conflist", "x", "1.0.0", "10.0.0.1", "")
		e.noopNet("20-y.conflist", "y", "1.0.0", "10.0.0.2", "")
		if got := e.plugin(WithWatch(false)).GetDefaultNetworkName(); got != "x" {
			t.Fatalf("default = %q, want x", got)
		}
	})
	t.Run("named", func(t *testing.T) {
		e := newEnv(t)
		e.noopNet("10-x.conflist", "x", "1.0.0", "10.0.0.1", "")
		y := e.noopNet("20-y.conflist", "y", "1.0.0", "10.0.0.2", "")
		p := e.plugin(WithWatch(false), WithDefaultNetwork("y"))
		if got := p.GetDefaultNetworkName(); got != "y" {
			t.Fatalf("default = %q, want y", got)
		}
		setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
		if got := commands(t, y.log); !reflect.DeepEqual(got, []string{"ADD"}) {
			t.Fatalf("named default's plugin got %v", got)
		}
	})
	t.Run("named but absent", func(t *testing.T) {
		e := newEnv(t)
		e.noopNet("10-x.conflist", "x", "1.0.0", "10.0.0.1", "")
		p := e.plugin(WithWatch(false), WithDefaultNetwork("y"))
		if got := p.GetDefaultNetworkName(); got != "" {
			t.Fatalf("default = %q, want none", got)
		}
		_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
		if !errors.Is(err, ErrNoDefaultNetwork) || !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), `default network "y" not found`) {
			t.Fatalf("setup without the named default: %v", err)
		}
	})
}

func TestReloadOfUnchangedFilesExecsNoVersion(t *testing.T) {
	e := newEnv(t)
	e.noopNets("", "a", "b")
	slowConf := map[string]any{"type": "slow"}
	e.slowPlugin()
	e.writeList("30-c.conflist", "c", "1.0.0", nil, slowConf)
	p := e.plugin(WithWatch(false))
	execs := func() int64 { return p.conf.Stats().VersionExecs }
	// One VERSION per distinct binary (noop, slow), not per file.
	if got := execs(); got != 2 {
		t.Fatalf("VERSION execs on first load = %d, want 2", got)
	}
	for range 3 {
		p.conf.Reload()
		_ = p.Networks()
	}
	if got := execs(); got != 2 {
		t.Fatalf("VERSION execs after reloads of unchanged files = %d, want 2", got)
	}

	// A changed file whose plugin binary did not change needs no VERSION.
	e.noopNet("20-b.conflist", "b", "1.0.0", "10.0.0.9", "")
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
	p.conf.Reload()
	p.conf.Reload()
	if got := execs(); got != 3 {
		t.Fatalf("VERSION execs after replacing noop = %d, want 3", got)
	}
	if got := networkNames(p.Networks()); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("networks after binary replacement = %v", got)
	}
}

func TestCNIVersionsNegotiation(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: resultFor("1.1.0", "10.0.0.1")}, "", nil)
	// The highest version libcni supports wins; one newer than it is ignored.
	e.writeList("10-n.conflist", "n", "0.4.0", map[string]any{"cniVersions": []string{"1.0.0", "1.1.0", "99.0.0"}}, conf)
	p := e.plugin(WithWatch(false))
	set := p.Networks()
	if len(set.Networks) != 1 || set.Networks[0].CNIVersion != "1.1.0" {
		t.Fatalf("networks = %+v, want n at 1.1.0", set.Networks)
	}
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if got := stdinConf(t, lastCall(t, np.debug).CmdArgs.StdinData)["cniVersion"]; got != "1.1.0" {
		t.Fatalf("plugin received cniVersion %v, want 1.1.0", got)
	}
}

func TestLoadEchoesDisableFlags(t *testing.T) {
	e := newEnv(t)
	conf, _ := e.noopConf(debug.Debug{}, "", nil)
	e.writeList("10-n.conflist", "n", "1.1.0", map[string]any{"disableCheck": true, "disableGC": true}, conf)
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
	p := e.plugin(WithWatch(false), WithPluginTimeout(300*time.Millisecond))
	before := p.conf.Stats().VersionExecs
	p.conf.Reload()
	if n := p.conf.Stats().VersionExecs - before; n != 1 {
		t.Fatalf("%d VERSION execs of the hanging plugin in one load, want 1", n)
	}
	if s := currentSet(p).Skipped; len(s) != 3 {
		t.Fatalf("skipped %v, want all three files", s)
	}
}
