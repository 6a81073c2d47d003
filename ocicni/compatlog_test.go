package ocicni

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/testutil"
)

// infoLines returns the messages logged at info level that match re.
func (e *env) infoLines(re string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, en := range e.logs.AllEntries() {
		if en.Level == logrus.InfoLevel && regexp.MustCompile(re).MatchString(en.Message) {
			out = append(out, en)
		}
	}
	return out
}

// The lines cri-o/ocicni writes, word for word and at info level, come out
// of the injected logger with the step's structured fields.
func TestCompatLogLinesAsCRIO(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.7", "")
	p := e.plugin(WithWatch(false))
	file := filepath.Join(e.confDir, "10-n.conflist")
	for _, want := range []string{
		`^Found CNI network n \(type=noop\) at ` + regexp.QuoteMeta(file) + `$`,
		`^Updated default CNI network name to n$`,
	} {
		if len(e.infoLines(want)) != 1 {
			t.Fatalf("no info line matching %s", want)
		}
	}
	pod := PodNetwork{Namespace: "prod", Name: "web", ID: "c1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	if _, err := p.GetPodNetworkStatus(pod); err != nil {
		t.Fatal(err)
	}
	tearDown(t, p, pod)
	for _, want := range []string{
		`^Adding pod prod_web to CNI network "n" \(type=noop\)$`,
		`^Checking pod prod_web for CNI network n \(type=noop\)$`,
		`^Deleting pod prod_web from CNI network "n" \(type=noop\)$`,
	} {
		got := e.infoLines(want)
		if len(got) != 1 {
			t.Fatalf("%d info lines matching %s, want 1", len(got), want)
		}
		f := got[0].Data
		if f["pod_id"] != "c1" || f["pod_namespace"] != "prod" || f["pod_name"] != "web" || f["network"] != "n" || f["ifname"] != "eth0" {
			t.Fatalf("%q carries fields %v, want the pod's and the network's", got[0].Message, f)
		}
	}
}

// GC's DELs of a stale sandbox are logged as teardown's are, with the pod
// named from what its ADD recorded, though GC knows only the sandbox ID.
func TestCompatLogGCDeletesAsTeardown(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.7", "")
	p := e.plugin(WithWatch(false))
	stale := PodNetwork{Namespace: "prod", Name: "gone", ID: "c1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, stale)
	if err := p.GC(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	got := e.infoLines(`^Deleting pod prod_gone from CNI network "n" \(type=noop\)$`)
	if len(got) != 1 || got[0].Data["pod_id"] != "c1" || got[0].Data["op"] != "gc" {
		t.Fatalf("GC's DEL logged %v, want one teardown-worded line for sandbox c1", got)
	}
}

// A reload that keeps a network says nothing again about it; one that
// changes the default says so.
func TestCompatLogReloadOnlyNews(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.7", "")
	p := e.plugin(WithWatch(false))
	e.noopNet("05-m.conflist", "m", "1.0.0", "10.0.1.7", "")
	_ = p.Networks() // without a watcher, the next call reloads what changed
	found := e.infoLines(`^Found CNI network`)
	names := make([]string, 0, len(found))
	for _, en := range found {
		names = append(names, en.Data["network"].(string))
	}
	if !slices.Equal(names, []string{"n", "m"}) {
		t.Fatalf("Found lines for %v, want n at start and m at reload only", names)
	}
	if len(e.infoLines(`^Updated default CNI network name to m$`)) != 1 {
		t.Fatal("no line for the new default network m")
	}
}
