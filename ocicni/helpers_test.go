package ocicni

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/testutil"
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
	base := []Option{WithConfDir(e.confDir), WithBinDirs(e.binDir), WithCacheDir(e.cache), WithLogger(e.logger)}
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

// commands returns the CNI commands a noop command log recorded, in order.
func commands(t *testing.T, logFile string) []string {
	t.Helper()
	l, err := debug.ReadCommandLog(logFile)
	if err != nil {
		data, _ := os.ReadFile(logFile)
		if len(data) == 0 {
			return nil
		}
		t.Fatal(err)
	}
	var out []string
	for _, c := range l {
		out = append(out, c.Command)
	}
	return out
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

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
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

// networkNames lists the names of the set's networks, in the set's order.
func networkNames(s NetworkSet) []string {
	var out []string
	for _, n := range s.Networks {
		out = append(out, n.Name)
	}
	return out
}

// currentSet returns the plugin's configuration snapshot.
func currentSet(p *Plugin) *netconf.Set {
	s, _ := p.conf.Current(context.Background())
	return s
}

// cniCommand returns the CNI_COMMAND of a plugin's environment.
func cniCommand(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
			return v
		}
	}
	return ""
}
