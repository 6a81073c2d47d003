//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// world is one test's slice of the sandbox: its own conf, cache and IPAM
// directories, and a bridge name and subnet no other test uses, so tests
// sharing the sandbox's network namespace cannot see each other's pods.
type world struct {
	tb       testing.TB
	n        int32
	confDir  string
	cacheDir string
	dataDir  string // host-local's dataDir
	binDir   string
	bridge   string
	subnet   string // a /24 of 10.99.0.0/16
	logs     *lockedBuffer
}

var worldCounter atomic.Int32

func newWorld(tb testing.TB) *world {
	tb.Helper()
	testutil.RequireRoot(tb)
	n := worldCounter.Add(1)
	w := &world{
		tb:       tb,
		n:        n,
		confDir:  tb.TempDir(),
		cacheDir: tb.TempDir(),
		dataDir:  tb.TempDir(),
		binDir:   testutil.PluginDir(tb),
		bridge:   fmt.Sprintf("e2ebr%d", n),
		subnet:   fmt.Sprintf("10.99.%d.0/24", n),
		logs:     &lockedBuffer{},
	}
	tb.Cleanup(func() {
		if l, err := netlink.LinkByName(w.bridge); err == nil {
			_ = netlink.LinkDel(l)
		}
		if tb.Failed() {
			tb.Logf("library log:\n%s", w.logs.String())
		}
	})
	return w
}

// plugin builds a Plugin on the world's directories, shut down when the
// test ends. Its log is shown when the test fails.
func (w *world) plugin(opts ...ocicni.Option) *ocicni.Plugin {
	w.tb.Helper()
	logger := logrus.New()
	logger.SetOutput(w.logs)
	logger.SetLevel(logrus.DebugLevel)
	base := []ocicni.Option{
		ocicni.WithConfDir(w.confDir), ocicni.WithBinDirs(w.binDir),
		ocicni.WithCacheDir(w.cacheDir), ocicni.WithLogger(logger),
	}
	p, err := ocicni.New(append(base, opts...)...)
	if err != nil {
		w.tb.Fatal(err)
	}
	w.tb.Cleanup(func() { _ = p.Shutdown() })
	return p
}

// pod describes a pod with a fresh network namespace.
func (w *world) pod(name string, nets ...ocicni.NetAttachment) ocicni.PodNetwork {
	w.tb.Helper()
	return ocicni.PodNetwork{
		Name: name, Namespace: "e2e", UID: "uid-" + name,
		ID:       fmt.Sprintf("sb%d%s", w.n, name),
		NetNS:    testutil.NewNetNS(w.tb),
		Networks: nets,
	}
}

// bridgeNet is a conflist whose first plugin is bridge with host-local
// IPAM on the world's bridge, subnet and dataDir, followed by more.
func (w *world) bridgeNet(name string, more ...map[string]any) map[string]any {
	return bridgeNetOn(name, w.bridge, w.subnet, w.dataDir, more...)
}

func bridgeNetOn(name, bridge, subnet, dataDir string, more ...map[string]any) map[string]any {
	plugins := []map[string]any{{
		"type":         "bridge",
		"bridge":       bridge,
		"isGateway":    true,
		"capabilities": map[string]bool{"ips": true, "mac": true},
		"ipam": map[string]any{
			"type":    "host-local",
			"dataDir": dataDir,
			"ranges":  [][]map[string]string{{{"subnet": subnet}}},
		},
	}}
	return map[string]any{"cniVersion": "1.1.0", "name": name, "plugins": append(plugins, more...)}
}

func portmapPlugin() map[string]any {
	return map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}}
}

func tuningPlugin(mtu int) map[string]any {
	return map[string]any{"type": "tuning", "mtu": mtu}
}

func bandwidthPlugin() map[string]any {
	return map[string]any{"type": "bandwidth", "capabilities": map[string]bool{"bandwidth": true}}
}

// writeConf writes a configuration file into the conf dir.
func (w *world) writeConf(file string, v any) string {
	w.tb.Helper()
	return testutil.WriteJSON(w.tb, w.confDir, file, v)
}

// cacheFiles lists libcni's result cache.
func (w *world) cacheFiles() []string {
	w.tb.Helper()
	entries, err := os.ReadDir(filepath.Join(w.cacheDir, "results"))
	if err != nil && !os.IsNotExist(err) {
		w.tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// reservations returns host-local's reservations of network netName in
// dataDir: address → "containerID\r\nifname". The lock file and the
// last-reserved markers are not reservations.
func reservations(tb testing.TB, dataDir, netName string) map[string]string {
	tb.Helper()
	dir := filepath.Join(dataDir, netName)
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if name == "lock" || strings.HasPrefix(name, "last_reserved_ip.") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		out[name] = string(data)
	}
	return out
}

// lockedBuffer is a log sink safe for the library's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// assertClean checks that nothing of the world's pods is left: no port on
// the bridge, no host-local reservation of the named networks, no cache
// file.
func assertClean(tb testing.TB, w *world, netNames ...string) {
	tb.Helper()
	if ports := bridgePorts(tb, w.bridge); len(ports) != 0 {
		tb.Fatalf("veths left on %s: %v", w.bridge, ports)
	}
	for _, n := range netNames {
		if r := reservations(tb, w.dataDir, n); len(r) != 0 {
			tb.Fatalf("host-local reservations left for %s: %v", n, r)
		}
	}
	if c := w.cacheFiles(); len(c) != 0 {
		tb.Fatalf("cache files left: %v", c)
	}
}
