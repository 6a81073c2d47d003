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
	index   int64 // attach order; -1 when unknown
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

// cachePath is where libcni keeps the entry of one attachment.
func (p *Plugin) cachePath(network, id, ifname string) string {
	return filepath.Join(p.resultsDir(), network+"-"+id+"-"+ifname)
}

// readCache returns the cache entries of sandbox id (all sandboxes when id
// is empty) sorted by attach order, corrupt ones included. For one sandbox
// it reads only the files the index names for it, so its cost does not grow
// with the other sandboxes' entries; only when the index knows none does it
// list the directory, in case another process wrote the cache meanwhile.
func (p *Plugin) readCache(id string) ([]*cacheEntry, error) {
	dir := p.resultsDir()
	var names []string
	if id != "" {
		var err error
		if names, err = p.index.lookup(dir, id); err != nil {
			return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
		}
	}
	if len(names) == 0 {
		all, err := listCacheDir(dir)
		if err != nil {
			return nil, err
		}
		p.index.reset(all)
		names = all
	}
	var out []*cacheEntry
	for _, name := range names {
		e := parseCacheFile(filepath.Join(dir, name), id)
		if e != nil {
			out = append(out, e)
		} else if id != "" {
			p.index.dropIfGone(dir, name)
		}
	}
	sortByAttachOrder(out)
	return out, nil
}

// rescanCache returns every cache entry, reusing the entries of prev whose
// files are still there rather than reading them again: what GC needs
// after its stale DELs, when most entries have not changed.
func (p *Plugin) rescanCache(prev []*cacheEntry) ([]*cacheEntry, error) {
	dir := p.resultsDir()
	names, err := listCacheDir(dir)
	if err != nil {
		return nil, err
	}
	p.index.reset(names)
	known := make(map[string]*cacheEntry, len(prev))
	for _, e := range prev {
		known[filepath.Base(e.file)] = e
	}
	out := make([]*cacheEntry, 0, len(names))
	for _, name := range names {
		e := known[name]
		if e == nil {
			e = parseCacheFile(filepath.Join(dir, name), "")
		}
		if e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// listCacheDir lists the entries of the results directory, leaving out the
// temporary files of writeDurably. A missing directory holds nothing.
func listCacheDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
	}
	defer f.Close()
	all, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading CNI cache %s: %w", dir, err)
	}
	names := all[:0]
	for _, n := range all {
		if !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	return names, nil
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
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
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
		e.index = int64(v)
	}
	// The stored configuration is parsed only when the entry is acted on
	// (cachedList), so a GC over tens of thousands of entries does not
	// parse every one of them.
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
	return listFromCachedConfig(e.config)
}

// listFromCachedConfig parses the configuration stored in a cache entry:
// a list, as libcni's AddNetworkList writes, or a single plugin, as its
// AddNetwork (and so cri-o/ocicni's single-network path) writes, which is
// run as a list of one.
func listFromCachedConfig(config []byte) (*libcni.NetworkConfigList, error) {
	if len(config) == 0 {
		return nil, errors.New("no configuration stored")
	}
	var probe struct {
		Plugins json.RawMessage `json:"plugins"`
		Type    string          `json:"type"`
	}
	if err := json.Unmarshal(config, &probe); err != nil {
		return nil, err
	}
	if probe.Plugins == nil && probe.Type != "" {
		conf, err := libcni.ConfFromBytes(config)
		if err != nil {
			return nil, err
		}
		return libcni.ConfListFromConf(conf)
	}
	list, err := libcni.ConfListFromBytes(config)
	if err == nil && len(list.Plugins) == 0 {
		err = errors.New("no plugins in the stored configuration")
	}
	return list, err
}
