//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// runtimeSpec tells a runtime process (the test binary re-executed by
// startRuntime) what to do before the test kills it.
type runtimeSpec struct {
	Conf, Cache, Bin string
	Action           string // "setup", "teardown", "gc" or "soak"
	Pod              ocicni.PodNetwork
	Soak             soakSpec
}

// TestCrashRuntime is not a test of its own: it is the runtime process the
// crash tests start and SIGKILL. It does spec's action and reports on
// stdout; see startRuntime.
func TestCrashRuntime(t *testing.T) {
	payload := testutil.ChildPayload()
	if payload == "" {
		t.Skip("skipped: the runtime process of the crash tests; runs only when they start it")
	}
	var spec runtimeSpec
	if err := json.Unmarshal([]byte(payload), &spec); err != nil {
		t.Fatal(err)
	}
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	p, err := ocicni.New(ocicni.WithConfDir(spec.Conf), ocicni.WithCacheDir(spec.Cache),
		ocicni.WithBinDirs(spec.Bin), ocicni.WithLogger(quiet), ocicni.WithWatch(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	switch spec.Action {
	case "setup":
		_, err = p.SetUpPodWithContext(ctx, spec.Pod)
	case "teardown":
		err = p.TearDownPodWithContext(ctx, spec.Pod)
	case "gc":
		err = p.GC(ctx, nil)
	case "soak":
		soakRuntime(ctx, p, spec.Soak)
	}
	fmt.Printf("done: %v\n", err)
}

// startRuntime starts a runtime process doing spec and returns it with its
// stdout.
func startRuntime(t *testing.T, spec runtimeSpec) (*exec.Cmd, io.Reader) {
	t.Helper()
	payload, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := testutil.ChildCommand("TestCrashRuntime", string(payload))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

// kill SIGKILLs the runtime, as a node crash or a restart of its service
// does, and reaps it.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// crashWorld is a world whose network "crash" chains bridge (host-local),
// portmap and a faulty plugin at gatePos that can hang to hold the runtime
// at a chosen instant, plus a network "gate" of the faulty plugin alone.
// The plugin dir is private, so the faulty plugin's control file is too.
type crashWorld struct {
	*world
	log string // the faulty plugin's command log
}

func newCrashWorld(t *testing.T, gatePos int) *crashWorld {
	t.Helper()
	requireFirewall(t)
	w := newWorld(t)
	w.binDir = testutil.LinkPlugins(t, "bridge", "host-local", "portmap")
	testutil.CopyPlugin(t, "faulty", w.binDir)
	cw := &crashWorld{world: w, log: filepath.Join(t.TempDir(), "faulty.log")}
	gate := map[string]any{"type": "faulty", "commandLog": cw.log}
	conf := w.bridgeNet("crash", portmapPlugin())
	plugins := conf["plugins"].([]map[string]any)
	plugins = slices.Insert(plugins, gatePos, gate)
	conf["plugins"] = plugins
	w.writeConf("10-crash.conflist", conf)
	w.writeConf("20-gate.conflist", map[string]any{"cniVersion": "1.1.0", "name": "gate", "plugins": []any{gate}})
	return cw
}

// faults sets what the faulty plugin does from its next call on.
func (cw *crashWorld) faults(f map[string]string) {
	cw.tb.Helper()
	testutil.WriteJSON(cw.tb, cw.binDir, "faulty.control.json", map[string]any{"faults": f})
}

// waitGate waits until the faulty plugin has logged line, that is, until
// the runtime is held at the instant under test.
func (cw *crashWorld) waitGate(t *testing.T, line string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() bool {
		data, _ := os.ReadFile(cw.log)
		return strings.Contains(string(data), line)
	}, "the runtime never reached "+line)
}

// reapPlugins kills plugin processes the dead runtime left running, as a
// service manager killing the runtime's cgroup would, and waits for them.
func (cw *crashWorld) reapPlugins(t *testing.T) {
	t.Helper()
	seen := map[int]bool{}
	testutil.Eventually(t, 30*time.Second, func() bool {
		live := pluginProcesses(cw.binDir)
		for _, pid := range live {
			if !seen[pid] {
				seen[pid] = true
				t.Logf("killing plugin process %d left running: %s", pid, describeProcess(pid))
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return len(live) == 0
	}, "plugin processes of the killed runtime never went away")
}

// describeProcess names a plugin process by its binary, verb and container.
func describeProcess(pid int) string {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	d := filepath.Base(argv0)
	for _, kv := range strings.Split(string(environ), "\x00") {
		if strings.HasPrefix(kv, "CNI_COMMAND=") || strings.HasPrefix(kv, "CNI_CONTAINERID=") {
			d += " " + kv
		}
	}
	return d
}

// pluginProcesses lists live processes started from a binary of dir. They
// are told by the path they were started as (argv[0], which libcni and
// pluginexec set to the plugin's path in the bin dir), not by
// /proc/PID/exe: the bin dir holds symlinks to the shared build, so exe
// names bin/plugins/bridge, where another test's plugins run too, and a
// bridge left running by a killed runtime went unnoticed.
func pluginProcesses(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		if !strings.HasPrefix(argv0, dir+"/") {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+2:]), "Z") {
				continue
			}
		}
		out = append(out, pid)
	}
	return out
}

