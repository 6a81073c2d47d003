package ocicni

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/testutil"
)

// noopPlug is one noop plugin of a test network: the debug file that drives
// it and records its last call, and the command log it appends to.
type noopPlug struct {
	debug string
	log   string
}

// newLog creates an empty noop command log. Several plugins may share one,
// which records the global order of their calls.
func (e *env) newLog() string {
	e.t.Helper()
	f, err := os.CreateTemp(e.t.TempDir(), "cmdlog-*.json")
	if err != nil {
		e.t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// noopConf returns one noop plugin's configuration, driven by a fresh debug
// file holding d and logging to log (a fresh log when log is ""). extra is
// merged into the plugin's configuration (capabilities, for instance).
func (e *env) noopConf(d debug.Debug, log string, extra map[string]any) (map[string]any, noopPlug) {
	e.t.Helper()
	if log == "" {
		log = e.newLog()
	}
	np := noopPlug{debug: e.noopDebug(d), log: log}
	conf := map[string]any{"type": "noop", "debugFile": np.debug, "commandLog": np.log}
	for k, v := range extra {
		conf[k] = v
	}
	return conf, np
}

// writeList writes a conflist with the given top-level extras (disableGC,
// cniVersions, ...) and plugins, and returns its path.
func (e *env) writeList(file, name, version string, top map[string]any, plugins ...map[string]any) string {
	e.t.Helper()
	l := map[string]any{"cniVersion": version, "name": name, "plugins": plugins}
	for k, v := range top {
		l[k] = v
	}
	return testutil.WriteJSON(e.t, e.confDir, file, l)
}

// noopNet writes a one-noop network whose ADD reports ip, logging to log
// (a fresh log when log is "").
func (e *env) noopNet(file, name, version, ip, log string) noopPlug {
	e.t.Helper()
	conf, np := e.noopConf(debug.Debug{ReportResult: resultFor(version, ip)}, log, nil)
	e.writeList(file, name, version, nil, conf)
	return np
}

// oneNet writes network "n" of the given version, one noop plugin whose
// ADD reports ip and that logs to a fresh log, and builds a Plugin on the
// env that does not watch the conf dir.
func (e *env) oneNet(version, ip string) (noopPlug, *Plugin) {
	e.t.Helper()
	np := e.noopNet("10-n.conflist", "n", version, ip, "")
	return np, e.plugin(WithWatch(false))
}

// resultFor is a result of the given spec version with one interface and
// one address.
func resultFor(version, ip string) string {
	if strings.HasPrefix(version, "0.") {
		return fmt.Sprintf(`{"cniVersion":%q,"interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"version":"4","address":"%s/24","interface":0}]}`, version, ip)
	}
	return fmt.Sprintf(`{"cniVersion":%q,"interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"%s/24","interface":0}]}`, version, ip)
}

// lastCall returns what the noop plugin driven by debugFile last received.
func lastCall(t *testing.T, debugFile string) *debug.Debug {
	t.Helper()
	d, err := debug.ReadDebug(debugFile)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// setDebug rewrites a noop debug file's behaviour, keeping nothing of what
// it recorded.
func setDebug(t *testing.T, debugFile string, d debug.Debug) {
	t.Helper()
	if err := d.WriteDebug(debugFile); err != nil {
		t.Fatal(err)
	}
}

// stdinConf decodes the network configuration a plugin received on stdin.
func stdinConf(t *testing.T, stdin []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(stdin, &m); err != nil {
		t.Fatalf("plugin stdin %q: %v", stdin, err)
	}
	return m
}

// events returns a command log as "CMD network container ifname" lines, in
// the order the calls happened.
func events(t *testing.T, logFile string) []string {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	l, err := debug.ReadCommandLog(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range l {
		name, _ := stdinConf(t, c.CmdArgs.StdinData)["name"].(string)
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.Command, name, c.CmdArgs.ContainerID, c.CmdArgs.IfName)))
	}
	return out
}

// slowPlugin installs the plugin type "slow" in the env's plugin dir. The
// real `sleep` test plugin cannot answer VERSION (it sleeps whatever it is
// asked), so the loader would refuse any configuration naming it; "slow" is
// a shell script that answers VERSION itself, returns at once for DEL,
// CHECK, GC and STATUS, and for ADD creates <marks>/<container ID> and then
// execs the real sleep plugin, which runs until its deadline or the
// caller's context kills it. It returns the marks directory.
func (e *env) slowPlugin() string {
	e.t.Helper()
	marks := e.t.TempDir()
	sleepBin, err := filepath.EvalSymlinks(filepath.Join(testutil.PluginDir(e.t), "sleep"))
	if err != nil {
		e.t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
ADD) : > %q/"$CNI_CONTAINERID"; exec %q ;;
esac
`, marks, sleepBin)
	if err := os.WriteFile(filepath.Join(e.binDir, "slow"), []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return marks
}

// started reports whether the slow plugin's ADD for container id began.
func started(marks, id string) bool {
	_, err := os.Stat(filepath.Join(marks, id))
	return err == nil
}

// logsWith returns the log entries whose message contains msg.
func (e *env) logsWith(msg string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, msg) {
			out = append(out, en)
		}
	}
	return out
}

// joined returns the errors joined in err (err itself when not joined).
func joined(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}

// noopNets writes one network per name, each a single noop plugin logging
// to log (a fresh log each when log is ""): the i-th is file "<i+1>0-<name>.conflist"
// and its ADD reports 10.0.0.<i+1>. It returns the plugins in name order.
func (e *env) noopNets(log string, names ...string) []noopPlug {
	e.t.Helper()
	var out []noopPlug
	for i, n := range names {
		out = append(out, e.noopNet(fmt.Sprintf("%d0-%s.conflist", i+1, n), n, "1.0.0", fmt.Sprintf("10.0.0.%d", i+1), log))
	}
	return out
}

// slowNet writes network "slow" of the given version: a noop plugin that
// logs to a fresh log, then the slow plugin (see slowPlugin). It returns
// the slow plugin's marks dir and the log.
func (e *env) slowNet(version string) (marks, log string) {
	e.t.Helper()
	marks = e.slowPlugin()
	log = e.newLog()
	first, _ := e.noopConf(debug.Debug{ReportResult: resultFor(version, "10.0.0.1")}, log, nil)
	e.writeList("10-slow.conflist", "slow", version, nil, first, map[string]any{"type": "slow"})
	return marks, log
}

// opErrorCodes checks that each error joined in err is an *OpError for op
// wrapping a plugin's *types.Error, and returns their codes, sorted.
func opErrorCodes(t *testing.T, err error, op string) []int {
	t.Helper()
	var codes []int
	for _, x := range joined(err) {
		var ce *cnitypes.Error
		var oe *OpError
		if !errors.As(x, &ce) || !errors.As(x, &oe) || oe.Op != op {
			t.Fatalf("joined error %v lacks an OpError or the plugin's *types.Error", x)
		}
		codes = append(codes, int(ce.Code))
	}
	sort.Ints(codes)
	return codes
}
