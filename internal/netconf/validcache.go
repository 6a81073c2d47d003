package netconf

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/types"
)

type parsedConf struct {
	list *libcni.NetworkConfigList
	err  error
}

type versionAnswer struct {
	supported []string
	err       error
}

// validCache remembers what reloads learnt: parsed configurations by content
// hash and VERSION answers by plugin binary stamp. A reload of unchanged
// files therefore parses nothing and execs nothing. Parsed entries not used
// by the latest load are dropped; a VERSION answer is dropped only once its
// binary is gone or changed, so a file that disappears for one reload (a
// truncate-then-write, a delete-then-create) costs no exec when it comes
// back. Either way the cache never outgrows the directories.
type validCache struct {
	mu       sync.Mutex // guards parsed and versions; held only for map access
	parsed   map[[sha256.Size]byte]parsedConf
	versions map[fileStamp]versionAnswer

	usedParsed   map[[sha256.Size]byte]bool
	usedVersions map[fileStamp]bool

	versionExecs atomic.Int64 // VERSION execs so far, for Stats
}

func newValidCache() *validCache {
	return &validCache{
		parsed:   map[[sha256.Size]byte]parsedConf{},
		versions: map[fileStamp]versionAnswer{},
	}
}

// beginLoad starts tracking which entries the coming load uses.
func (c *validCache) beginLoad() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.usedParsed = map[[sha256.Size]byte]bool{}
	c.usedVersions = map[fileStamp]bool{}
}

// endLoad drops the entries that can no longer be used.
func (c *validCache) endLoad() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.parsed {
		if !c.usedParsed[k] {
			delete(c.parsed, k)
		}
	}
	for k := range c.versions {
		if c.usedVersions[k] {
			continue
		}
		if fi, err := os.Stat(k.path); err == nil && stampOf(k.path, fi) == k {
			continue
		}
		delete(c.versions, k)
	}
}

func (c *validCache) parse(key [sha256.Size]byte, parse func() (*libcni.NetworkConfigList, error)) (*libcni.NetworkConfigList, error) {
	c.mu.Lock()
	p, ok := c.parsed[key]
	c.usedParsed[key] = true
	c.mu.Unlock()
	if ok {
		return p.list, p.err
	}
	list, err := parse()
	c.mu.Lock()
	c.parsed[key] = parsedConf{list: list, err: err}
	c.mu.Unlock()
	return list, err
}

// version returns the VERSION answer of the binary with stamp st, asking the
// plugin only when the stamp is new. Timeouts and cancellations are not
// remembered, so a binary that was merely slow is asked again next time.
func (c *validCache) version(st fileStamp, ask func() ([]string, error)) ([]string, error) {
	c.mu.Lock()
	a, ok := c.versions[st]
	c.usedVersions[st] = true
	c.mu.Unlock()
	if ok {
		return a.supported, a.err
	}
	c.versionExecs.Add(1)
	supported, err := ask()
	if err == nil || !isTransient(err) {
		c.mu.Lock()
		c.versions[st] = versionAnswer{supported: supported, err: err}
		c.mu.Unlock()
	}
	return supported, err
}

func isTransient(err error) bool {
	return errors.Is(err, types.ErrPluginTimeout) || errors.Is(err, context.Canceled)
}
