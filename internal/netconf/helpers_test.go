package netconf

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/netplumb/ocicni/types"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// waitFor bounds every wait on the watcher; a working one takes
// milliseconds, but the tests share two cores with -race.
const waitFor = 10 * time.Second

// testDirs is a conf dir and a plugin dir holding the noop plugin.
type testDirs struct {
	conf, bin string
}

func newTestDirs(t *testing.T) testDirs {
	t.Helper()
	return testDirs{conf: t.TempDir(), bin: testutil.LinkPlugins(t, "noop")}
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// open starts a Source on the dirs, closed when the test ends.
func (d testDirs) open(t *testing.T, watch bool) *Source {
	t.Helper()
	log := quietLog()
	s := Open(Config{
		ConfDir: d.conf, BinDirs: []string{d.bin}, Watch: watch, PollInterval: time.Second, Log: log,
		Exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log}),
	})
	t.Cleanup(s.Close)
	return s
}

// loader returns a loader on the dirs with a fresh cache.
func (d testDirs) loader() *loader {
	log := quietLog()
	return &loader{confDir: d.conf, binDirs: []string{d.bin}, cache: newValidCache(), log: log,
		exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log})}
}

// armed waits until the watcher set its watches up and went idle: the
// reload that added them and the one after.
func armed(t *testing.T, s *Source) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool { return stats(s).Reloads >= 2 || stats(s).Polling }, "the watcher never armed")
	if stats(s).Polling {
		t.Skip("skipped: inotify unavailable, the watcher polls")
	}
}

func skipReason(set *Set, file string) string {
	for _, sk := range set.Skipped {
		if sk.File == file {
			return sk.Reason
		}
	}
	return ""
}

func confPath(d testDirs, file string) string { return filepath.Join(d.conf, file) }

// The tests below drive a Source the way the ocicni face does: env is one
// test's world (a conf dir, a plugin dir of symlinks and a log that
// records every entry), and plugin is a Source seen through the questions
// the face asks of it.
type env struct {
	t       *testing.T
	confDir string
	binDir  string
	logs    *logtest.Hook
	logger  *logrus.Logger
}

func newEnv(t *testing.T, plugins ...string) *env {
	t.Helper()
	if len(plugins) == 0 {
		plugins = []string{"noop", "sleep"}
	}
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return &env{t: t, confDir: t.TempDir(), binDir: testutil.LinkPlugins(t, plugins...), logs: hook, logger: logger}
}

// Option changes the Config an env opens its Source with; the With
// options are named after the face's, which the tests were written for.
type Option func(*Config)

func WithWatch(on bool) Option                { return func(c *Config) { c.Watch = on } }
func WithConfDir(dir string) Option           { return func(c *Config) { c.ConfDir = dir } }
func WithBinDirs(dirs ...string) Option       { return func(c *Config) { c.BinDirs = dirs } }
func WithPollInterval(d time.Duration) Option { return func(c *Config) { c.PollInterval = d } }
func WithDefaultNetwork(name string) Option   { return func(c *Config) { c.DefaultNetwork = name } }

// withExec runs the VERSION execs through exec.
func withExec(exec invoke.Exec) Option {
	return func(c *Config) {
		c.Exec = pluginexec.New(pluginexec.Config{Inner: exec, Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: c.Log})
	}
}

// withVersionTimeout bounds every VERSION exec by d.
func withVersionTimeout(d time.Duration) Option {
	return func(c *Config) {
		c.Exec = pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": d}}, Log: c.Log})
	}
}

// plugin is a Source with the face's questions: what is loaded, which
// network is the default, and whether a pod could be set up.
type plugin struct {
	conf *Source
}

// plugin opens a Source on the env, watching unless an option says
// otherwise, closed when the test ends.
func (e *env) plugin(opts ...Option) *plugin {
	e.t.Helper()
	cfg := Config{
		ConfDir: e.confDir, BinDirs: []string{e.binDir}, Watch: true, PollInterval: 2 * time.Second, Log: e.logger,
	}
	cfg.Exec = pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: e.logger})
	for _, o := range opts {
		o(&cfg)
	}
	s := Open(cfg)
	e.t.Cleanup(s.Close)
	return &plugin{conf: s}
}

// watched opens a watching Source and waits until its watches are in
// place (or it fell back to polling), so that a change the test makes next
// is the watcher's to see and not caught by the first load.
func (e *env) watched(opts ...Option) *plugin {
	e.t.Helper()
	p := e.plugin(opts...)
	testutil.Eventually(e.t, waitFor, func() bool { return stats(p.conf).Reloads > 0 || stats(p.conf).Polling },
		"the watcher never armed")
	return p
}

func (p *plugin) current() *Set {
	set, _ := p.conf.Current(context.Background())
	return set
}

func (p *plugin) Networks() types.NetworkSet { return p.current().Info() }

func (p *plugin) GetDefaultNetworkName() string {
	if set := p.current(); set.Default != nil {
		return set.Default.Name
	}
	return ""
}

