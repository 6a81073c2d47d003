package ocicni

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
)

// env is one test's world: a conf dir, a plugin dir of symlinks, a cache
// dir, and a log that records every entry.
type env struct {
	t       *testing.T
	confDir string
	binDir  string
	cache   string
	logs    *test.Hook
	logger  *logrus.Logger
}

func newEnv(t *testing.T, plugins ...string) *env {
	t.Helper()
	if len(plugins) == 0 {
		plugins = []string{"noop", "sleep"}
	}
	logger, hook := test.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return &env{
		t:       t,
		confDir: t.TempDir(),
		binDir:  testutil.LinkPlugins(t, plugins...),
		cache:   t.TempDir(),
		logs:    hook,
		logger:  logger,
	}
}

// plugin builds a Plugin on the env, shut down when the test ends.
func (e *env) plugin(opts ...Option) *Plugin {
	e.t.Helper()
	// STATUS is asked on load and on change only, so plugin command logs
	// do not depend on how long a test runs; tests of the interval ask for
	// one.
	base := []Option{WithConfDir(e.confDir), WithBinDirs(e.binDir), WithCacheDir(e.cache), WithLogger(e.logger), WithStatusInterval(0)}
	p, err := New(append(base, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// noopDebug creates a debug file for the noop plugin with the given result
// (or error) and returns its path.
func (e *env) noopDebug(d debug.Debug) string {
	e.t.Helper()
	f := filepath.Join(e.t.TempDir(), "debug.json")
	if err := d.WriteDebug(f); err != nil {
		e.t.Fatal(err)
	}
	return f
}

// noopResult is a CNI 1.0.0 result with one interface and address.
func noopResult(ip string) string {
	return fmt.Sprintf(`{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"%s/24","interface":0}]}`, ip)
}

// writeNoopList writes a conflist of noop plugins, each with its own debug
// file and command log, and returns those paths.
func (e *env) writeNoopList(file, name, version string, debugFiles ...string) []string {
	e.t.Helper()
	var plugins []map[string]any
	var logs []string
	for i, d := range debugFiles {
		log := filepath.Join(e.t.TempDir(), fmt.Sprintf("cmdlog%d.json", i))
		if err := os.WriteFile(log, nil, 0o644); err != nil {
			e.t.Fatal(err)
		}
		logs = append(logs, log)
		plugins = append(plugins, map[string]any{"type": "noop", "debugFile": d, "commandLog": log})
	}
	testutil.WriteJSON(e.t, e.confDir, file, map[string]any{"cniVersion": version, "name": name, "plugins": plugins})
	return logs
}

// cacheFiles lists the libcni result cache.
func (e *env) cacheFiles() []string {
	e.t.Helper()
	entries, _ := os.ReadDir(filepath.Join(e.cache, "results"))
	var out []string
	for _, x := range entries {
		out = append(out, x.Name())
	}
	return out
}

// setUp sets pod up on p and fails the test when that fails.
func setUp(t testing.TB, p *Plugin, pod PodNetwork) {
	t.Helper()
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
}

// tearDown tears pod down on p and fails the test when that fails.
func tearDown(t testing.TB, p *Plugin, pod PodNetwork) {
	t.Helper()
	if err := p.TearDownPod(pod); err != nil {
		t.Fatal(err)
	}
}

// currentSet returns the plugin's configuration snapshot.
func currentSet(p *Plugin) *netconf.Set {
	s, _ := p.conf.Current(context.Background())
	return s
}

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
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor(version, ip)}, log, nil)
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

// hasLog reports whether an entry whose message contains msg was logged.
func (e *env) hasLog(msg string) bool { return len(e.logsWith(msg)) > 0 }

// countLog counts the entries whose message contains msg.
func (e *env) countLog(msg string) int { return len(e.logsWith(msg)) }

// hasLogWith reports whether an entry whose message contains msg carries
// field key with value v.
func (e *env) hasLogWith(msg, key string, v any) bool {
	return slices.ContainsFunc(e.logsWith(msg), func(en *logrus.Entry) bool { return en.Data[key] == v })
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
	first, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor(version, "10.0.0.1")}, log, nil)
	e.writeList("10-slow.conflist", "slow", version, nil, first, map[string]any{"type": "slow"})
	return marks, log
}

// opErrorCodes checks that each error joined in err is an *OpError for op
// wrapping a plugin's *types.Error, and returns their codes, sorted.
func opErrorCodes(t *testing.T, err error, op string) []int {
	t.Helper()
	var codes []int
	for _, x := range testutil.Joined(err) {
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

// newFaultEnv is newEnv with the faulty test plugin copied in as a real
// file, so a test may chmod it, hold it open or look for its processes
// without touching any other test's plugins.
func newFaultEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "noop", "sleep")
	testutil.CopyPlugin(t, "faulty", e.binDir)
	return e
}

// logFile returns a fresh, empty command log path.
func (e *env) logFile(name string) string {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// control sets what the faulty plugin does on its next calls, whatever the
// (possibly cached) configuration says; nil restores the configuration's
// behaviour.
func (e *env) control(c map[string]any) {
	e.t.Helper()
	p := filepath.Join(e.binDir, "faulty.control.json")
	if c == nil {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.t.Fatal(err)
		}
		return
	}
	testutil.WriteJSON(e.t, e.binDir, "faulty.control.json", c)
}

// isOwed reports whether the cache file name is an owed entry: the
// library's record of a DEL still owed, after a failed rollback say.
func (e *env) isOwed(name string) bool {
	e.t.Helper()
	for _, c := range e.entries() {
		if filepath.Base(c.File) == name {
			return c.Err == nil && c.Owed
		}
	}
	return false
}

// entries reads every entry of the env's cache through a store of its own.
func (e *env) entries() []*attachstore.Entry {
	e.t.Helper()
	all, err := attachstore.New(e.cache).All()
	if err != nil {
		e.t.Fatal(err)
	}
	return all
}

// serialGC makes GC tear stale sandboxes down one at a time, for tests
// whose noop plugins share one debug file, which concurrent calls corrupt.
func serialGC() Option {
	return func(o *options) { o.gcWorkers = 1 }
}

// waitAnswered waits until the default network's STATUS has answered
// once, so Status reports the plugins' word rather than "not answered yet".
func waitAnswered(t *testing.T, p *Plugin) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		for _, n := range p.Networks().Networks {
			if n.Default && n.Readiness != nil && !n.Readiness.Pending {
				return true
			}
		}
		return false
	}, "the default network's STATUS never answered")
}

// waitFor bounds every wait on the watcher. It is generous because the
// tests share two cores with -race; a working watcher takes milliseconds.
const waitFor = 10 * time.Second

// watched builds a watching Plugin on the env and waits until its watches
// are in place (or it fell back to polling), so that a change the test makes
// next is the watcher's to see and not caught by the first load.
func (e *env) watched(opts ...Option) *Plugin {
	e.t.Helper()
	p := e.plugin(opts...)
	testutil.Eventually(e.t, waitFor, func() bool { return p.conf.Stats().Reloads > 0 }, "the watcher never armed")
	return p
}

// waitDefault waits until the plugin's current configuration (as the
// watcher left it: in watch mode reading it never reloads) has want as its
// default network ("" for none).
func waitDefault(t *testing.T, p *Plugin, want string) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool { return p.GetDefaultNetworkName() == want },
		"default network is %q, want %q (view %+v)", p.GetDefaultNetworkName(), want, p.Networks())
}
