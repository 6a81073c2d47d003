package ocicni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// swapPlugin atomically points dir/name at the plugin target of the built
// plugin directory.
func swapPlugin(t *testing.T, dir, name, target string) {
	t.Helper()
	tmp := filepath.Join(dir, ".swap-"+name)
	if err := os.Symlink(filepath.Join(testutil.PluginDir(t), target), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// A network whose plugin binary is missing or not executable is skipped
// with a reason saying which; asking for it by name fails with an error
// matching both ErrNetworkNotFound and ErrPluginNotFound.
func TestFaultBinaryMissingOrNotExecutableAtLoad(t *testing.T) {
	e := newFaultEnv(t)
	if err := os.Chmod(filepath.Join(e.binDir, "faulty"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WriteJSON(t, e.confDir, "10-absent.conf", `{"cniVersion":"1.0.0","name":"absent","type":"nosuchplugin"}`)
	testutil.WriteJSON(t, e.confDir, "20-noexec.conf", `{"cniVersion":"1.0.0","name":"noexec","type":"faulty"}`)
	logs := e.writeNoopList("30-good.conflist", "good", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin()

	ns := p.Networks()
	if ns.Default != "good" {
		t.Fatalf("default = %q, want good", ns.Default)
	}
	reasons := map[string]string{}
	for _, s := range ns.Skipped {
		reasons[filepath.Base(s.File)] = s.Reason
	}
	if r := reasons["10-absent.conf"]; !strings.Contains(r, `"nosuchplugin"`) || !strings.Contains(r, e.binDir) {
		t.Errorf("absent plugin reason = %q", r)
	}
	if r := reasons["20-noexec.conf"]; !strings.Contains(r, "not executable") {
		t.Errorf("non-executable plugin reason = %q", r)
	}
	for _, name := range []string{"absent", "noexec"} {
		_, err := p.SetUpPod(PodNetwork{Name: "web", Namespace: "shop", ID: "sb-" + name, NetNS: testutil.NewNetNS(t),
			Networks: []NetAttachment{{Name: name}}})
		if !errors.Is(err, ErrNetworkNotFound) || !errors.Is(err, ErrPluginNotFound) {
			t.Errorf("setup on %s: %v, want ErrNetworkNotFound and ErrPluginNotFound", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "skipped") {
			t.Errorf("setup on %s: error %q does not say the network was skipped", name, err)
		}
	}
	if got := testutil.Commands(t, logs[0]); len(got) != 0 {
		t.Fatalf("a plugin ran: %v", got)
	}
}

// A plugin binary that disappears, or loses its execute bit, between load
// and exec is reported as ErrPluginNotFound by the exec itself.
func TestFaultBinaryVanishesBeforeExec(t *testing.T) {
	dir := t.TempDir()
	testutil.CopyPlugin(t, "faulty", dir)
	noexec := filepath.Join(dir, "faulty")
	if err := os.Chmod(noexec, 0o644); err != nil {
		t.Fatal(err)
	}
	x := pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"ADD": time.Second}}, Log: logrus.New()})
	env := []string{"CNI_COMMAND=ADD"}
	for _, path := range []string{filepath.Join(dir, "gone"), noexec} {
		_, err := x.ExecPlugin(context.Background(), path, []byte(`{}`), env)
		if !errors.Is(err, ErrPluginNotFound) || !strings.Contains(err.Error(), "plugin "+filepath.Base(path)) {
			t.Errorf("exec %s: %v, want ErrPluginNotFound naming the plugin", path, err)
		}
	}
}

// A plugin removed after setup makes teardown fail with ErrPluginNotFound
// and keep the cache entry; once the binary is back, teardown succeeds.
func TestFaultBinaryMissingOnTeardown(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	bin := filepath.Join(e.binDir, "faulty")
	hidden := filepath.Join(t.TempDir(), "faulty")
	if err := os.Rename(bin, hidden); err != nil {
		t.Fatal(err)
	}
	err := p.TearDownPod(pod)
	if !errors.Is(err, ErrPluginNotFound) {
		t.Fatalf("teardown: %v, want ErrPluginNotFound", err)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net1-sb1-eth0"}) {
		t.Fatalf("cache = %v, want the entry kept for a retry", got)
	}
	if err := os.Rename(hidden, bin); err != nil {
		t.Fatal(err)
	}
	if err := p.TearDownPod(pod); err != nil {
		t.Fatalf("retried teardown: %v", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin saw %v", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache = %v", got)
	}
}

// holdOpenForWrite opens path for writing, which makes the kernel refuse to
// exec it with ETXTBSY until the returned file is closed.
func holdOpenForWrite(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

const busyMsg = "plugin binary busy"

// An exec that meets "text file busy" (the binary is being written) is
// retried, and succeeds once the writer is done.
func TestFaultTextFileBusyRetried(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	pod := webPod(t, "sb1")
	f := holdOpenForWrite(t, filepath.Join(e.binDir, "faulty"))

	done := make(chan error, 1)
	go func() {
		_, err := p.SetUpPod(pod)
		done <- err
	}()
	testutil.Eventually(t, 5*time.Second, func() bool { return e.hasLog(busyMsg) }, "no ETXTBSY retry logged")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("setup after the binary was released: %v", err)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD"}) {
		t.Fatalf("plugin saw %v", got)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net1-sb1-eth0"}) {
		t.Fatalf("cache = %v", got)
	}
}

// A binary that stays busy is retried a bounded number of times, then the
// error says what happened and matches syscall.ETXTBSY.
func TestFaultTextFileBusyBounded(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-net.conflist", "net1", "1.0.0", nil, testutil.FaultyPlugin(log, nil))
	p := e.plugin(WithWatch(false))
	holdOpenForWrite(t, filepath.Join(e.binDir, "faulty"))

	_, err := p.SetUpPod(webPod(t, "sb1"))
	if !errors.Is(err, syscall.ETXTBSY) || !strings.Contains(err.Error(), "plugin faulty (ADD)") {
		t.Fatalf("setup: %v, want ETXTBSY naming the plugin", err)
	}
	// The ADD and the rollback DEL each give up after pluginexec's bound
	// of six retries.
	const textBusyRetries = 6
	if got := e.countLog(busyMsg); got != 2*textBusyRetries {
		t.Fatalf("%d retries logged, want %d", got, 2*textBusyRetries)
	}
	if got := testutil.FaultyLog(t, log); len(got) != 0 {
		t.Fatalf("the busy binary ran: %v", got)
	}
}
