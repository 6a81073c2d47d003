package ocicni

import (
	"os"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/testutil"
)

// captureStderr points os.Stderr at a file for the rest of the test and
// returns a function reading what was written there.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = orig; f.Close() })
	return func() string {
		b, _ := os.ReadFile(f.Name())
		return string(b)
	}
}

func TestPluginStderrGoesToInjectedLoggerWithFields(t *testing.T) {
	readStderr := captureStderr(t)
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1"), ReportStderr: "chatty plugin says hi"}, "", nil)
	e.writeList("10-n.conflist", "n", "1.0.0", nil, conf)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{Name: "web", Namespace: "prod", ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n", Ifname: "net0"}}}
	setUp(t, p, pod)
	testutil.SetDebug(t, np.debug, debug.Debug{ReportError: "failing", ReportStderr: "dying plugin says bye"})
	if err := p.TearDownPod(pod); err == nil {
		t.Fatal("teardown succeeded with a failing plugin")
	}

	want := map[string]any{
		"pod_namespace": "prod", "pod_name": "web", "pod_id": "c1",
		"network": "n", "ifname": "net0", "plugin": "noop",
	}
	check := func(stderr, command string, level logrus.Level) {
		t.Helper()
		var found *logrus.Entry
		for _, en := range e.logs.AllEntries() {
			if en.Data["stderr"] == stderr {
				found = en
			}
		}
		if found == nil {
			t.Fatalf("plugin stderr %q not logged", stderr)
		}
		for k, v := range want {
			if found.Data[k] != v {
				t.Errorf("log of %q: field %s = %v, want %v (fields %v)", stderr, k, found.Data[k], v, found.Data)
			}
		}
		if found.Data["command"] != command || found.Level != level {
			t.Errorf("log of %q: command %v level %v, want %s at %v", stderr, found.Data["command"], found.Level, command, level)
		}
	}
	// Chatter of a plugin that succeeded is debug; of one that failed, a
	// warning.
	check("chatty plugin says hi", "ADD", logrus.DebugLevel)
	check("dying plugin says bye", "DEL", logrus.WarnLevel)
	if s := readStderr(); strings.Contains(s, "says") {
		t.Fatalf("plugin stderr reached the process's stderr: %q", s)
	}
}
