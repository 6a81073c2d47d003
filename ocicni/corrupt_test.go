package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
)

// corruptions are what a crash or power loss can leave of a libcni cache
// file, which libcni writes without fsync or rename.
var corruptions = []struct {
	name string
	data string
}{
	{"empty", ""},
	{"truncated", `{"kind":"cniCacheV1","containerId":"sb1","config":"eyJjbmlWZXJza`},
	{"zeroes", "\x00\x00\x00\x00\x00\x00\x00\x00"},
	{"wrong kind", `{"kind":"somethingElse","containerId":"sb1","ifName":"eth0","networkName":"net1"}`},
	{"no config", `{"kind":"cniCacheV1","containerId":"sb1","ifName":"eth0","networkName":"net1"}`},
	{"config not a list", `{"kind":"cniCacheV1","containerId":"sb1","ifName":"eth0","networkName":"net1","config":"bm90IGpzb24="}`},
}

const fallbackMsg = "cached configuration unusable; falling back to the current configuration"

// corruptPod sets up pod sb1 on net1 (noop), then overwrites its cache file
// with data, and returns the plugin, the pod and noop's command log.
func corruptPod(t *testing.T, data string) (*env, *Plugin, PodNetwork, string) {
	t.Helper()
	e := newFaultEnv(t)
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")}))
	p := e.plugin()
	pod := webPod(t, "sb1")
	setUp(t, p, pod)
	file := filepath.Join(e.cache, "results", "net1-sb1-eth0")
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, p, pod, logs[0]
}

// Teardown of a pod whose cache file is empty or corrupt still DELs it,
// with the current configuration, says so in the log, and leaves no cache
// file behind.
func TestCorruptCacheTeardown(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			e, p, pod, log := corruptPod(t, c.data)
			if err := p.TearDownPod(PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
				t.Fatalf("teardown: %v", err)
			}
			expectFallbackDEL(t, e, log)
		})
	}
}

// GC of a pod whose cache file is empty or corrupt still DELs it with the
// current configuration, logs it, and clears the cache; a corrupt entry of
// a pod that is still valid is left alone.
func TestCorruptCacheGC(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			e, p, pod, log := corruptPod(t, c.data)
			if err := p.GC(context.Background(), []*PodNetwork{&pod}); err != nil {
				t.Fatalf("GC keeping the pod: %v", err)
			}
			if got := commands(t, log); !reflect.DeepEqual(got, []string{"ADD"}) {
				t.Fatalf("GC touched a valid pod: plugin calls = %v", got)
			}
			if err := p.GC(context.Background(), nil); err != nil {
				t.Fatalf("GC: %v", err)
			}
			expectFallbackDEL(t, e, log)
		})
	}
}

// expectFallbackDEL checks that net1's plugin got its DEL after the ADD,
// that the fallback to the current configuration was logged, and that no
// cache file is left.
func expectFallbackDEL(t *testing.T, e *env, log string) {
	t.Helper()
	if got := commands(t, log); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("plugin calls = %v, want the DEL", got)
	}
	if !e.hasLogWith(fallbackMsg, "network", "net1") {
		t.Fatal("fallback to the current configuration not logged")
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache = %v", got)
	}
}
