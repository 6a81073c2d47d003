package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// timingsWorld is a conf dir with a bridge+tuning network "tn" and a
// network "bad" whose ADD fails with CNI error 11, real plugins, a cache
// dir and a pod netns, inside the test's throwaway network namespace.
func timingsWorld(t *testing.T) (env, string, string) {
	testutil.RequireRoot(t)
	confDir := t.TempDir()
	testutil.WriteJSON(t, confDir, "10-tn.conflist", map[string]any{
		"cniVersion": "1.0.0", "name": "tn", "plugins": []map[string]any{
			{"type": "bridge", "bridge": "tmbr0", "isGateway": true,
				"ipam": map[string]any{"type": "host-local", "subnet": "10.78.0.0/24", "dataDir": t.TempDir()}},
			{"type": "tuning"},
		}})
	testutil.WriteJSON(t, confDir, "20-bad.conflist", map[string]any{
		"cniVersion": "1.0.0", "name": "bad", "plugins": []map[string]any{
			{"type": "faulty", "faults": map[string]string{"ADD": "error"}, "errorCode": 11, "errorMsg": "try again"},
		}})
	e := env{"NETCONFPATH": confDir, "CNI_PATH": testutil.PluginDir(t)}
	return e, "--cache-dir=" + t.TempDir(), testutil.NewNetNS(t)
}

// add --timings ends the usual table with the breakdown: the setup, its
// network, and each plugin of the chain in order, all ok.
func TestTimingsTextBreaksDownAdd(t *testing.T) {
	e, cache, ns := timingsWorld(t)
	code, out, stderr := runInProcess(t, e, "add", "--timings", cache, "tn", ns)
	t.Logf("add --timings:\n%s", out)
	if code != exitOK {
		t.Fatalf("add exited %d: %s", code, stderr)
	}
	_, table, ok := strings.Cut(out, "\n\nSTEP")
	if !ok || !strings.Contains(out, "10.78.0.") {
		t.Fatalf("output lacks the address table or the timings after it:\n%s", out)
	}
	rows := strings.Split(strings.TrimSpace(table), "\n")[1:]
	want := []string{
		`^setup +- +[0-9.]+[µm]?s +ok$`,
		`^  network add +tn eth0 +[0-9.]+[µm]?s +ok$`,
		`^    plugin ADD +bridge tn eth0 +[0-9.]+[µm]?s +ok$`,
		`^    plugin ADD +tuning tn eth0 +[0-9.]+[µm]?s +ok$`,
	}
	if len(rows) != len(want) {
		t.Fatalf("timings rows:\n%s\nwant %d rows", strings.Join(rows, "\n"), len(want))
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(rows[i]) {
			t.Errorf("row %d %q does not match %s", i, rows[i], re)
		}
	}

	code, out, _ = runInProcess(t, e, "del", "--timings", "--json", cache, "tn", ns)
	var del struct {
		Deleted bool          `json:"deleted"`
		Timings []*timingNode `json:"timings"`
	}
	decodeJSON(t, out, &del)
	if code != exitOK || !del.Deleted || len(del.Timings) != 1 {
		t.Fatalf("del --timings --json exited %d with %s", code, out)
	}
	td := del.Timings[0]
	if td.Step != "teardown" || len(td.Children) != 1 || td.Children[0].Step != "network del" {
		t.Fatalf("del timings = %s", out)
	}
	// DEL runs the chain in reverse.
	var plugins []string
	for _, c := range td.Children[0].Children {
		plugins = append(plugins, c.Step+" "+c.Plugin)
	}
	if strings.Join(plugins, ",") != "plugin DEL tuning,plugin DEL bridge" {
		t.Fatalf("DEL execs = %v", plugins)
	}
	if sum := td.Children[0].Seconds; sum <= 0 || sum > td.Seconds {
		t.Fatalf("network step took %gs of a %gs teardown", sum, td.Seconds)
	}
}

// A failed add still prints its breakdown: in the JSON error report, the
// failing network and plugin carry the CNI error code, and the rollback DEL
// is there too.
func TestTimingsJSONOfFailedAdd(t *testing.T) {
	e, cache, ns := timingsWorld(t)
	code, out, _ := runInProcess(t, e, "add", "--timings", "--json", cache, "bad", ns)
	t.Logf("add --timings --json:\n%s", out)
	var rep errorReport
	decodeJSON(t, out, &rep)
	if code != exitFailed || rep.Code == nil || *rep.Code != 11 || len(rep.Timings) != 1 {
		t.Fatalf("add of a failing network exited %d with %s", code, out)
	}
	setup := rep.Timings[0]
	if setup.Step != "setup" || setup.ErrorCode == nil || *setup.ErrorCode != 11 || !strings.Contains(setup.Error, "try again") {
		t.Fatalf("setup node = %+v", setup)
	}
	var steps []string
	for _, n := range setup.Children {
		for _, c := range n.Children {
			s := n.Step + " " + n.Network + " > " + c.Step + " " + c.Plugin
			if c.ErrorCode != nil {
				s += " failed"
			}
			steps = append(steps, s)
		}
	}
	if got := strings.Join(steps, "; "); got != "network add bad > plugin ADD faulty failed; network del bad > plugin DEL faulty" {
		t.Fatalf("steps = %s", got)
	}

	code, out, _ = runInProcess(t, e, "add", "--timings", cache, "bad", ns)
	if code != exitFailed || !regexp.MustCompile(`(?m)^  network add +bad eth0 +[0-9.]+[µm]?s +failed: CNI error 11$`).MatchString(out) {
		t.Fatalf("text add of a failing network exited %d, stdout:\n%s", code, out)
	}
}
