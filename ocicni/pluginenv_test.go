package ocicni

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// envDumpPlugin installs the plugin type "envdump", a shell script that
// answers VERSION and, on ADD, writes its environment to dump (one
// KEY=value a line) and returns an empty result. It returns dump.
func (e *env) envDumpPlugin() string {
	e.t.Helper()
	dump := filepath.Join(e.t.TempDir(), "env")
	script := fmt.Sprintf(`#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
ADD) env > %q; echo '{"cniVersion":"1.0.0"}' ;;
esac
`, dump)
	if err := os.WriteFile(filepath.Join(e.binDir, "envdump"), []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return dump
}

// pluginEnv sets a pod up on a network of the envdump plugin, built with
// opts, and returns the environment the plugin's ADD saw, by key.
func pluginEnv(t *testing.T, opts ...Option) map[string]string {
	t.Helper()
	e := newEnv(t)
	dump := e.envDumpPlugin()
	e.writeList("10-n.conflist", "n", "1.0.0", nil, map[string]any{"type": "envdump"})
	p := e.plugin(append([]Option{WithWatch(false)}, opts...)...)
	setUp(t, p, PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	data, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// By default a plugin gets the runtime's whole environment, as libcni
// passes it on; WithPluginEnvironment cuts it down to PATH, the CNI_*
// variables and the keys named. (The option is new with the restructure;
// before it there was no way to keep a runtime's secrets from plugins.)
func TestWithPluginEnvironmentLimitsWhatPluginsSee(t *testing.T) {
	t.Setenv("OCICNI_SECRET", "x")
	t.Setenv("KEEP_ME", "y")

	all := pluginEnv(t)
	if all["OCICNI_SECRET"] != "x" || all["KEEP_ME"] != "y" {
		t.Fatalf("by default the plugin saw OCICNI_SECRET=%q KEEP_ME=%q, want the runtime's values", all["OCICNI_SECRET"], all["KEEP_ME"])
	}

	kept := pluginEnv(t, WithPluginEnvironment("KEEP_ME"))
	if v, ok := kept["OCICNI_SECRET"]; ok {
		t.Fatalf("with WithPluginEnvironment(\"KEEP_ME\") the plugin saw OCICNI_SECRET=%q", v)
	}
	want := map[string]string{"KEEP_ME": "y", "PATH": os.Getenv("PATH"), "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0"}
	for k, v := range want {
		if kept[k] != v {
			t.Errorf("with WithPluginEnvironment(\"KEEP_ME\") the plugin saw %s=%q, want %q", k, kept[k], v)
		}
	}
	for _, k := range []string{"CNI_NETNS", "CNI_PATH"} {
		if kept[k] == "" {
			t.Errorf("with WithPluginEnvironment(\"KEEP_ME\") the plugin did not get %s", k)
		}
	}
}
