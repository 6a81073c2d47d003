package ocicni

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"
)

// maxConfSize caps a configuration file. A larger file is refused without
// being read whole, so a stray log file in the conf dir cannot eat memory.
const maxConfSize = 1 << 20

// versionTimeout bounds one VERSION exec during a reload.
const versionTimeout = 10 * time.Second

var confExtensions = []string{".conf", ".conflist", ".json"}

// loader turns the conf dir into a netSet. Loads are serialized by the
// caller (Plugin.reloadSlot); the loader itself keeps only the cache.
type loader struct {
	confDir     string
	binDirs     []string
	wantDefault string
	exec        *pluginExec
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
// whole: unreadable or invalid files are recorded as skipped with a reason.
func (l *loader) load(ctx context.Context) *netSet {
	l.cache.beginLoad()
	defer l.cache.endLoad()
	l.bins = map[string]binaryCheck{}
	defer func() { l.bins = nil }()

	set := &netSet{
		byName:      map[string]*network{},
		skippedNets: map[string]error{},
		confDir:     l.confDir,
		binDirs:     l.binDirs,
		wantDefault: l.wantDefault,
		changed:     make(chan struct{}),
	}
	entries, err := os.ReadDir(l.confDir)
	if err != nil {
		set.dirErr = err
	}
	sig := sha256.New()
	for _, e := range entries {
		if !slices.Contains(confExtensions, filepath.Ext(e.Name())) {
			continue
		}
		path := filepath.Join(l.confDir, e.Name())
		n, hash, err := l.loadFile(ctx, path)
		fmt.Fprintf(sig, "%s\x00%x\x00", path, hash)
		if err == nil {
			if prev, dup := set.byName[n.name]; dup {
				err = fmt.Errorf("network name %q is already defined by %s", n.name, prev.file)
			}
		}
		if err != nil {
			fmt.Fprintf(sig, "skip\x00%s\x00", err)
			set.skipped = append(set.skipped, SkippedFile{File: path, Reason: err.Error()})
			if n != nil && set.skippedNets[n.name] == nil {
				set.skippedNets[n.name] = fmt.Errorf("%s was skipped: %w", path, err)
			}
			continue
		}
		fmt.Fprintf(sig, "ok\x00%s\x00", n.list.CNIVersion)
		set.byName[n.name] = n
		set.ordered = append(set.ordered, n)
	}
	switch {
	case l.wantDefault != "":
		set.def = set.byName[l.wantDefault]
	case len(set.ordered) > 0:
		set.def = set.ordered[0]
	}
	if set.def != nil {
		fmt.Fprintf(sig, "default\x00%s", set.def.name)
	}
	if set.dirErr != nil {
		fmt.Fprintf(sig, "direrr\x00%s", set.dirErr)
	}
	set.signature = string(sig.Sum(nil))
	return set
}

// loadFile loads one file. The returned hash covers what the file said,
// valid or not, so the set's signature changes whenever any file does.
// When the file parses but its plugins fail validation, the network comes
// back together with the error.
func (l *loader) loadFile(ctx context.Context, path string) (*network, [sha256.Size]byte, error) {
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
		return nil, key, err
	}
	// From here on a failure still returns n, so a setup that names the
	// network can be told why it was skipped.
	n := &network{name: list.Name, file: path, list: list}
	for _, p := range list.Plugins {
		n.types = append(n.types, p.Network.Type)
	}
	// The binaries' stamps go into the hash too: a plugin installed or
	// replaced changes the set even if no configuration file did.
	for _, t := range n.types {
		st, err := l.validatePlugin(ctx, t, list.CNIVersion)
		fmt.Fprintf(h, "%v", st)
		if err != nil {
			copy(key[:], h.Sum(nil))
			return n, key, err
		}
	}
	copy(key[:], h.Sum(nil))
	return n, key, nil
}

// readConf reads a configuration file, refusing directories, special files
// and files over maxConfSize. It opens without blocking, because opening a
// FIFO for reading otherwise waits for a writer forever and would stall
// every reload; the type check then refuses the FIFO.
func readConf(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat: %w", err)
	}
	if fi.IsDir() {
		return nil, errors.New("is a directory, not a file")
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > maxConfSize {
		return nil, fmt.Errorf("is %d bytes, over the %d-byte limit", fi.Size(), maxConfSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > maxConfSize {
		return nil, fmt.Errorf("grew past the %d-byte limit while being read", maxConfSize)
	}
	return data, nil
}

// parseConf parses and checks one file's bytes. A single-plugin file (one
// with a "type" and no "plugins") is up-converted to a list, whatever its
// extension.
func parseConf(path string, data []byte) (*libcni.NetworkConfigList, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errors.New("is empty")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("is not valid UTF-8")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("is not a JSON object: %w", err)
	}
	_, hasPlugins := raw["plugins"]
	_, hasType := raw["type"]
	var list *libcni.NetworkConfigList
	var err error
	switch {
	case hasPlugins || filepath.Ext(path) == ".conflist":
		list, err = libcni.ConfListFromBytes(data)
	case hasType:
		var conf *libcni.PluginConfig
		if conf, err = libcni.ConfFromBytes(data); err == nil {
			list, err = libcni.ConfListFromConf(conf)
		}
	default:
		return nil, errors.New(`has neither "plugins" nor "type"`)
	}
	if err != nil {
		return nil, err
	}
	if list.Name == "" {
		return nil, errors.New(`has no "name"`)
	}
	if err := utils.ValidateNetworkName(list.Name); err != nil {
		return nil, fmt.Errorf("has an invalid name %q: %s", list.Name, err.Msg)
	}
	if len(list.Plugins) == 0 {
		return nil, errors.New(`has no plugins (the "plugins" list is missing or empty)`)
	}
	if err := checkVersion(list.CNIVersion); err != nil {
		return nil, err
	}
	for i, p := range list.Plugins {
		t := p.Network.Type
		if t == "" {
			return nil, fmt.Errorf("plugin %d has no \"type\"", i)
		}
		if strings.ContainsAny(t, `/\`) || t == "." || t == ".." {
			return nil, fmt.Errorf("plugin %d has type %q; a type is a file name in the plugin directories, not a path", i, t)
		}
	}
	return list, nil
}

func checkVersion(v string) error {
	if v == "" {
		return errors.New(`has no "cniVersion"`)
	}
	if _, _, _, err := version.ParseVersion(v); err != nil {
		return fmt.Errorf("has an unparsable cniVersion %q", v)
	}
	if !slices.Contains(version.All.SupportedVersions(), v) {
		return fmt.Errorf("has cniVersion %q, which this library does not support (it supports %s)",
			v, strings.Join(version.All.SupportedVersions(), ", "))
	}
	return nil
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
	path, fi, err := statPlugin(pluginType, l.binDirs)
	if err != nil {
		return binaryCheck{stamp: fileStamp{path: pluginType}, err: err}
	}
	st := stampOf(path, fi)
	supported, err := l.cache.version(st, func() ([]string, error) {
		// A plugin that never answers VERSION must not hold a reload for
		// the full pod-operation timeout.
		ctx, cancel := context.WithTimeout(ctx, versionTimeout)
		defer cancel()
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
