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
		if strings.HasPrefix(f.Name(), ".") {
			continue // a temporary file of recordPendingDel
		}
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
		e.index = int64(v)
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

// pendingDelKey marks a cache entry written by the library, not libcni:
// the record of an attachment whose ADD failed and whose rollback DEL failed
// too. libcni caches only successful ADDs, so without it nothing would ever
// retry that DEL, which the CNI spec requires.
const pendingDelKey = "io.github.netplumb.ocicni/pending-del"

// recordPendingDel makes sure a later teardown or GC retries the DEL of a.
// An entry libcni wrote (a successful ADD) already does; otherwise one is
// written in libcni's format with an empty result, atomically, so a crash
// cannot leave half a file.
func (p *Plugin) recordPendingDel(a *attachment) error {
	path := p.cachePath(a.name, a.rt.ContainerID, a.ifname)
	if _, err := os.Stat(path); err == nil {
		return nil
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
		Result: map[string]any{"cniVersion": a.list.CNIVersion},
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pending-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cachedList returns the configuration list stored with the entry.
func (e *cacheEntry) cachedList() (*libcni.NetworkConfigList, error) {
	if e.err != nil {
		return nil, e.err
	}
	return libcni.ConfListFromBytes(e.config)
}
