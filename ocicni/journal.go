package ocicni

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
)

// pendingDelKey marks a cache entry written by the library, not libcni: the
// write-ahead record of an attachment whose ADD has started but is not
// known to have succeeded. Every ADD, even a failed one, owes a DEL (CNI
// spec), and libcni writes its entry only after a successful ADD, so
// without the record a process killed mid-ADD, or a rollback DEL that
// failed, would leak the attachment for good. No plugin declares the key,
// so libcni never sends it to one.
const pendingDelKey = "io.github.netplumb.ocicni/pending-del"

// recordIntent durably writes, before a's ADD starts, everything its DEL
// needs: network name, configuration bytes, ifname, CNI_ARGS, capability
// arguments (the attach order among them) and netns path, at the path
// libcni will write its result to. The file is libcni's own format with an
// empty result, so libcni, cri-o/ocicni and older versions of this library
// all read it as an attachment and DEL it. libcni's entry replaces it when
// the ADD succeeds; after a failed ADD it goes only when a DEL succeeds.
func (p *Plugin) recordIntent(a *attachment) error {
	return p.writeRecord(a, false)
}

// recordOwed makes sure a later teardown or GC retries the DEL of a after
// a DEL failed: libcni drops an entry whose cached result it cannot read
// before it runs the DEL, so the record may be gone even though the DEL
// is still owed. An existing entry is left as it is.
func (p *Plugin) recordOwed(a *attachment) error {
	return p.writeRecord(a, true)
}

func (p *Plugin) writeRecord(a *attachment, keepExisting bool) error {
	path := p.cachePath(a.name, a.rt.ContainerID, a.ifname)
	if keepExisting {
		if _, err := os.Lstat(path); err == nil {
			return nil
		}
	}
	caps := make(map[string]any, len(a.rt.CapabilityArgs)+1)
	for k, v := range a.rt.CapabilityArgs {
		caps[k] = v
	}
	caps[pendingDelKey] = true
	data, err := json.Marshal(struct {
		cachedInfo
		Result map[string]any `json:"result"`
	}{
		cachedInfo: cachedInfo{
			Kind: libcni.CNICacheV1, ContainerID: a.rt.ContainerID, Config: a.list.Bytes,
			IfName: a.ifname, NetworkName: a.name, NetNS: a.rt.NetNS, CniArgs: a.rt.Args, CapabilityArgs: caps,
		},
		// An empty result of the configuration's version: libcni hands it
		// to the DEL as prevResult, and drops an entry whose result it
		// cannot decode.
		Result: map[string]any{"cniVersion": a.list.CNIVersion},
	})
	if err != nil {
		return err
	}
	if err := p.writeDurably(path, data); err != nil {
		return fmt.Errorf("recording attachment %s: %w", filepath.Base(path), err)
	}
	p.index.add(a.rt.ContainerID, filepath.Base(path))
	return nil
}

// writeDurably replaces path with data so that a crash at any instant
// leaves either the old file or the whole new one: a temporary file (0600,
// created exclusively, so never through a planted symlink) is written and
// synced, renamed over path (rename replaces a symlink rather than
// following it), and the directory is synced so the rename survives a
// power cut.
func (p *Plugin) writeDurably(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := p.ensureResultsDir(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, fmt.Sprintf("%s%d-*", tempPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempPrefix starts the names of writeDurably's temporary files, followed
// by the writer's PID.
const tempPrefix = ".ocicni-"

// sweepTemps removes the temporary files of records whose writer died
// between creating and renaming them: those of another process (only one
// runtime uses a cache dir at a time), and this process's own once they are
// a minute old, far longer than a write takes.
func (p *Plugin) sweepTemps() {
	dir := p.resultsDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	own := fmt.Sprintf("%s%d-", tempPrefix, os.Getpid())
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, tempPrefix) {
			continue
		}
		if strings.HasPrefix(name, own) {
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Minute {
				continue
			}
		}
		if err := os.Remove(filepath.Join(dir, name)); err == nil {
			p.log.WithField("file", name).Info("removed a half-written attachment record left by a process that died")
		}
	}
}

// errCacheDirSymlink refuses a results directory that is a symlink: the
// records would land wherever it points.
var errCacheDirSymlink = errors.New("is a symlink; refusing to write attachment records through it")

// ensureResultsDir creates the results directory 0700 (libcni's mode) when
// missing and refuses one that is a symlink or not a directory.
func (p *Plugin) ensureResultsDir() error {
	dir := p.resultsDir()
	fi, err := os.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		fi, err = os.Lstat(dir)
	}
	switch {
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("CNI cache directory %s %w", dir, errCacheDirSymlink)
	case !fi.IsDir():
		return fmt.Errorf("CNI cache directory %s is not a directory", dir)
	}
	return nil
}
