package attachstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/internal/fsread"
)

// Entry is one file of the results directory. Unlike
// libcni.GetCachedAttachments, which silently drops files it cannot parse,
// the store keeps damaged entries (with Err set) so teardown and GC can
// still act on them with the current configuration and say so.
type Entry struct {
	// File is the entry's path.
	File string
	// Network, ID and Ifname name the attachment. For a damaged entry they
	// are empty, or come from the file name where Sandbox could tell whose
	// it is beyond doubt.
	Network, ID, Ifname string
	// NetNS is the netns path recorded at ADD, and NetNSID the identity of
	// the namespace it led to then (NetNSKey); "" where none was recorded.
	NetNS, NetNSID string
	// Config is the configuration recorded at ADD; see ConfigList.
	Config []byte
	// Args and Caps are the CNI_ARGS and capability arguments recorded at
	// ADD. A damaged entry has the capability arguments DropCopy kept, if
	// any.
	Args [][2]string
	Caps map[string]any
	// Order is the attach-order key recorded at ADD; -1 when unknown.
	Order int64
	// Owed is set on an owed entry: its attachment owes a DEL and has no
	// result to report.
	Owed bool
	// Err says why the entry is damaged; nil for a usable one.
	Err error
	// recorded names the attachment of a damaged entry as the arguments
	// DropCopy kept record it; nil where none were kept.
	recorded *Split
	kept     *Entry // the arguments DropCopy kept, for a damaged entry
}

// KeptNetNS returns, for a damaged entry, the netns path and namespace
// identity recorded with the arguments DropCopy kept; "" where none.
func (e *Entry) KeptNetNS() (path, id string) {
	if e.kept == nil {
		return "", ""
	}
	return e.kept.NetNS, e.kept.NetNSID
}

// KeptConfigList returns, for a damaged entry, the configuration recorded
// with the arguments DropCopy kept: what its DEL can still run with once
// its network is no longer configured.
func (e *Entry) KeptConfigList() (*libcni.NetworkConfigList, error) {
	if e.kept == nil {
		return nil, errors.New("no arguments kept for this entry")
	}
	return e.kept.ConfigList()
}

// Recorded returns, for a damaged entry, the attachment the arguments
// kept for it at ADD name (see DropCopy): whose it is beyond doubt, though
// its name may read several ways.
func (e *Entry) Recorded() (Split, bool) {
	if e.recorded == nil {
		return Split{}, false
	}
	return *e.recorded, true
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

// maxEntrySize caps an entry: a configuration (itself capped at 1 MiB),
// base64-encoded, with its arguments and result.
const maxEntrySize = 4 << 20

// parseFile reads one entry. It returns nil for a file that is gone and
// for a directory that is not empty, which nobody's record can have turned
// into and which only RemoveAll could clear (Sweep reports it). Anything
// else at an entry's path is an entry: a FIFO, socket, device or empty
// directory where a record was, a symlink (refused, not followed) and a
// file over maxEntrySize make damaged ones, whose attachment is DELed by
// the teardown or GC of the sandbox their name reads as, and which Clear
// removes before that DEL. A damaged entry has Err set and its names
// empty: only its content could say for certain whose it is (see
// attribute).
func parseFile(path string) *Entry {
	e := parseOne(path)
	if e == nil || e.Err == nil {
		return e
	}
	// libcni replaces the owed entry with its result in place (truncate,
	// then write), so a runtime killed in between leaves it empty or cut
	// short, after an ADD that ran: the copy Owe kept says what its DEL
	// needs, the netns above all.
	if c := parseOne(copyPath(path)); c != nil && c.Err == nil && c.Owed {
		c.File = path
		return c
	}
	// The entry stays damaged (its name alone says whose it is), but the
	// capability arguments recorded at ADD are kept apart (DropCopy).
	if a := parseOne(argsPath(path)); a != nil && a.Err == nil && FileName(a.Network, a.ID, a.Ifname) == filepath.Base(path) {
		e.recorded = &Split{Network: a.Network, ID: a.ID, Ifname: a.Ifname}
		e.kept = a
		for k, v := range a.Caps {
			if k != OrderKey && k != NetNSKey && k != owedKey {
				if e.Caps == nil {
					e.Caps = map[string]any{}
				}
				e.Caps[k] = v
			}
		}
	}
	return e
}

// parseOne reads one file as an entry; see parseFile.
func parseOne(path string) *Entry {
	e := &Entry{File: path, Order: -1}
	data, err := fsread.Regular(path, maxEntrySize, true)
	if errors.Is(err, os.ErrNotExist) || (errors.Is(err, fsread.ErrNotRegular) && !odd(path)) {
		return nil
	}
	if err != nil {
		e.Err = err
		return e
	}
	var ci cachedInfo
	switch err := json.Unmarshal(data, &ci); {
	case len(data) == 0:
		e.Err = errors.New("cache file is empty")
	case err != nil:
		e.Err = fmt.Errorf("cache file is corrupt: %w", err)
	case ci.Kind != libcni.CNICacheV1:
		e.Err = fmt.Errorf("cache file has unknown kind %q", ci.Kind)
	case ci.NetworkName == "" || ci.IfName == "" || ci.ContainerID == "":
		e.Err = errors.New("cache file lacks network, interface or sandbox ID")
	}
	if e.Err != nil {
		return e
	}
	e.Network, e.ID, e.Ifname = ci.NetworkName, ci.ContainerID, ci.IfName
	e.NetNS, e.Config, e.Args, e.Caps = ci.NetNS, ci.Config, ci.CniArgs, ci.CapabilityArgs
	if v, ok := ci.CapabilityArgs[OrderKey].(float64); ok {
		e.Order = int64(v)
	}
	e.Owed, _ = ci.CapabilityArgs[owedKey].(bool)
	e.NetNSID, _ = ci.CapabilityArgs[NetNSKey].(string)
	// The stored configuration is parsed only when the entry is acted on
	// (ConfigList), so a GC over tens of thousands of entries does not
	// parse every one of them.
	return e
}

// ConfigList returns the configuration recorded with the entry: a list, as
// libcni's AddNetworkList writes, or a single plugin, as its AddNetwork
// (and so cri-o/ocicni's single-network path) writes, which is run as a
// list of one.
func (e *Entry) ConfigList() (*libcni.NetworkConfigList, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	if len(e.Config) == 0 {
		return nil, errors.New("no configuration stored")
	}
	var probe struct {
		Plugins json.RawMessage `json:"plugins"`
		Type    string          `json:"type"`
	}
	if err := json.Unmarshal(e.Config, &probe); err != nil {
		return nil, err
	}
	if probe.Plugins == nil && probe.Type != "" {
		conf, err := libcni.ConfFromBytes(e.Config)
		if err != nil {
			return nil, err
		}
		return libcni.ConfListFromConf(conf)
	}
	list, err := libcni.ConfListFromBytes(e.Config)
	if err == nil && len(list.Plugins) == 0 {
		err = errors.New("no plugins in the stored configuration")
	}
	return list, err
}
