package ocicnitest

import (
	"slices"
	"sync"

	"github.com/netplumb/ocicni/ocicni"
)

// DefaultNetwork is the one network a Plugin built without WithNetworks
// has.
const DefaultNetwork = "fake-net"

// Plugin is a fake ocicni.CNIPlugin that keeps attachments in memory. It
// also has the real *ocicni.Plugin's WaitReady and Networks. Every method
// is safe for concurrent use. Build one with New.
type Plugin struct {
	opts options

	// Locking rule: mu guards every field below. It is held only for
	// bookkeeping, never while an operation waits (for a scripted hang,
	// for another operation on the same sandbox, or for a GC), so a
	// hanging pod never stalls another pod, Calls or the scripting
	// methods. Waits release mu and watch wake or changed instead.
	mu sync.Mutex
	// loaded lists the networks the fake has loaded, in order.
	loaded []string
	// pools holds the address range of every network ever loaded, so a
	// network keeps its subnet across SetNetworks.
	pools map[string]*pool
	// pods holds each sandbox's attachments in attach order.
	pods   map[string][]*attachment
	faults []*Fault
	calls  []*Call
	// busy holds the sandboxes with an operation in flight (a GC's DELs
	// of a stale sandbox included), gcActive is set while a GC runs, and
	// gcRunning while its GC verb runs: a pod operation waits for its
	// sandbox to be free and for no GC verb, a GC for no other GC, and a
	// GC verb for no sandbox to be busy. So, as with the real plugin, GC
	// excludes setups and teardowns only around the GC verb.
	busy      map[string]bool
	gcActive  bool
	gcRunning bool
	// wake is closed and replaced whenever busy or gcRunning loses an
	// entry, waking every waiter to look again.
	wake chan struct{}
	// changed is closed and replaced whenever the networks or faults
	// change, as a real plugin's view is replaced on reload.
	changed chan struct{}
	// shutdown is closed by Shutdown.
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

// attachment is one network of one sandbox.
type attachment struct {
	network, ifname, netns string
	// host is the address's host number in the network's pool; 0 when the
	// ADD never completed and only its DEL is owed.
	host int
	// owed is set when a failed setup could not DEL the attachment: it is
	// not usable, status reports it, and the next teardown retries it.
	owed bool
}

var _ ocicni.CNIPlugin = (*Plugin)(nil)

// New builds a fake with the given options. Its first network hands out
// 10.88.0.2, 10.88.0.3, ... (gateway 10.88.0.1), its second 10.88.1.2 and
// up, and so on; an address is free again once its attachment is torn
// down, and the lowest free one is always handed out next.
func New(opts ...Option) *Plugin {
	o := options{networks: []string{DefaultNetwork}, pluginTimeout: ocicni.DefaultPluginTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	p := &Plugin{
		opts:     o,
		pools:    map[string]*pool{},
		pods:     map[string][]*attachment{},
		busy:     map[string]bool{},
		wake:     make(chan struct{}),
		changed:  make(chan struct{}),
		shutdown: make(chan struct{}),
	}
	p.setNetworksLocked(o.networks)
	for _, f := range o.faults {
		p.faults = append(p.faults, &f)
	}
	return p
}

// Name returns ocicni.CNIPluginName.
func (p *Plugin) Name() string { return ocicni.CNIPluginName }

// GetDefaultNetworkName returns the default network's name, or "" when the
// fake has none loaded.
func (p *Plugin) GetDefaultNetworkName() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.defaultLocked()
}

func (p *Plugin) defaultLocked() string {
	want := p.opts.defaultNetwork
	if want == "" && len(p.loaded) > 0 {
		return p.loaded[0]
	}
	if slices.Contains(p.loaded, want) {
		return want
	}
	return ""
}

// SetNetworks replaces the loaded networks, as a real plugin's reload
// does when the configuration directory changes. Attachments of networks
// no longer loaded stay, and are torn down as usual; a network loaded
// again keeps its subnet. Naming none makes the fake not ready, and a
// WaitReady in progress returns once a default network is loaded.
func (p *Plugin) SetNetworks(names ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setNetworksLocked(names)
	p.changedLocked()
}

func (p *Plugin) setNetworksLocked(names []string) {
	p.loaded = nil
	for _, n := range names {
		if n == "" || slices.Contains(p.loaded, n) {
			continue
		}
		p.loaded = append(p.loaded, n)
		if p.pools[n] == nil {
			p.pools[n] = &pool{n: len(p.pools), used: map[int]bool{}}
		}
	}
}

// changedLocked wakes whoever waits on the current view.
func (p *Plugin) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Networks returns the loaded networks as the real plugin describes
// them: each fake network has cniVersion 1.1.0 and one plugin of type
// "ocicnitest"; ConfDir and File are empty. Changed closes on the next
// SetNetworks, Inject or ClearFaults.
func (p *Plugin) Networks() ocicni.NetworkSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	def := p.defaultLocked()
	set := ocicni.NetworkSet{Default: def, Changed: p.changed}
	for _, n := range p.loaded {
		set.Networks = append(set.Networks, ocicni.NetworkInfo{
			Name: n, CNIVersion: "1.1.0", PluginTypes: []string{"ocicnitest"}, Default: n == def,
		})
	}
	return set
}

// Attached returns the sandbox's attachments in attach order, owed ones
// included, without running or recording anything.
func (p *Plugin) Attached(sandboxID string) []ocicni.NetAttachment {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ocicni.NetAttachment
	for _, a := range p.pods[sandboxID] {
		out = append(out, ocicni.NetAttachment{Name: a.network, Ifname: a.ifname})
	}
	return out
}

// Shutdown makes every operation called after it, WaitReady included,
// return an error matching ocicni.ErrShutdown, as with the real plugin;
// Networks and GetDefaultNetworkName keep reporting the networks. It may
// be called more than once.
func (p *Plugin) Shutdown() error {
	p.shutdownOnce.Do(func() { close(p.shutdown) })
	return nil
}

// closed returns ocicni.ErrShutdown once Shutdown has been called.
func (p *Plugin) closed() error {
	select {
	case <-p.shutdown:
		return ocicni.ErrShutdown
	default:
		return nil
	}
}
