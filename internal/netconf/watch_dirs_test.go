package netconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/types"
)

func TestWatchConfDirMissingAtStart(t *testing.T) {
	e := newEnv(t)
	confDir := filepath.Join(t.TempDir(), "etc", "cni", "net.d")
	p := e.watched(WithConfDir(confDir))
	if err := p.Status(); !errors.Is(err, types.ErrNotReady) || !strings.Contains(err.Error(), confDir) {
		t.Fatalf("Status with a missing conf dir = %v, want types.ErrNotReady naming %s", err, confDir)
	}
	mkdir(t, confDir)
	writeFile(t, filepath.Join(confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	waitDefault(t, p, "a")
	// Files written after the directory appeared are seen as well, so the
	// directory itself is watched now, not only its parent.
	writeFile(t, filepath.Join(confDir, "05-b.conflist"), confBytes("b", "1.0.0"))
	waitDefault(t, p, "b")
}

func TestWatchConfDirDeletedAndRecreated(t *testing.T) {
	e := newEnv(t)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	p := e.watched()
	waitDefault(t, p, "a")
	for i := 0; i < 3; i++ {
		if err := os.RemoveAll(e.confDir); err != nil {
			t.Fatal(err)
		}
		waitDefault(t, p, "")
		mkdir(t, e.confDir)
		want := fmt.Sprintf("net%d", i)
		writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes(want, "1.0.0"))
		waitDefault(t, p, want)
	}

	// Replaced by rename: the old directory moves away, a prepared one
	// takes its place.
	prepared := e.confDir + ".new"
	mkdir(t, prepared)
	writeFile(t, filepath.Join(prepared, "10-a.conflist"), confBytes("renamed", "1.0.0"))
	rename(t, e.confDir, e.confDir+".old")
	rename(t, prepared, e.confDir)
	waitDefault(t, p, "renamed")
	writeFile(t, filepath.Join(e.confDir, "05-b.conflist"), confBytes("after", "1.0.0"))
	waitDefault(t, p, "after")
}

func TestNoDirectoriesCreated(t *testing.T) {
	const missingBin = "/nonexistent"
	if _, err := os.Lstat(missingBin); err == nil {
		t.Skipf("skipped: %s exists on this machine", missingBin)
	}
	e := newEnv(t)
	confDir := filepath.Join(t.TempDir(), "net.d")
	binDir := filepath.Join(t.TempDir(), "opt", "cni", "bin")
	for _, watch := range []bool{true, false} {
		p := e.plugin(WithConfDir(confDir), WithBinDirs(missingBin, binDir), WithWatch(watch))
		if err := p.Status(); !errors.Is(err, types.ErrNotReady) {
			t.Fatalf("Status = %v, want types.ErrNotReady", err)
		}
		_ = p.Networks()
		_ = p.Shutdown()
	}
	for _, d := range []string{missingBin, confDir, binDir, filepath.Dir(binDir)} {
		if _, err := os.Lstat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after the plugin ran (err %v); the library must not create directories", d, err)
		}
	}
}

func TestPluginInstalledAfterConfig(t *testing.T) {
	for _, how := range []string{"copy", "symlink"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			bin := t.TempDir()
			path := filepath.Join(e.confDir, "10-a.conflist")
			writeFile(t, path, confBytes("a", "1.0.0"))
			p := e.watched(WithBinDirs(bin))
			waitSkipped(t, p, path, `plugin "noop" is missing`)
			if how == "copy" {
				testutil.CopyPlugin(t, "noop", bin)
			} else {
				symlink(t, filepath.Join(testutil.PluginDir(t), "noop"), filepath.Join(bin, "noop"))
			}
			waitDefault(t, p, "a")
			if err := p.Status(); err != nil {
				t.Fatalf("Status after installing the plugin = %v", err)
			}
		})
	}
}

func TestWatchSymlinkedBinDirRepointed(t *testing.T) {
	e := newEnv(t)
	root := t.TempDir()
	v1, v2 := filepath.Join(root, "bin-v1"), filepath.Join(root, "bin-v2")
	mkdir(t, v1)
	mkdir(t, v2)
	testutil.CopyPlugin(t, "noop", v2)
	bin := filepath.Join(root, "bin")
	symlink(t, "bin-v1", bin)
	writeFile(t, filepath.Join(e.confDir, "10-a.conflist"), confBytes("a", "1.0.0"))
	p := e.watched(WithBinDirs(bin))
	waitDefault(t, p, "")

	// An upgrade flips the link to the new release's directory.
	symlink(t, "bin-v2", bin+".tmp")
	rename(t, bin+".tmp", bin)
	waitDefault(t, p, "a")
}
