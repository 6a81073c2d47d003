package ocicni

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestLoadExtensionsInByteOrderWithSingleConfUpConverted(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-b.conflist", "b", "1.0.0", "10.0.0.2", "")
	e.noopNet("20-c.json", "c", "1.0.0", "10.0.0.3", "")
	// A single-plugin .conf file, up-converted to a one-plugin list.
	aDebug := e.noopDebug(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")})
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
	if got, want := testutil.NetworkNames(set), []string{"b", "c", "a"}; !reflect.DeepEqual(got, want) {
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
	if got := testutil.Events(t, aLog); !reflect.DeepEqual(got, []string{"ADD a c1 eth0"}) {
		t.Fatalf("up-converted network's plugin got %v", got)
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
	if got := testutil.Commands(t, first.log); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("first file's plugin got %v", got)
	}
	if got := testutil.Commands(t, second.log); len(got) != 0 {
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
		if got := testutil.Commands(t, y.log); !reflect.DeepEqual(got, []string{"ADD"}) {
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

func TestCNIVersionsNegotiation(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.1.0", "10.0.0.1")}, "", nil)
	// The highest version libcni supports wins; one newer than it is ignored.
	e.writeList("10-n.conflist", "n", "0.4.0", map[string]any{"cniVersions": []string{"1.0.0", "1.1.0", "99.0.0"}}, conf)
	p := e.plugin(WithWatch(false))
	set := p.Networks()
	if len(set.Networks) != 1 || set.Networks[0].CNIVersion != "1.1.0" {
		t.Fatalf("networks = %+v, want n at 1.1.0", set.Networks)
	}
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if got := testutil.StdinConf(t, testutil.LastCall(t, np.debug).CmdArgs.StdinData)["cniVersion"]; got != "1.1.0" {
		t.Fatalf("plugin received cniVersion %v, want 1.1.0", got)
	}
}