// assertNothingLeft checks what the kernel, host-local and the cache dir
// still hold of the pod: no veth on the bridge, no address reservation, no
// portmap rule, no cache or record file.
func (cw *crashWorld) assertNothingLeft(t *testing.T, pod ocicni.PodNetwork) {
	t.Helper()
	assertClean(t, cw.world, "crash")
	if rules := firewallRules(t); strings.Contains(rules, pod.ID) {
		t.Fatalf("portmap rules of %s left:\n%s", pod.ID, rules)
	}
}

// crashPoint is one instant at which the runtime dies.
type crashPoint struct {
	name    string
	gatePos int               // where the faulty plugin sits in "crash"
	setUp   bool              // the test sets the pod up first, with no faults
	action  string            // what the runtime is doing when killed
	faults  map[string]string // what the faulty plugin does meanwhile
	gate    string            // the faulty plugin's log line that marks the instant
	nets    []ocicni.NetAttachment
}

var crashPoints = []crashPoint{
	{name: "setup before bridge ADD", gatePos: 0, action: "setup", faults: map[string]string{"ADD": "hang"}, gate: "ADD"},
	{name: "setup after bridge ADD", gatePos: 1, action: "setup", faults: map[string]string{"ADD": "hang"}, gate: "ADD"},
	{name: "setup after portmap ADD", gatePos: 2, action: "setup", faults: map[string]string{"ADD": "hang"}, gate: "ADD"},
	{name: "during rollback", gatePos: 2, action: "setup", faults: map[string]string{"ADD": "error", "DEL": "hang"}, gate: "DEL"},
	{
		name: "between the DELs of a teardown", gatePos: 2, setUp: true, action: "teardown",
		faults: map[string]string{"DEL:gate": "hang"}, gate: "DEL",
		nets: []ocicni.NetAttachment{{Name: "crash"}, {Name: "gate"}},
	},
	{name: "during GC", gatePos: 2, setUp: true, action: "gc", faults: map[string]string{"DEL": "hang"}, gate: "DEL"},
}

// TestCrashAtEveryPointLeaksNothing kills a real runtime process at each
// crash point in turn and recovers with a new Plugin over the same
// directories, once by tearing the pod down by sandbox ID alone and once by
// GC with the pod not valid. Either way nothing of the pod is left.
func TestCrashAtEveryPointLeaksNothing(t *testing.T) {
	for _, cp := range crashPoints {
		for _, recovery := range []string{"teardown", "gc"} {
			t.Run(cp.name+"/"+recovery, func(t *testing.T) {
				cw := newCrashWorld(t, cp.gatePos)
				pod := cw.pod("c")
				pod.Networks = cp.nets
				pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{"crash": {
					PortMappings: []ocicni.PortMapping{{HostPort: 18080, ContainerPort: 80}},
				}}
				if cp.setUp {
					if _, err := cw.plugin().SetUpPod(pod); err != nil {
						t.Fatalf("setup before the crash: %v", err)
					}
				}
				cw.faults(cp.faults)
				runtime, _ := startRuntime(t, runtimeSpec{
					Conf: cw.confDir, Cache: cw.cacheDir, Bin: cw.binDir, Action: cp.action, Pod: pod,
				})
				cw.waitGate(t, cp.gate+" "+pod.ID)
				kill(t, runtime)
				cw.reapPlugins(t)
				cw.faults(nil)

				p := cw.plugin()
				var err error
				if recovery == "teardown" {
					err = p.TearDownPod(ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
				} else {
					err = p.GC(context.Background(), nil)
				}
				if err != nil {
					t.Fatalf("%s after the crash: %v", recovery, err)
				}
				cw.assertNothingLeft(t, pod)
			})
		}
	}
}
