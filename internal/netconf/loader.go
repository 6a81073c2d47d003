package netconf

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/types"
	"github.com/sirupsen/logrus"
)

// loader turns the conf dir into a Set. Loads are serialized by the
// caller (Source.reloadSlot); the loader itself keeps only the cache.
type loader struct {
	confDir     string
	binDirs     []string
	wantDefault string
	exec        invoke.Exec
	cache       *validCache
	log         logrus.FieldLogger

	// bins holds, for the load in progress, what each plugin type's binary
	// turned out to be. Hundreds of files name the same few plugins: each
	// binary is looked up and stamped once per load, not once per file,
	// and a binary that times out on VERSION holds the load up once.
	bins map[string]binaryCheck
}

// binaryCheck is one plugin type's binary as a load found it.
type binaryCheck struct {
	stamp     fileStamp
	supported []string
	err       error
}

// load reads and validates every configuration file. It never fails as a
// whole: unreadable or invalid files are recorded as skipped with a reason,
// except that a file which is now empty or does not parse, but changed
// within settleWindow, keeps what prev made of it until it settles (see
// keepSettling). prev is the snapshot in force, nil on the first load.
func (l *loader) load(ctx context.Context, prev *Set) *Set {
	l.cache.beginLoad()
	defer l.cache.endLoad()
	l.bins = map[string]binaryCheck{}
	defer func() { l.bins = nil }()

	set := &Set{
		byName:      map[string]*Network{},
		skippedNets: map[string]error{},
		ConfDir:     l.confDir,
		BinDirs:     l.binDirs,
		WantDefault: l.wantDefault,
		changed:     make(chan struct{}),
	}
	entries, err := os.ReadDir(l.confDir)
	if err != nil {
		set.DirErr = err
	}
	sig := sha256.New()
	var writing []pendingFile
	for _, e := range entries {
		if !slices.Contains(confExtensions, filepath.Ext(e.Name())) {
			continue
		}
		path := filepath.Join(l.confDir, e.Name())
		n, hash, err := l.loadFile(ctx, path)
		if err != nil {
			// The time is taken per file, not once per load: a load held
			// up by a slow VERSION exec must not take a file truncated
			// meanwhile for one that changed in the future.
			now := time.Now()
			if kept, until, ok := keepSettling(prev, path, err, now); ok {
				if until.After(set.settleAt) {
					set.settleAt = until
				}
				if kept == nil {
					continue
				}
				n, hash, err = kept, kept.key, nil
			} else if until, ok := settling(path, err, now); ok {
				writing = append(writing, pendingFile{path, until})
			}
		}
		fmt.Fprintf(sig, "%s\x00%x\x00", path, hash)
		if err == nil {
			if prev, dup := set.byName[n.Name]; dup {
				err = fmt.Errorf("network name %q is already defined by %s", n.Name, prev.File)
			}
		}
		if err != nil {
			fmt.Fprintf(sig, "skip\x00%s\x00", err)
			set.Skipped = append(set.Skipped, types.SkippedFile{File: path, Reason: err.Error()})
			if n != nil && set.skippedNets[n.Name] == nil {
				set.skippedNets[n.Name] = fmt.Errorf("%s was skipped: %w", path, err)
			}
			continue
		}
		fmt.Fprintf(sig, "ok\x00%s\x00", n.List.CNIVersion)
		set.byName[n.Name] = n
		set.Ordered = append(set.Ordered, n)
	}
	switch {
	case l.wantDefault != "":
		set.Default = set.byName[l.wantDefault]
	case len(set.Ordered) > 0:
		set.Default = set.Ordered[0]
	}
	set.pending = pendingAhead(writing, set)
	if set.Default != nil {
		fmt.Fprintf(sig, "default\x00%s", set.Default.Name)
	}
	if set.DirErr != nil {
		fmt.Fprintf(sig, "direrr\x00%s", set.DirErr)
	}
	set.signature = string(sig.Sum(nil))
	return set
}

// loadFile loads one file. The returned hash covers what the file said,
// valid or not, so the set's signature changes whenever any file does.
// When the file parses but its plugins fail validation, the network comes
// back together with the error.
func (l *loader) loadFile(ctx context.Context, path string) (*Network, [sha256.Size]byte, error) {
	var zero [sha256.Size]byte
	data, err := readConf(path)
	if err != nil {
		return nil, zero, err
	}
	h := sha256.New()
	h.Write([]byte(filepath.Ext(path)))
	h.Write([]byte{0})
	h.Write(data)
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))

	list, err := l.cache.parse(key, func() (*libcni.NetworkConfigList, error) {
		return parseConf(path, data)
	})
	if err != nil {
		return nil, key, parseFailure{err}
	}
	// From here on a failure still returns n, so a setup that names the
	// network can be told why it was skipped.
	n := &Network{Name: list.Name, File: path, List: list}
	for _, p := range list.Plugins {
		n.Types = append(n.Types, p.Network.Type)
	}
	// The binaries' stamps go into the hash too: a plugin installed or
	// replaced changes the set even if no configuration file did.
	for _, t := range n.Types {
		st, err := l.validatePlugin(ctx, t, list.CNIVersion)
		fmt.Fprintf(h, "%v", st)
		if err != nil {
			copy(key[:], h.Sum(nil))
			return n, key, err
		}
	}
	copy(key[:], h.Sum(nil))
	n.key = key
	return n, key, nil
}

// validatePlugin checks that a plugin binary exists and supports version.
func (l *loader) validatePlugin(ctx context.Context, pluginType, cniVersion string) (fileStamp, error) {
	b, ok := l.bins[pluginType]
	if !ok {
		b = l.checkBinary(ctx, pluginType)
		l.bins[pluginType] = b
	}
	if b.err != nil {
		return b.stamp, b.err
	}
	if !slices.Contains(b.supported, cniVersion) {
		return b.stamp, fmt.Errorf("plugin %q does not support cniVersion %s (it supports %s)", pluginType, cniVersion, strings.Join(b.supported, ", "))
	}
	return b.stamp, nil
}

// checkBinary finds a plugin type's binary and learns which versions it
// supports. The VERSION exec happens only for a binary stamp not seen
// before.
func (l *loader) checkBinary(ctx context.Context, pluginType string) binaryCheck {
	path, fi, err := pluginexec.Find(pluginType, l.binDirs)
	if err != nil {
		return binaryCheck{stamp: fileStamp{path: pluginType}, err: err}
	}
	st := stampOf(path, fi)
	supported, err := l.cache.version(st, func() ([]string, error) {
		// The runner bounds VERSION by its own timeout, short by default,
		// so a plugin that never answers does not hold a reload for long.
		info, err := invoke.GetVersionInfo(ctx, path, l.exec)
		if err != nil {
			return nil, err
		}
		return info.SupportedVersions(), nil
	})
	if err != nil {
		return binaryCheck{stamp: st, err: fmt.Errorf("plugin %q did not answer VERSION: %w", pluginType, err)}
	}
	return binaryCheck{stamp: st, supported: supported}
}
