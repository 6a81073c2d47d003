package pluginexec

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/netplumb/ocicni/internal/testutil"
)

// admissionWorld is a faulty plugin of the test's own, a Runner bounded to
// limit execs, its Admission, and the plugin's command log.
func admissionWorld(t *testing.T, limit int) (plugin string, r *Runner, a *Admission, log string) {
	plugin, r, a, log, _ = admissionWorldLogged(t, limit)
	return plugin, r, a, log
}

// admissionWorldLogged is admissionWorld with the Runner's log entries.
func admissionWorldLogged(t *testing.T, limit int) (plugin string, r *Runner, a *Admission, log string, logs *logtest.Hook) {
	t.Helper()
	bin := t.TempDir()
	testutil.CopyPlugin(t, "faulty", bin)
	a = NewAdmission(limit)
	logger, logs := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return filepath.Join(bin, "faulty"), New(Config{Admission: a, Log: logger}), a, filepath.Join(t.TempDir(), "log"), logs
}

// hold starts an exec that hangs on a slot until the returned function is
// called, and waits until its plugin runs.
func hold(t *testing.T, plugin string, r *Runner, log string) (let func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = faultyRun(ctx, r, plugin, "ADD", "holder", map[string]any{"commandLog": log, "faults": map[string]string{"ADD": "hang"}})
	}()
	testutil.Eventually(t, 10*time.Second, func() bool { return len(lines(t, log)) == 1 }, "the holding plugin never ran")
	t.Cleanup(func() { cancel(); <-done })
	return func() { cancel(); <-done }
}

// Nine plugins started at once under a bound of three: each counts the
// plugins running beside it, and the most any saw is the bound, never
// more (without the bound all nine run together).
func TestAdmissionBoundsPluginsRunningAtOnce(t *testing.T) {
	const limit, execs = 3, 9
	plugin, r, _, _ := admissionWorld(t, limit)
	crowd, crowdLog := t.TempDir(), filepath.Join(t.TempDir(), "crowd")
	conf := map[string]any{"faults": map[string]string{"ADD": "crowd", "DEL": "crowd"},
		"crowdDir": crowd, "crowdTarget": limit, "crowdLog": crowdLog}
	var wg sync.WaitGroup
	errs := make(chan error, execs)
	for i := range execs {
		cmd := []string{"ADD", "DEL"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- faultyRun(context.Background(), r, plugin, cmd, fmt.Sprint("c", i), conf)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := lines(t, crowdLog)
	most := 0
	for _, l := range seen {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("crowd log line %q", l)
		}
		most = max(most, n)
	}
	if len(seen) != execs || most != limit {
		t.Fatalf("%d plugins ran, at most %d at once; want %d, at most %d", len(seen), most, execs, limit)
	}
}

// With the one slot taken, an ADD queues, then a DEL, then a STATUS: when
// the slot frees, the DEL and the STATUS run before the ADD that waited
// longer, each class in arrival order, and each wait is logged.
func TestAdmissionLetsDelAndStatusBeforeEarlierAdd(t *testing.T) {
	plugin, r, a, log, logs := admissionWorldLogged(t, 1)
	let := hold(t, plugin, r, log)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i, cmd := range []string{"ADD", "DEL", "STATUS"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- faultyRun(context.Background(), r, plugin, cmd, "c"+cmd, map[string]any{"commandLog": log})
		}()
		testutil.Eventually(t, 10*time.Second, func() bool { return a.waiting() == i+1 },
			cmd+" never queued for the slot")
	}
	let()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"ADD_holder_eth0", "DEL_cDEL_eth0", "STATUS_cSTATUS_eth0", "ADD_cADD_eth0"}
	if got := lines(t, log); !slices.Equal(got, want) {
		t.Fatalf("plugins ran in the order %v, want %v", got, want)
	}
	waits := map[string]bool{}
	for _, e := range logs.AllEntries() {
		if strings.HasPrefix(e.Message, "plugin waited for an exec slot") {
			waits[e.Data["command"].(string)] = e.Data["waited"].(time.Duration) > 0
		}
	}
	if !waits["ADD"] || !waits["DEL"] || !waits["STATUS"] {
		t.Fatalf("logged waits %v, want one for each of ADD, DEL and STATUS", waits)
	}
}

// A wait for a slot that the context ends returns the context's error,
// runs no plugin, and leaves neither a waiter nor a slot behind.
func TestAdmissionWaitEndsWithContext(t *testing.T) {
	plugin, r, a, log := admissionWorld(t, 1)
	let := hold(t, plugin, r, log)

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		release, err := a.Acquire(ctx, "DEL", false)
		if err == nil {
			release()
		}
		got <- err
	}()
	testutil.Eventually(t, 10*time.Second, func() bool { return a.waiting() == 1 }, "Acquire never waited")
	cancel()
	if err := <-got; err != context.Canceled {
		t.Fatalf("Acquire returned %v, want ctx.Err()", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	err := faultyRun(dctx, r, plugin, "ADD", "late", map[string]any{"commandLog": log})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exec error %v, want one matching context.DeadlineExceeded", err)
	}
	if a.waiting() != 0 || len(lines(t, log)) != 1 {
		t.Fatalf("%d waiters left, plugin calls %v; want none and only the holder's", a.waiting(), lines(t, log))
	}
	let()
	if err := faultyRun(context.Background(), r, plugin, "ADD", "after", map[string]any{"commandLog": log}); err != nil {
		t.Fatalf("the slot did not come back: %v", err)
	}
}

// GC's DELs of stale sandboxes, run in the background, go ahead of ADDs
// but never take the last slot: with two slots and background DELs that
// hang queued for both, an ADD still runs (it would wait for the whole GC
// otherwise).
func TestAdmissionKeepsASlotFromBackgroundWork(t *testing.T) {
	plugin, r, a, log := admissionWorld(t, 2)
	ctx, cancel := context.WithCancel(WithBackground(context.Background()))
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = faultyRun(ctx, r, plugin, "DEL", fmt.Sprint("gc", i), map[string]any{"commandLog": log, "faults": map[string]string{"DEL": "hang"}})
		}()
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return len(lines(t, log)) == 1 && a.waiting() == 1 },
		"one background DEL never ran with the other waiting")
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := faultyRun(actx, r, plugin, "ADD", "pod", map[string]any{"commandLog": log}); err != nil {
		t.Fatalf("the ADD did not run beside the background DELs: %v", err)
	}
}

// Without a bound there is no Admission, and every exec goes at once.
func TestAdmissionZeroIsNoBound(t *testing.T) {
	if a := NewAdmission(0); a != nil {
		t.Fatalf("NewAdmission(0) = %v, want nil", a)
	}
	release, err := (*Admission)(nil).Acquire(context.Background(), "ADD", false)
	if err != nil {
		t.Fatal(err)
	}
	release()
}
