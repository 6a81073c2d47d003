package pluginexec

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestGateHoldsConfigurationUntilOpened(t *testing.T) {
	plugin, pidFile, got := gatedPlugin(t)
	g, done := execHeld(plugin)
	pid := startedPID(t, pidFile)
	// Without the gate the plugin reads its configuration at once and
	// never waits in that read.
	testutil.Eventually(t, 10*time.Second, func() bool { return blockedReadingStdin(t, pid) },
		"the plugin never waited for its configuration")
	if s := readSoFar(t, got); s != "" {
		t.Fatalf("the plugin read %q before the gate opened", s)
	}
	g.Open(nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := readSoFar(t, got); s != gatedConf {
		t.Fatalf("the plugin read %q, want its whole configuration", s)
	}
}

func TestGateOpenedWithErrorKillsPluginUnread(t *testing.T) {
	plugin, pidFile, got := gatedPlugin(t)
	g, done := execHeld(plugin)
	pid := startedPID(t, pidFile)
	boom := errors.New("record not written")
	g.Open(boom)
	err := <-done
	if !errors.Is(err, boom) {
		t.Fatalf("exec error %v, want one matching the gate's", err)
	}
	if s := readSoFar(t, got); s != "" {
		t.Fatalf("the plugin read %q although the gate failed", s)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("plugin %d still alive after its gate failed", pid)
	}
}

func TestGateHoldsNeitherDelNorASecondAdd(t *testing.T) {
	plugin, _, got := gatedPlugin(t)
	g := NewGate()
	ctx := WithGate(context.Background(), g)
	r := New(Config{})
	// A DEL under the gate neither waits nor uses the gate up.
	if _, err := r.ExecPlugin(ctx, plugin, []byte(gatedConf), gatedEnv("DEL")); err != nil {
		t.Fatal(err)
	}
	if gateFor(ctx, "ADD") != g {
		t.Fatal("a DEL claimed the gate meant for the ADD")
	}
	// The ADD has claimed it now; a later ADD (the next plugin of a
	// chain) runs at once, though the gate never opens.
	if _, err := r.ExecPlugin(ctx, plugin, []byte(gatedConf), gatedEnv("ADD")); err != nil {
		t.Fatal(err)
	}
	if s := readSoFar(t, got); s != gatedConf {
		t.Fatalf("second ADD read %q", s)
	}
}

func TestGateHoldsReplacementRunner(t *testing.T) {
	inner := &recordingExec{}
	g := NewGate()
	boom := errors.New("record not written")
	g.Open(boom)
	_, err := New(Config{Inner: inner}).ExecPlugin(WithGate(context.Background(), g), "/none/held", []byte(gatedConf), gatedEnv("ADD"))
	if !errors.Is(err, boom) || inner.called {
		t.Fatalf("error %v, inner called %v; want the gate's error and no exec", err, inner.called)
	}
}
