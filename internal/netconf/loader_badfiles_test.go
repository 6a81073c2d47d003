package netconf

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// badConf is one bad file in the conf dir and what its skip reason must say.
type badConf struct {
	file   string
	make   func(t *testing.T, path string)
	reason []string
}

func content(s string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const goodList = `{"cniVersion":"1.0.0","name":"%s","plugins":[{"type":"faulty"}]}`

func badConfs() []badConf {
	valid := `{"cniVersion":"1.0.0","name":"truncated","plugins":[{"type":"faulty"}]}`
	return []badConf{
		{"10-malformed.conflist", content(`{"cniVersion":"1.0.0","name":"m",,}`), []string{"not a JSON object"}},
		{"11-truncated.conflist", content(valid[:len(valid)/2]), []string{"not a JSON object"}},
		{"12-empty.conf", content(""), []string{"is empty"}},
		{"13-blank.conf", content(" \n\t\n"), []string{"is empty"}},
		{"14-array.json", content(`[1,2,3]`), []string{"not a JSON object"}},
		{"15-noname.conflist", content(`{"cniVersion":"1.0.0","plugins":[{"type":"faulty"}]}`), []string{"no name"}},
		{"16-badname.conflist", content(`{"cniVersion":"1.0.0","name":"a/b","plugins":[{"type":"faulty"}]}`), []string{"invalid name"}},
		{"17-notype.conf", content(`{"cniVersion":"1.0.0","name":"nt"}`), []string{`neither "plugins" nor "type"`}},
		{"18-plugin-notype.conflist", content(`{"cniVersion":"1.0.0","name":"pnt","plugins":[{"mtu":1400}]}`), []string{"missing 'type'"}},
		{"19-noplugins.conflist", content(`{"cniVersion":"1.0.0","name":"np"}`), []string{"no plugins"}},
		{"20-emptyplugins.conflist", content(`{"cniVersion":"1.0.0","name":"ep","plugins":[]}`), []string{"no plugins"}},
		{"21-noversion.conflist", content(`{"name":"nv","plugins":[{"type":"faulty"}]}`), []string{`no "cniVersion"`}},
		{"22-futureversion.conflist", content(`{"cniVersion":"9.9.9","name":"fv","plugins":[{"type":"faulty"}]}`), []string{`"9.9.9"`, "does not support"}},
		{"23-garbageversion.conflist", content(`{"cniVersion":"banana","name":"gv","plugins":[{"type":"faulty"}]}`), []string{"unparsable", `"cniVersion"`}},
		{"24-pluginversion.conflist", content(`{"cniVersion":"0.2.0","name":"pv","plugins":[{"type":"faulty"}]}`), []string{`plugin "faulty" does not support cniVersion 0.2.0`}},
		{"25-relativetype.conflist", content(`{"cniVersion":"1.0.0","name":"rt","plugins":[{"type":"../faulty"}]}`), []string{`"type" is a path`}},
		{"26-absolutetype.conf", content(`{"cniVersion":"1.0.0","name":"at","type":"/bin/sh"}`), []string{`"type" is a path`}},
		{"27-huge.conf", func(t *testing.T, path string) {
			// A sparse 4 GiB file: reading it whole would take minutes
			// and gigabytes, so the test only finishes if the size
			// check comes first.
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(4 << 30); err != nil {
				t.Fatal(err)
			}
		}, []string{"4294967296 bytes", "over the 1048576-byte limit"}},
		{"28-justover.conflist", content(`{"cniVersion":"1.0.0","name":"jo","plugins":[{"type":"faulty"}]}` + strings.Repeat(" ", 1<<20)), []string{"over the 1048576-byte limit"}},
		{"29-fifo.conf", func(t *testing.T, path string) {
			// Opening a FIFO for reading blocks until a writer comes:
			// the loader must neither block nor read it.
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"not a regular file"}},
		{"30-dangling.conf", symlinkTo("/nonexistent/net.conf"), []string{"cannot open", "no such file"}},
		{"31-unreadable.conf", symlinkTo("/proc/self/mem"), []string{"cannot read", "input/output error"}},
		{"32-dir.conf", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"is a directory"}},
		{"33-loop.conf", func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(path), "34-loop.conf")
			symlinkTo(other)(t, path)
			symlinkTo(path)(t, other)
		}, []string{"cannot open", "too many levels of symbolic links"}},
		{"34-loop.conf", nil, []string{"cannot open", "too many levels of symbolic links"}},
		{"35-latin1.conflist", content("{\"cniVersion\":\"1.0.0\",\"name\":\"caf\xe9\",\"plugins\":[{\"type\":\"faulty\"}]}"), []string{"not valid UTF-8"}},
		{"36-duplicate.conflist", content(strings.ReplaceAll(goodList, "%s", "good")), []string{`network name "good" is already defined by`, "00-good.conflist"}},
	}
}

func symlinkTo(target string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
}

// Every kind of bad configuration file is skipped with a reason that says
// what is wrong, while valid files around it, before and after, still load
// and the first valid one stays the default.
func TestBadConfSkippedWithReason(t *testing.T) {
	e := newFaultEnv(t)
	testutil.WriteJSON(t, e.confDir, "00-good.conflist", strings.ReplaceAll(goodList, "%s", "good"))
	testutil.WriteJSON(t, e.confDir, "99-also-good.conflist", strings.ReplaceAll(goodList, "%s", "also-good"))
	cases := badConfs()
	for _, c := range cases {
		if c.make != nil {
			c.make(t, filepath.Join(e.confDir, c.file))
		}
	}
	p := e.plugin()
	ns := p.Networks()

	if ns.Default != "good" || len(ns.Networks) != 2 || ns.Networks[1].Name != "also-good" {
		t.Fatalf("loaded networks = %+v, default %q; want good and also-good", ns.Networks, ns.Default)
	}
	reasons := map[string]string{}
	for _, s := range ns.Skipped {
		reasons[filepath.Base(s.File)] = s.Reason
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, ok := reasons[c.file]
			if !ok {
				t.Fatalf("not skipped")
			}
			for _, want := range c.reason {
				if !strings.Contains(r, want) {
					t.Errorf("reason %q does not say %q", r, want)
				}
			}
		})
	}
	if len(ns.Skipped) != len(cases) {
		t.Fatalf("%d files skipped, want %d: %+v", len(ns.Skipped), len(cases), ns.Skipped)
	}
	for _, s := range ns.Skipped {
		if !e.hasLogWith("skipping CNI configuration file", "file", s.File) {
			t.Errorf("skip of %s not logged", s.File)
		}
	}
}

// Without root, a file with no read permission is skipped with the reason.
// As root (the usual way these tests run) permissions do not stop a read,
// so the unreadable case is covered by 31-unreadable.conf above instead.
func TestBadConfPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("skipped: root reads files whatever their mode; see 31-unreadable.conf in TestBadConfSkippedWithReason")
	}
	e := newFaultEnv(t)
	testutil.WriteJSON(t, e.confDir, "00-good.conflist", strings.ReplaceAll(goodList, "%s", "good"))
	path := testutil.WriteJSON(t, e.confDir, "10-secret.conflist", strings.ReplaceAll(goodList, "%s", "secret"))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	ns := e.plugin().Networks()
	if ns.Default != "good" || len(ns.Skipped) != 1 || !strings.Contains(ns.Skipped[0].Reason, "permission denied") {
		t.Fatalf("networks = %+v", ns)
	}
}
