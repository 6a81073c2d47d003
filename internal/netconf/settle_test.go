package netconf

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

func TestKeepSettlingOnlyKeepsRecentParseFailures(t *testing.T) {
	d := newTestDirs(t)
	path, skipped, fresh := confPath(d, "10-a.conflist"), confPath(d, "20-b.conflist"), confPath(d, "30-c.conflist")
	writeFile(t, path, confBytes("a", "1.0.0"))
	writeFile(t, skipped, []byte("{not json"))
	prev := d.loader().load(context.Background(), nil)
	if prev.Default == nil || !prev.skipped(skipped) {
		t.Fatalf("first load: default %+v, skipped %+v; want a loaded and b skipped", prev.Default, prev.Skipped)
	}
	writeFile(t, path, nil)
	writeFile(t, fresh, nil)
	parseErr := parseFailure{errors.New("is empty")}
	now := time.Now()

	cases := []struct {
		name string
		prev *Set
		path string
		err  error
		now  time.Time
		keep bool
		want *Network // what is kept: nil leaves the file out
	}{
		{"just emptied", prev, path, parseErr, now, true, prev.Default},
		{"new and still empty", prev, fresh, parseErr, now, true, nil},
		{"settled", prev, path, parseErr, now.Add(2 * settleWindow), false, nil},
		{"not about the content", prev, path, errors.New("is a directory, not a file"), now, false, nil},
		{"first load", nil, path, parseErr, now, false, nil},
		{"skipped before", prev, skipped, parseErr, now, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, until, ok := keepSettling(c.prev, c.path, c.err, c.now)
			if ok != c.keep {
				t.Fatalf("kept = %v, want %v", ok, c.keep)
			}
			if !ok {
				return
			}
			if n != c.want {
				t.Fatalf("kept %+v, want %+v", n, c.want)
			}
			if !until.After(now) || until.After(now.Add(settleWindow)) {
				t.Fatalf("to be read again at %v, want within %v after %v", until, settleWindow, now)
			}
		})
	}
}

// A load that finds a file it loaded before empty, just after it changed,
// keeps the previous network, leaves out a new file that is still empty,
// and signs the snapshot as before, so nothing is swapped and no one is
// woken. Without a previous snapshot the emptied file is skipped as empty.
func TestLoadKeepsNetworkWhileFileSettles(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "10-a.conflist")
	writeFile(t, path, confBytes("a", "1.0.0"))
	l := d.loader()
	prev := l.load(context.Background(), nil)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	// A file being created alongside stays out until it is written.
	writeFile(t, confPath(d, "20-b.conflist"), nil)

	next := l.load(context.Background(), prev)
	if next.Default != prev.Default || len(next.Skipped) != 0 {
		t.Fatalf("load of the emptied file: default %+v, skipped %+v; want the previous network kept", next.Default, next.Skipped)
	}
	if next.signature != prev.signature {
		t.Fatal("keeping the previous network changed the snapshot's signature")
	}
	if next.settleAt.IsZero() {
		t.Fatal("no time set to read the kept file again")
	}

	fresh := l.load(context.Background(), nil)
	if fresh.Default != nil || !strings.Contains(skipReason(fresh, path), "is empty") {
		t.Fatalf("load without a previous snapshot: default %+v, skipped %+v; want the file skipped as empty", fresh.Default, fresh.Skipped)
	}
}

// The watcher reads a kept file again once it settles, with no further
// event, and the Source is then settled.
func TestWatcherRereadsKeptFileOnceSettled(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "10-a.conflist")
	writeFile(t, path, confBytes("a", "1.0.0"))
	s := d.open(t, true)
	armed(t, s)

	writeFile(t, path, []byte("{not json"))
	testutil.Eventually(t, waitFor, func() bool { return s.settleAt.Load() != 0 }, "the broken file was never kept")
	testutil.Eventually(t, waitFor, func() bool {
		set, _ := s.Current(context.Background())
		return set.Default == nil && strings.Contains(skipReason(set, path), "is not a JSON object")
	}, "the broken file was never skipped once settled")
	if !s.settled() {
		t.Fatal("the Source is not settled after the kept file was skipped")
	}
}

