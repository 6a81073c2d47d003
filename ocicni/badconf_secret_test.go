package ocicni

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file in the conf dir symlinked to a secret must not leak the secret
// into a skip reason, which reaches Networks(), Status() errors and logs:
// reasons say where (line, column) and which field, never what the file
// holds.
func TestBadConfSymlinkedSecretNotLeaked(t *testing.T) {
	const secret = "hunter2-s3cr3t"
	secrets := t.TempDir()
	files := map[string]string{
		// Not JSON at all: the syntax error would quote a character.
		"10-shadow.conf": "h" + secret + ":$y$j9T$abc:19000:0:99999:7:::\n",
		// JSON a libcni error would quote a value of.
		"20-flag.conflist":     `{"cniVersion":"1.0.0","name":"n","disableCheck":"` + secret + `","plugins":[{"type":"faulty"}]}`,
		"30-version.conflist":  `{"cniVersion":"` + secret + `","name":"n","plugins":[{"type":"faulty"}]}`,
		"40-versions.conflist": `{"cniVersion":"1.0.0","cniVersions":["1.0.0","` + secret + `"],"name":"n","plugins":[{"type":"faulty"}]}`,
		"50-type.conf":         `{"cniVersion":"1.0.0","name":"n","type":"/` + secret + `"}`,
		"60-name.conflist":     `{"cniVersion":"1.0.0","name":"` + secret + `/x","plugins":[{"type":"faulty"}]}`,
	}
	e := newFaultEnv(t)
	for name, body := range files {
		target := filepath.Join(secrets, name)
		if err := os.WriteFile(target, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(e.confDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	p := e.plugin()
	ns := p.Networks()
	if len(ns.Skipped) != len(files) {
		t.Fatalf("skipped %+v, want all %d files", ns.Skipped, len(files))
	}
	want := map[string]string{
		"10-shadow.conf":       "line 1, column 1",
		"20-flag.conflist":     `"disableCheck"`,
		"30-version.conflist":  `"cniVersion"`,
		"40-versions.conflist": `"cniVersions" entry 1`,
		"50-type.conf":         `"type" is a path`,
		"60-name.conflist":     `"name"`,
	}
	for _, s := range ns.Skipped {
		base := filepath.Base(s.File)
		if strings.Contains(s.Reason, secret) || strings.Contains(s.Reason, "'h'") {
			t.Errorf("%s: reason %q leaks the file's content", base, s.Reason)
		}
		if !strings.Contains(s.Reason, want[base]) {
			t.Errorf("%s: reason %q does not say %s", base, s.Reason, want[base])
		}
	}
	err := p.Status()
	if !errors.Is(err, ErrNotReady) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "'h'") {
		t.Errorf("Status() = %v; want not ready, without the secret", err)
	}
	for _, en := range e.logs.AllEntries() {
		line, _ := en.String()
		if strings.Contains(line, secret) {
			t.Errorf("log leaks the secret: %s", line)
		}
	}
}
