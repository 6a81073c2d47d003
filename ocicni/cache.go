package ocicni

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// cacheEntry is one file of libcni's result cache. Unlike
// libcni.GetCachedAttachments, which silently drops files it cannot parse,
// the reader keeps corrupt entries (with err set) so teardown and GC can
// still act on them with the current configuration and say so.
type cacheEntry struct {
	file    string
	network string
	id      string
	ifname  string
	netns   string
	config  []byte
	args    [][2]string
	caps    map[string]any
	index   int // attach order; -1 when unknown
	err     error
}

// cachedInfo mirrors the JSON libcni writes (kind cniCacheV1).
type cachedInfo struct {
	Kind           string         `json:"kind"`
	ContainerID    string         `json:"containerId"`
	Config         []byte         `json:"config"`
	IfName         string         `json:"ifName"`
	NetworkName    string         `json:"networkName"`
	NetNS          string         `json:"netns,omitempty"`
	CniArgs        [][2]string    `json:"cniArgs,omitempty"`
	CapabilityArgs map[string]any `json:"capabilityArgs,omitempty"`
}

func (p *Plugin) resultsDir() string {
	return filepath.Join(p.opts.cacheDir, "results")
}

// readCache returns the cache entries of sandbox id (all sandboxes when id
// is empty) sorted by attach order, corrupt ones included.
func (p *Plugin) readCache(id string) ([]*cacheEntry, error) {
	dir := p.resultsDir()
	files, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
	}
	var out []*cacheEntry
	for _, f := range files {
		e := parseCacheFile(filepath.Join(dir, f.Name()), id)
		if e != nil {
			out = append(out, e)
		}
	}
	sortByAttachOrder(out)
	return out, nil
}

// parseCacheFile reads one cache file. It returns nil for a file that does
// not belong to id. Where the content is unusable, the name still tells the
// network and interface, since libcni names files <network>-<id>-<ifname>.
func parseCacheFile(path, id string) *cacheEntry {
	name := filepath.Base(path)
	e := &cacheEntry{file: path, index: -1}
	if id != "" {
		sep := "-" + id + "-"
		i := strings.Index(name, sep)
		if i <= 0 || i+len(sep) >= len(name) {
			return nil
		}
		e.network, e.id, e.ifname = name[:i], id, name[i+len(sep):]
	}
	data, err := os.ReadFile(path)
	if err != nil {
		e.err = err
		return keepIfKnown(e, id)
	}
	var ci cachedInfo
	switch err := json.Unmarshal(data, &ci); {
	case len(data) == 0:
		e.err = errors.New("cache file is empty")
	case err != nil:
		e.err = fmt.Errorf("cache file is corrupt: %w", err)
	case ci.Kind != libcni.CNICacheV1:
		e.err = fmt.Errorf("cache file has unknown kind %q", ci.Kind)
	case id != "" && ci.ContainerID != id:
		return nil
	case ci.NetworkName == "" || ci.IfName == "" || ci.ContainerID == "":
		e.err = errors.New("cache file lacks network, interface or sandbox ID")
	}
	if e.err != nil {
		return keepIfKnown(e, id)
	}
	e.network, e.id, e.ifname = ci.NetworkName, ci.ContainerID, ci.IfName
	e.netns, e.config, e.args, e.caps = ci.NetNS, ci.Config, ci.CniArgs, ci.CapabilityArgs
	if v, ok := ci.CapabilityArgs[attachIndexKey].(float64); ok {
		e.index = int(v)
	}
	if _, err := libcni.ConfListFromBytes(ci.Config); err != nil || len(ci.Config) == 0 {
		e.err = fmt.Errorf("cached configuration is unusable: %v", err)
	}
	return e
}

// keepIfKnown keeps a corrupt entry of sandbox id only when its file name
// told which network and interface it is about. Without an id (GC), every
// corrupt entry is kept for the caller to resolve.
func keepIfKnown(e *cacheEntry, id string) *cacheEntry {
	if id != "" && (e.network == "" || e.ifname == "") {
		return nil
	}
	return e
}

// sortByAttachOrder orders entries by the index recorded at ADD; entries
// without one (written by other runtimes, or corrupt) go last, by name.
func sortByAttachOrder(es []*cacheEntry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.id != b.id {
			return a.id < b.id
		}
		if (a.index < 0) != (b.index < 0) {
			return a.index >= 0
		}
		if a.index != b.index {
			return a.index < b.index
		}
		return a.file < b.file
	})
}

// cachedList returns the configuration list stored with the entry.
func (e *cacheEntry) cachedList() (*libcni.NetworkConfigList, error) {
	if e.err != nil {
		return nil, e.err
	}
	return libcni.ConfListFromBytes(e.config)
}
