package netconf

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
)

// FuzzLoadConf feeds arbitrary bytes, under each configuration extension,
// through the loader beside one valid file. Seeds: testdata/fuzz/FuzzLoadConf.
// It checks that every file is either loaded or skipped with a reason, that
// the valid neighbour always loads (unless the fuzzed file claims its name
// first), and that whatever loads is a usable network.
func FuzzLoadConf(f *testing.F) {
	binDir := testutil.LinkPlugins(f, "faulty")
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	// One validation cache for all inputs: the faulty binary answers
	// VERSION once, and every later input costs no exec.
	cache := newValidCache()
	exec := pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: quiet})
	f.Add([]byte(`{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"faulty"}]}`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		dir := t.TempDir()
		fuzzFile := filepath.Join(dir, "50-fuzz"+confExtensions[int(sel)%len(confExtensions)])
		if err := os.WriteFile(fuzzFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		goodFile := testutil.WriteJSON(t, dir, "99-good.conflist", `{"cniVersion":"1.0.0","name":"good","plugins":[{"type":"faulty"}]}`)
		l := &loader{confDir: dir, binDirs: []string{binDir}, exec: exec, cache: cache, log: quiet}
		set := l.load(context.Background(), nil)

		if n := len(set.Ordered) + len(set.Skipped); n != 2 {
			t.Fatalf("%d files loaded or skipped, want 2", n)
		}
		for _, s := range set.Skipped {
			if strings.TrimSpace(s.Reason) == "" {
				t.Fatalf("%s skipped without a reason", s.File)
			}
		}
		if set.Default == nil {
			t.Fatal("no default network although a valid file is present")
		}
		var fuzzed *Network
		for _, n := range set.Ordered {
			if n.File == fuzzFile {
				fuzzed = n
			}
		}
		if good := set.byName["good"]; good == nil || (good.File != goodFile && good != fuzzed) {
			t.Fatalf("the valid neighbour did not load: %+v", set.Skipped)
		}
		_, parseErr := parseConf(fuzzFile, data)
		if fuzzed == nil {
			return
		}
		if parseErr != nil {
			t.Fatalf("loaded although parseConf refuses it: %v", parseErr)
		}
		checkLoadedNetwork(t, fuzzed, data)
	})
}

func checkLoadedNetwork(t *testing.T, n *Network, data []byte) {
	t.Helper()
	if len(data) > maxConfSize || !utf8.Valid(data) {
		t.Fatalf("loaded a file of %d bytes, valid UTF-8 %v", len(data), utf8.Valid(data))
	}
	if err := utils.ValidateNetworkName(n.Name); err != nil || n.Name != n.List.Name {
		t.Fatalf("loaded network with name %q: %v", n.Name, err)
	}
	if !slices.Contains(version.All.SupportedVersions(), n.List.CNIVersion) {
		t.Fatalf("loaded network with cniVersion %q", n.List.CNIVersion)
	}
	if len(n.List.Plugins) == 0 || len(n.Types) != len(n.List.Plugins) {
		t.Fatalf("loaded network with %d plugins, %d types", len(n.List.Plugins), len(n.Types))
	}
	for _, typ := range n.Types {
		if typ != "faulty" {
			t.Fatalf("loaded a network whose plugin %q is not installed", typ)
		}
	}
	if _, err := libcni.ConfListFromBytes(n.List.Bytes); err != nil {
		t.Fatalf("loaded network's bytes do not parse again: %v", err)
	}
}