// openAwaiting opens a Source on d that does not watch, calling awaiting
// each time Open waits for a file being written.
func openAwaiting(t *testing.T, d testDirs, awaiting func()) *Source {
	t.Helper()
	log := quietLog()
	s := Open(Config{
		ConfDir: d.conf, BinDirs: []string{d.bin}, PollInterval: time.Second, Log: log, awaiting: awaiting,
		Exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log}),
	})
	t.Cleanup(s.Close)
	return s
}

// A Source opened while the default network's file is in the middle of an
// in-place rewrite (truncated, not yet written) has no good version of it
// to keep. It waits for the write rather than take the next file's network
// for the default, which a runtime starting then would set pods up on.
func TestOpenWaitsForDefaultFileBeingWritten(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "11-c.conflist")
	writeFile(t, confPath(d, "13-c-a.conflist"), confBytes("c-a", "1.0.0"))
	writeFile(t, path, nil)
	waits := 0
	s := openAwaiting(t, d, func() {
		if waits++; waits == 1 {
			writeFile(t, path, confBytes("c", "1.0.0"))
		}
	})
	set := s.current.Load()
	if waits == 0 || set.Default == nil || set.Default.Name != "c" || len(set.Skipped) != 0 {
		t.Fatalf("after %d waits: default %+v, skipped %+v; want c, nothing skipped", waits, set.Default, set.Skipped)
	}
}

// Open waits no longer than the file takes to settle: a file left broken
// ahead of the default is then skipped with its reason, as at any load.
func TestOpenStopsWaitingOnceFileSettles(t *testing.T) {
	d := newTestDirs(t)
	path := confPath(d, "11-c.conflist")
	writeFile(t, confPath(d, "13-c-a.conflist"), confBytes("c-a", "1.0.0"))
	writeFile(t, path, []byte(`{"cniVersion":`))
	waits := 0
	s := openAwaiting(t, d, func() { waits++ })
	set := s.current.Load()
	if waits == 0 || set.Default == nil || set.Default.Name != "c-a" || !strings.Contains(skipReason(set, path), "is not a JSON object") {
		t.Fatalf("after %d waits: default %+v, skipped %+v; want c-a, the broken file skipped", waits, set.Default, set.Skipped)
	}
}

// Only a file that may decide the default network holds Open back: one
// ahead of the default (or any, while the default asked for by name is
// missing and something else loaded). One behind it, or one in a conf dir
// with nothing loaded, does not.
func TestPendingAheadOnlyCountsFilesDecidingTheDefault(t *testing.T) {
	soon := time.Now().Add(settleWindow)
	a, b := &Network{Name: "b", File: "/d/20-b.conf"}, &Network{Name: "x", File: "/d/30-x.conf"}
	cases := []struct {
		name string
		file string
		set  *Set
		want bool
	}{
		{"ahead of the default", "/d/10-a.conf", &Set{Default: a, Ordered: []*Network{a}}, true},
		{"behind the default", "/d/25-c.conf", &Set{Default: a, Ordered: []*Network{a}}, false},
		{"wanted default missing", "/d/25-c.conf", &Set{WantDefault: "c", Ordered: []*Network{a, b}}, true},
		{"wanted default loaded", "/d/10-a.conf", &Set{WantDefault: "x", Default: b, Ordered: []*Network{a, b}}, false},
		{"nothing loaded", "/d/10-a.conf", &Set{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := !pendingAhead([]pendingFile{{c.file, soon}}, c.set).IsZero(); got != c.want {
				t.Fatalf("held back = %v, want %v", got, c.want)
			}
		})
	}
}
