package ocicni

import (
	"context"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
)

// Plugin implements CNIPlugin. Build one with New or an InitCNI function,
// and call Shutdown when done with it.
//
// Every method is safe for concurrent use. A Plugin follows the conf dir
// and the plugin dirs on its own: a file or binary that appears, changes
// or goes away takes effect without a restart, and Networks and WaitReady
// show it. Each operation uses the configuration it started with to its
// end. A slow plugin never delays a reload, Status, or another pod's
// operation; operations on one sandbox run one at a time. Before the CNI
// GC verb, GC waits for in-flight setups and teardowns, holding new ones
// back for at most WithGCHoldBack's bound, and holds them back while the
// verb runs. Every wait, and every plugin run, ends with the caller's
// context.
type Plugin struct {
	// Locking rule. Configuration comes from netconf.Source as immutable
	// snapshots that need no lock. A pod operation takes its sandbox's lock
	// from pods and then gc for reading, in that order, and holds both
	// across its plugin execs. GC takes gcRun for its whole run, tears
	// stale sandboxes down as pod operations do (pods, then gc for
	// reading), and takes gc for writing only around the CNI GC verb; its
	// wait for gc holds new readers back for a bounded time only.
	// A setup registers in setups before it takes its sandbox's lock, and
	// an identical one waits there for its outcome instead (setups' mutex
	// is never held while waiting). Every wait honours the caller's
	// context. No other lock is held across a plugin exec.
	opts options
	exec *pluginexec.Runner
	cni  *libcni.CNIConfig
	// gcVerb sends the GC verb alone: its cache directory holds no
	// entries, so libcni finds no stale attachment to DEL (see GC).
	gcVerb *libcni.CNIConfig
	conf   *netconf.Source
	ready  *readiness
	tel    *telemetry

	store *attachstore.Store
	pods  *podLocks
	// setups are the setups in flight, which an identical retry joins.
	setups *setupCalls
	gc     *gcLock
	// netns orders setups against DELs into a namespace no record vouches
	// for; taken last, after a claim of a cache path (see netnsLocks).
	netns *netnsLocks

	// gcRun holds a token while a GC runs, so one runs at a time; a channel
	// so that waiting for it ends with the caller's context.
	gcRun chan struct{}
	// gcUnresolved holds the corrupt cache files the last GC could not tie
	// to a network, so each is reported once. Only the holder of gcRun
	// touches it.
	gcUnresolved map[string]bool
}

var _ CNIPlugin = (*Plugin)(nil)

// New builds a Plugin, loads the configuration once and, unless watching is
// turned off, starts watching the conf and plugin directories. It does not
// fail because the conf dir is empty or missing, nor because inotify is
// unavailable (it then polls): Status says what is missing instead. When a
// file that may decide the default network is in the middle of a write
// (empty or not parsing, changed within the last second), New waits for the
// write, at most until the file settles, rather than pick another default.
func New(opts ...Option) (*Plugin, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	p := &Plugin{
		opts:   o,
		pods:   newPodLocks(),
		setups: newSetupCalls(),
		store:  attachstore.New(o.cacheDir),
		gcRun:  make(chan struct{}, 1),
		gc:     newGCLock(),
		netns:  newNetNSLocks(),
	}
	tel, err := newTelemetry(&o)
	if err != nil {
		return nil, err
	}
	p.tel = tel
	p.exec = pluginexec.New(pluginexec.Config{Inner: o.exec, Timeouts: o.execTimeouts(), Log: o.logger, EnvKeys: o.envKeys, Telemetry: tel.exec,
		Admission: pluginexec.NewAdmission(o.execLimit), GOMAXPROCS: o.pluginProcs})
	p.cni = libcni.NewCNIConfigWithCacheDir(o.binDirs, o.cacheDir, p.exec)
	p.gcVerb = libcni.NewCNIConfigWithCacheDir(o.binDirs, filepath.Join(o.cacheDir, gcVerbCacheDir), p.exec)
	p.conf = netconf.Open(netconf.Config{
		ConfDir: o.confDir, BinDirs: o.binDirs, DefaultNetwork: o.defaultNetwork,
		Watch: o.watch, PollInterval: o.pollInterval, Log: o.logger, Exec: p.exec,
	})
	if err := tel.observe(p.conf); err != nil {
		p.Shutdown()
		return nil, err
	}
	p.ready = startReadiness(p.conf, p.chainStatus, o.logger, o.readiness)
	return p, nil
}

// Name returns CNIPluginName.
func (p *Plugin) Name() string { return CNIPluginName }

// GetDefaultNetworkName returns the current default network's name, or ""
// when none is loaded.
func (p *Plugin) GetDefaultNetworkName() string {
	if set, _ := p.conf.Current(context.Background()); set.Default != nil {
		return set.Default.Name
	}
	return ""
}

// Networks returns a view of the loaded configuration: every network with
// its file, version and plugin types, the default, and every skipped file
// with the reason. The default network's entry carries its Readiness as of
// the call (where its version has STATUS). Its Changed channel closes when
// the configuration view goes stale; readiness changes do not close it
// (WaitReady waits for those). It encodes to JSON.
func (p *Plugin) Networks() NetworkSet {
	set, _ := p.conf.Current(context.Background())
	info := set.Info()
	if d := set.Default; d != nil && hasStatusVerb(d.List) {
		v := p.ready.view(d.Name, time.Now())
		for i := range info.Networks {
			if info.Networks[i].Default {
				info.Networks[i].Readiness = &v
			}
		}
	}
	return info
}

// Shutdown stops the watcher and waits for its goroutine. Operations in
// flight finish; every pod operation, GC, Status and WaitReady called
// after it returns an error matching ErrShutdown, while Networks and
// GetDefaultNetworkName keep reporting the last configuration. It may be
// called more than once.
func (p *Plugin) Shutdown() error {
	p.conf.Close()
	if p.ready != nil {
		p.ready.stop()
	}
	p.tel.close()
	p.store.Close()
	return nil
}
