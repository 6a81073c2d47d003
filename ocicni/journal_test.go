package ocicni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// The record of an owed DEL is private, as libcni's own entries are: the
// file is 0600 in a 0700 results directory, and no temporary file of the
// durable write is left beside it. (The modes match what the code before
// issue 8 wrote too; this guards them now that every ADD writes a record.)
func TestRecordIsPrivateInPrivateDir(t *testing.T) {
	e := newFaultEnv(t)
	breakThenSetUp(t, e)
	dir := filepath.Join(e.cache, "results")
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("results dir mode = %v, want a 0700 directory", fi.Mode())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "net1-sb1-eth0" {
		t.Fatalf("results dir holds %v, want only the record net1-sb1-eth0", entries)
	}
	fi, err = os.Lstat(filepath.Join(dir, "net1-sb1-eth0"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record mode = %v, want a 0600 regular file", fi.Mode())
	}
}

// symlinkedResults makes the env's results directory a symlink to a fresh
// directory and returns that directory.
func symlinkedResults(t *testing.T, e *env) string {
	t.Helper()
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(e.cache, "results")); err != nil {
		t.Fatal(err)
	}
	return target
}

// A results directory that is a symlink is refused before any ADD runs,
// with an error saying so, and nothing is written where it points. The old
// code left the directory to libcni, which follows the symlink: the ADD ran
// and its entry landed in the target directory.
func TestSetUpRefusesSymlinkedResultsDir(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	target := symlinkedResults(t, e)

	_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	if err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("setup error = %v, want it to say the cache directory is a symlink", err)
	}
	if errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("setup error %v matches ErrAlreadyAttached; the pod is not attached", err)
	}
	for _, c := range testutil.Commands(t, np.log) {
		if c == "ADD" {
			t.Fatalf("plugin saw %v; no ADD may run without its record", testutil.Commands(t, np.log))
		}
	}
	if got, _ := os.ReadDir(target); len(got) != 0 {
		t.Fatalf("the symlink's target holds %v, want nothing written through it", got)
	}
}

// No plugin runs at all: the attachment whose record could not be written
// never started its ADD, so it owes no DEL either.
func TestSetUpWithSymlinkedResultsDirRunsNoPlugin(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	symlinkedResults(t, e)
	if _, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}); err == nil {
		t.Fatal("setup succeeded through a symlinked results directory")
	}
	if got := testutil.Commands(t, np.log); len(got) != 0 {
		t.Fatalf("plugin saw %v, want no plugin run", got)
	}
	if e.hasLog("may leak") {
		t.Fatal("a failed record write was reported as a leaking attachment")
	}
}

// A symlink planted at a record's path makes the setup refuse with
// ErrAlreadyAttached before any plugin runs, and the file it points to is
// untouched; a dangling one is refused too, so nothing is created where
// it points. (The Lstat check predates issue 8; this guards it now that a
// record is written before every ADD.)
func TestSetUpRefusesSymlinkPlantedAtRecordPath(t *testing.T) {
	for _, dangling := range []bool{false, true} {
		name := "to a file"
		if dangling {
			name = "dangling"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			np, p := e.oneNet("1.0.0", "10.0.0.1")
			target := filepath.Join(t.TempDir(), "precious")
			if !dangling {
				if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(e.cache, "results")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, "n-c1-eth0")); err != nil {
				t.Fatal(err)
			}
			_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
			if !errors.Is(err, ErrAlreadyAttached) {
				t.Fatalf("setup error = %v, want ErrAlreadyAttached", err)
			}
			if got := testutil.Commands(t, np.log); len(got) != 0 {
				t.Fatalf("plugin saw %v, want no plugin run", got)
			}
			data, err := os.ReadFile(target)
			switch {
			case dangling && !errors.Is(err, os.ErrNotExist):
				t.Fatalf("dangling symlink's target now exists (%q, %v)", data, err)
			case !dangling && (err != nil || string(data) != "precious"):
				t.Fatalf("symlink's target = %q, %v; want it untouched", data, err)
			}
		})
	}
}

// A process killed while an ADD runs leaves the record written before the
// ADD started. The next process (a new Plugin on the same directories)
// reports that the attachment owes a DEL without running CHECK on it, and
// a teardown by sandbox ID alone runs the DEL and removes the record. The
// crash is reproduced by copying the record while the ADD hangs and
// putting it back after the call ends. The old code wrote nothing before
// the ADD, so there was no record to copy, and a teardown by sandbox ID
// found nothing to DEL.
func TestRecordOfAddInterruptedByCrashIsFinishedByNextProcess(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	pod := webPod(t, "sb1")
	e.control(map[string]any{"faults": map[string]string{"ADD": "hang"}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, pod)
		done <- err
	}()
	testutil.Eventually(t, waitFor, func() bool { return len(testutil.FaultyLog(t, log)) > 0 }, "the ADD never started")
	record := filepath.Join(e.cache, "results", "net1-sb1-eth0")
	snapshot, err := os.ReadFile(record)
	if err != nil {
		cancel()
		<-done
		t.Fatalf("no record on disk while the ADD runs: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("setup error = %v, want context.Canceled", err)
	}
	e.control(nil)
	if err := os.WriteFile(record, snapshot, 0o600); err != nil {
		t.Fatal(err)
	}

	next := e.plugin(WithWatch(false))
	before := len(testutil.FaultyLog(t, log))
	if _, err := next.GetPodNetworkStatus(pod); err == nil || !strings.Contains(err.Error(), "owes a DEL") {
		t.Fatalf("status error = %v, want it to say the attachment owes a DEL", err)
	}
	if got := testutil.FaultyCommands(t, log)[before:]; len(got) != 0 {
		t.Fatalf("status ran %v on an attachment that owes a DEL, want nothing", got)
	}
	if err := next.TearDownPod(PodNetwork{ID: pod.ID}); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if got := testutil.FaultyLog(t, log)[before:]; !reflect.DeepEqual(got, []string{"DEL sb1 eth0"}) {
		t.Fatalf("teardown ran %v, want the owed DEL", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v, want it empty", got)
	}
}

// Every plugin gets its ADD configuration only once the network's record
// is on disk, though the record is written while the plugin's process
// starts: the faulty plugin fails an ADD whose record it cannot see. Run
// serially and with parallel networks, whose records race each other too.
func TestRecordIsOnDiskWhenPluginGetsConfiguration(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(map[bool]string{false: "serial", true: "parallel"}[parallel], func(t *testing.T) {
			e := newFaultEnv(t)
			log := e.logFile("faulty.log")
			pod := webPod(t, "sb1")
			var nets []NetAttachment
			for _, name := range []string{"net1", "net2", "net3"} {
				record := filepath.Join(e.cache, "results", name+"-sb1-"+name)
				e.writeList("10-"+name+".conflist", name, "1.0.0", nil,
					testutil.FaultyPlugin(log, nil, "requireFile", record), testutil.FaultyPlugin(log, nil, "requireFile", record))
				nets = append(nets, NetAttachment{Name: name, Ifname: name})
			}
			p := e.plugin(WithWatch(false), WithParallelNetworks(parallel))
			pod.Networks = nets
			for range 5 {
				if _, err := p.SetUpPod(pod); err != nil {
					t.Fatalf("setup: %v", err)
				}
				tearDown(t, p, pod)
			}
			if got := len(testutil.FaultyCommands(t, log)); got != 5*3*2*2 {
				t.Fatalf("plugins ran %d times, want %d ADDs and DELs", got, 5*3*2*2)
			}
		})
	}
}