// Status is what the configuration alone says of readiness: nil when a
// default network is loaded and every plugin of its chain is present,
// otherwise an error matching types.ErrNotReady that says why.
func (p *plugin) Status() error {
	set, err := p.conf.Current(context.Background())
	if err != nil {
		return fmt.Errorf("%w: %w", types.ErrNotReady, err)
	}
	if set.Default == nil {
		return fmt.Errorf("%w: %w: no default network in %s (skipped: %+v)", types.ErrNotReady, types.ErrNoDefaultNetwork, set.ConfDir, set.Skipped)
	}
	for _, t := range set.Default.Types {
		if _, _, err := pluginexec.Find(t, set.BinDirs); err != nil {
			return fmt.Errorf("%w: default network %q: %w", types.ErrNotReady, set.Default.Name, err)
		}
	}
	return nil
}

func (p *plugin) Shutdown() error {
	p.conf.Close()
	return nil
}

// counters is everything a Source counts, for tests: its Stats and what
// the watcher alone knows.
type counters struct {
	Stats
	// Events counts the relevant inotify events the watcher received.
	Events int64
	// Changes is the number of times a reload swapped a new snapshot in.
	Changes int64
	// Watching is set when a goroutine follows the directories, Polling
	// once inotify proved unavailable.
	Watching, Polling bool
}

func stats(s *Source) counters {
	c := counters{Stats: s.Stats(), Changes: s.changes.Load()}
	if s.watch != nil {
		c.Watching = true
		c.Events = s.watch.events.Load()
		c.Polling = s.watch.polling.Load()
	}
	return c
}

// reloadNow reloads the configuration on the Source's own context, after
// any reload in progress.
func reloadNow(s *Source) { s.reload(s.life) }

// confBytes is a conflist of the given plugin types (noop when none).
func confBytes(name, version string, types ...string) []byte {
	if len(types) == 0 {
		types = []string{"noop"}
	}
	var plugins []map[string]any
	for _, t := range types {
		plugins = append(plugins, map[string]any{"type": t})
	}
	return []byte(mustJSON(map[string]any{"cniVersion": version, "name": name, "plugins": plugins}))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func networkNames(s types.NetworkSet) []string {
	var out []string
	for _, n := range s.Networks {
		out = append(out, n.Name)
	}
	return out
}

// waitDefault waits until the current configuration (as the watcher left
// it: in watch mode reading it never reloads) has want as its default
// network ("" for none).
func waitDefault(t *testing.T, p *plugin, want string) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool { return p.GetDefaultNetworkName() == want },
		"default network is %q, want %q (view %+v)", p.GetDefaultNetworkName(), want, p.Networks())
}

// waitNetwork waits until the named network is loaded and cond holds for it.
func waitNetwork(t *testing.T, p *plugin, name string, cond func(types.NetworkInfo) bool) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		for _, n := range p.Networks().Networks {
			if n.Name == name {
				return cond(n)
			}
		}
		return false
	}, "network %q never reached the wanted state (view %+v)", name, p.Networks())
}

// waitSkipped waits until file is skipped with a reason containing want.
func waitSkipped(t *testing.T, p *plugin, file, want string) {
	t.Helper()
	testutil.Eventually(t, waitFor, func() bool {
		for _, s := range p.Networks().Skipped {
			if s.File == file && strings.Contains(s.Reason, want) {
				return true
			}
		}
		return false
	}, "%s never skipped for %q (view %+v)", file, want, p.Networks())
}

// settle writes a sentinel network and waits until it is loaded. Events are
// handled in order and every reload reads the whole directory, so once the
// sentinel is in, everything written before it has been reloaded too.
func settle(t *testing.T, e *env, p *plugin, name string) {
	t.Helper()
	writeFile(t, filepath.Join(e.confDir, "zz-"+name+".conflist"), confBytes(name, "1.0.0"))
	waitNetwork(t, p, name, func(types.NetworkInfo) bool { return true })
}

// newFaultEnv is an env whose plugin dir also holds a copy of the faulty
// test plugin.
func newFaultEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "noop", "sleep")
	testutil.CopyPlugin(t, "faulty", e.binDir)
	return e
}

// hasLogWith reports whether an entry whose message contains msg has the
// field key set to v.
func (e *env) hasLogWith(msg, key string, v any) bool {
	for _, en := range e.logs.AllEntries() {
		if strings.Contains(en.Message, msg) && en.Data[key] == v {
			return true
		}
	}
	return false
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

// noopNets writes one noop network per name, in files 10-<name>,
// 20-<name>, ... in that order.
func (e *env) noopNets(names ...string) {
	e.t.Helper()
	for i, n := range names {
		e.writeList(fmt.Sprintf("%d0-%s.conflist", i+1, n), n, "1.0.0", nil, map[string]any{"type": "noop"})
	}
}

// slowPlugin installs "slow", a plugin binary of its own that answers
// VERSION, so a load counts its VERSION exec apart from noop's.
func (e *env) slowPlugin() {
	e.t.Helper()
	script := `#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
esac
`
	if err := os.WriteFile(filepath.Join(e.binDir, "slow"), []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
}

// faultyPlugin is one faulty plugin entry of a chain: faults maps a CNI
// command to the fault it acts out, and log is its command log.
func faultyPlugin(log string, faults map[string]string) map[string]any {
	return map[string]any{"type": "faulty", "commandLog": log, "faults": faults}
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

// control sets what the faulty plugin does on its next calls, whatever its
// configuration says.
func (e *env) control(c map[string]any) {
	e.t.Helper()
	testutil.WriteJSON(e.t, e.binDir, "faulty.control.json", c)
}
