// Package ocicni gives pods their networks through CNI. It is a drop-in
// replacement for cri-o/ocicni: the same CNIPlugin interface, the same
// InitCNI constructors and the same types, plus a functional-options
// constructor, New, and a few additions (network listing, change
// notification, WaitReady). This comment is the library's manual: what it
// does, in what order, under which lock, and what it leaves on disk.
//
// # Data flow
//
// Data flows one way:
//
//	conf dir + bin dirs --> internal/netconf: read, validate (VERSION answers remembered), fingerprint
//	   ^ watcher / poller          |
//	   +---- reload ---------------+--> snapshot (immutable, swapped atomically)
//	                                        | taken once per operation
//	                                        v
//	PodNetwork --> validate + plan --> sandbox lock --> owe the DEL on disk --> one loop over networks
//	               (ifnames, runtime conf)                (write-ahead)              (ADD, DEL, CHECK)
//	                                                          |                          |
//	                                                          v                          v
//	                                    libcni result cache + owed entries  <--  internal/pluginexec --> plugin
//	                                    (teardown, status and GC read it)   (process group, deadline)
//
// A reload builds a new snapshot off to the side and swaps a pointer; an
// operation reads the pointer once. What a DEL needs is on disk before the
// ADD's plugin reads its configuration, so a process killed at any instant
// leaves an owed entry that the next instance finishes.
//
// # The locking rule
//
// Operations on one sandbox are serialized by that sandbox's lock;
// different sandboxes proceed in parallel. The GC verb excludes ADD and DEL
// (and only the verb: GC's DELs of stale sandboxes take each sandbox's lock
// like a teardown). No lock a reload needs is ever held while a plugin
// runs, and every wait (for the sandbox, for GC, for a reload without a
// watcher) ends when the caller's context does. The rules are written next
// to the locks themselves.
//
// # Loading configuration
//
//   - Files ending in .conf, .conflist and .json in the conf dir are read in
//     byte order of their names (10-a.conf before 5-b.conf), as cri-o does. A
//     single-plugin file is up-converted to a list.
//   - A file is skipped, with the reason logged and kept for Networks(), when
//     it is not valid UTF-8 JSON, is empty, is over 1 MiB (refused without
//     being read whole), is a directory or special file, has no name, no
//     cniVersion, an unsupported cniVersion, no plugins, a plugin without a
//     type or with a path in its type, a plugin binary missing from every bin
//     dir or not executable, a plugin that does not support the version, or
//     reuses the name of an earlier file (the first file wins).
//   - cniVersions is negotiated as libcni does it: the highest listed version
//     this library supports.
//   - The default network is the one named with WithDefaultNetwork (or
//     InitCNI's first argument), otherwise the first valid file.
//   - Validation execs VERSION once per plugin binary: answers are remembered
//     by the binary's path, size, mtime, mode, inode and ctime, and parsed
//     files by their content hash. A reload of unchanged files execs nothing.
//     A plugin that does not answer VERSION within 10 s costs only its own
//     network, which is skipped with that reason.
//   - Plugins listed only in a <confdir>/<name>/*.conf side directory
//     (libcni's ConfListFromFile appends those) are not loaded: libcni does
//     not put them in the cached configuration, so teardown could not run
//     them.
//
// # Live configuration
//
// With watching on (the default), fsnotify watches, each by its real path and
// together with its parent: the conf dir, every bin dir, and the directories
// holding the targets of symlinked configuration files. A directory that does
// not exist yet is watched through its nearest existing ancestor. So all of
// these are seen, and no directory is ever created by the library:
//
//   - a file created then written, written to a temporary name and renamed
//     into place, overwritten in place (see below: no flap while it is
//     rewritten), deleted, or chmod'ed;
//   - a symlinked configuration whose target changes, and the Kubernetes
//     ConfigMap layout (files linked through ..data, the ..data link swapped
//     by rename);
//   - a conf dir that is created after start, or deleted and recreated;
//   - a plugin binary, or a symlink to one, installed after the configuration
//     that names it: the network becomes valid as soon as it is there; a bin
//     dir that is a symlink re-pointed to another directory.
//
// A change is reloaded at once when no reload is running. Whatever changes
// while a reload runs is folded into exactly one follow-up reload, which
// starts as soon as that one ends; there is no quiet window to wait out. A
// conflist renamed into a watched conf dir is in force well under a
// millisecond later when its plugin binaries are known, also when it lands a
// few milliseconds after the file it replaces was removed; the first file
// that names a binary not seen before also waits for that binary's VERSION
// exec. Each plugin binary is asked VERSION once, however many files name it
// and however many reloads a burst causes: copying 50 files in execs VERSION
// once per binary, and rewriting a file with the same bytes execs nothing and
// wakes nothing. A reload builds a new immutable snapshot off to the side and
// swaps it in; it never waits for a plugin call in flight.
//
// A file rewritten in place (truncated, then written, as os.WriteFile and
// shell redirection do) is empty or half written for a moment, and a reload
// may read it then. So a file that changed within the last second and is now
// empty or does not parse keeps its last valid version in force, and Status()
// stays nil throughout the rewrite. The file is read again once it has been
// left alone for a second; only if it is still broken then is it skipped,
// with the parse error as its reason. Likewise a new file caught empty or
// half written while it is being created stays out of Networks() until it is
// written or has settled, instead of showing as skipped for a moment. A file
// already skipped, every file found at start, and a file whose plugins fail
// validation are reported at once.
//
// If the watcher reports an error or closes, it is rebuilt and a full reload
// catches up with anything missed. If inotify cannot be had at all (instances
// or watches exhausted: EMFILE, ENOSPC), at start or later, the library logs
// that once and polls the directories every WithPollInterval (default 2 s);
// the constructor does not fail for that. With watching off
// (WithWatch(false), InitCNINoInotify), and while polling, every operation
// first compares a fingerprint of the directories (listing and file stamps,
// no content read, no exec) and reloads if it changed, so a default network
// added after start is found by the very next call. A file changed in the
// last 50 ms always forces that reload, because older kernels stamp files
// with a clock that advances only once per tick, and so does a file kept at
// its last valid version until it settles, so the first operation after that
// second sees the file as it is.
//
// A reload in which every file is invalid, or the conf dir is gone, leaves no
// default network, but pods set up earlier are still torn down with their
// cached configuration.
//
// Networks() returns what is loaded: each network's source file, cniVersion,
// plugin types, disableCheck/disableGC and whether it is the default, and
// every skipped file with its reason — what an operator needs to answer "why
// is my node not ready". Its Changed channel closes only when something
// really changed (a network, the default, or a skip reason). WaitReady(ctx)
// blocks until Status() is nil, waking on every change and on every new
// STATUS answer, so a runtime need not poll; on timeout its
// error matches both the context's error and ErrNotReady, and after Shutdown
// it returns ErrShutdown.
//
//	for {
//		view := plugin.Networks()
//		log.Infof("default network %q, %d skipped files", view.Default, len(view.Skipped))
//		select {
//		case <-view.Changed:
//		case <-ctx.Done():
//			return
//		}
//	}
//
// # Setting up a pod
//
// SetUpPod validates the whole PodNetwork before any plugin runs (sandbox ID,
// netns path that must be a network namespace, interface names, IP and MAC
// addresses, port mappings, and values that would smuggle keys into
// CNI_ARGS), then runs ADD for each network in order: the requested networks,
// or the default one. Meanwhile it brings lo up inside the pod's netns in-
// process through netlink (no plugin exec, no nsenter); if that fails, the
// networks are rolled back as for any other failure. Interface names are
// eth0, eth1, … with explicitly requested names reserved first; a duplicate
// is an error. If network k fails, networks k, k−1, …, 0 get a DEL in reverse
// order before the error returns, on a context detached from the caller's,
// because the CNI spec requires every ADD, even a failed one, to be followed
// by a DEL. Before each ADD starts, what its DEL needs is already on disk
// (see On disk); if a rollback DEL fails too, that owed entry stays,
// GetPodNetworkStatus reports the DEL as owed, and the next TearDownPod or GC
// retries it.
//
// Networks are attached one after another by default, because a later
// network's plugins may depend on an earlier one's work
// (containerd/containerd#7685, containernetworking/cni#563; the CNI spec says
// nothing of concurrent plugin calls in one netns).
// WithParallelNetworks(true) runs the ADDs of one pod's networks
// concurrently, and the DELs of teardown, rollback and GC likewise: interface
// names are assigned before any plugin runs, results come back in request
// order, and rollback, the owed entries and the errors are those of
// the serial path (the error names the first failing network in request
// order; every network gets its rollback DEL).
//
// CNI_ARGS carries IgnoreUnknown=1, the K8S_POD_* arguments (unless
// WithKubernetesArgs(false)), and IP=/MAC= when set. Capability arguments
// reach only the plugins that declare the capability.
//
// # Tearing down a pod
//
// TearDownPod detaches the requested networks, or, when the request names
// none, every network the libcni result cache records for the sandbox, in
// reverse attach order (the order is recorded in the cache entry, and holds
// across separate SetUpPod calls for one sandbox). A requested network
// without an interface name matches its cache entry whatever interface it was
// set up on. Each DEL uses the configuration and arguments cached at ADD
// time, so a pod set up under a configuration that has since changed or been
// deleted is torn down by the plugins that set it up; only where no usable
// cache entry exists does it fall back to the current configuration, with a
// warning. A DEL that fails with the cached configuration is tried once more
// with the network's current configuration when that differs, so a file fixed
// after a failure frees the sandbox; the error names both when both fail. The
// DEL gets the netns path recorded at ADD while it still exists, the caller's
// otherwise. When nothing is cached for the sandbox and the request names no
// networks, the default network gets a DEL with its current configuration, as
// cri-o/ocicni does, so sandboxes set up before an upgrade are still released
// (a plugin must accept a DEL of something it never added). It keeps going
// past a failing network and returns every error joined; a failed DEL keeps
// its cache entry, so a later teardown retries it. Tearing down twice, or
// with an empty or already deleted netns path, succeeds.
//
// # Status of a pod
//
// GetPodNetworkStatus runs CHECK where the configuration allows it
// (cniVersion ≥ 0.4.0, and disableCheck off in both the configuration cached
// at ADD and the current one) and returns the cached ADD result. An
// attachment that still owes a DEL gets no CHECK: its status is an error
// saying so. Where no cache exists, it reads the interface's MAC and
// addresses inside the pod's netns in-process.
//
// # Readiness
//
// Status() is nil only when a default network is loaded, every plugin of its
// chain is present, and (for cniVersion 1.1.0) the plugins' STATUS verb last
// said ready. STATUS is never asked on the call path: a background poller
// asks the default chain's plugins (all at once) when the configuration
// loads or changes and every WithStatusInterval, and Status answers from the
// last answer, so a hanging plugin holds up neither Status nor Networks. A
// failure after a success may be tolerated for WithStatusGracePeriod.
// Otherwise the error matches ErrNotReady and says what to fix: no
// configuration in DIR, default network X not found, plugin P missing from
// DIRS, file F skipped because …, or the plugin's STATUS error. The
// repository's docs/readiness.md has the details.
//
// # Garbage collection
//
// GC(ctx, validPods) removes every cached attachment whose sandbox is not in
// validPods, then sends the GC verb (cniVersion 1.1.0) to every loaded
// network. Stale sandboxes are torn down the way TearDownPod tears them down
// (under the sandbox's own lock, in reverse attach order, with the cached
// configuration and the current one as a fallback), up to 8 at a time, while
// other pods keep being set up and torn down; attachments of networks whose
// file is gone are cleaned up too, and those with disableGC (in the cached or
// the current configuration) are left alone. Only the GC verb itself excludes
// ADD and DEL, as the spec asks. No caller waits on those DELs, so their
// plugins (and any child a plugin starts) run at CPU niceness 10: pods set up
// meanwhile get the CPU first, and GC still progresses (the scheduler gives
// it about a tenth of a contended CPU, all of an idle one). The niceness is
// set before the plugin gets its configuration, so none of its work runs at
// the normal priority. The attachments it reports as valid are those of
// validPods (each named network on its planned interface, or the default
// network on eth0, as cri-o/ocicni computes them) joined with everything
// still cached, so a running pod whose cache entry was lost is not freed by a
// plugin's GC. One GC runs at a time, and every wait ends with the caller's
// context. A nil or ID-less entry in validPods is refused before anything is
// deleted, and an unreadable cache directory is returned at once; otherwise
// errors are joined and GC never stops early. A cache file so corrupt that
// neither its content nor its name ties it to a loaded network is reported in
// the log once, not on every run; half-written entries left by a process that
// died are removed.
//
// # Concurrency
//
// Different pods proceed in parallel; operations on one sandbox are
// serialized. No pod plugin is exec'd while holding a lock that a reload
// needs: configuration is an immutable snapshot, read once per operation, so
// a slow plugin never stalls a reload, Status or another pod. The GC verb
// takes an exclusive lock against ADD and DEL, as the CNI spec requires, so
// it waits for setups and teardowns in flight and new ones wait for it, but
// only while the verb runs: GC's DELs of stale sandboxes take each sandbox's
// lock like a teardown. The lookup of a sandbox's cache entries goes through
// an in-memory index, so setup, status and teardown cost the same with tens
// of thousands of other sandboxes cached. Every wait an operation makes (for
// another operation on the same sandbox, for a running GC, and, without a
// watcher, for another operation's reload) ends when the caller's context
// does, GC's own wait included. The locking rules are written next to the
// locks (ocicni/plugin.go, ocicni/locks.go, internal/netconf/source.go).
//
// Every plugin exec is bounded by the caller's context and by its verb's
// timeout (DefaultTimeouts: ADD 5 minutes, DEL and CHECK 1 minute, GC 30 s,
// STATUS and VERSION 10 s; WithTimeouts, WithNetworkTimeouts and
// WithPluginTimeout change them). The VERSION execs of a reload run on the
// plugin's own lifetime context, not a caller's (a cancelled caller must not
// mark networks invalid), and each plugin binary is asked at most once per
// reload. Without a watcher, an operation that finds
// the directories changed waits for that reload, but only until its own
// context ends. Shutdown stops the watcher goroutine, kills a VERSION exec in
// flight, prevents further reloads, and may be called more than once.
// Operations in flight finish; every pod operation, GC, Status and
// WaitReady called after it returns an error matching ErrShutdown, while
// Networks and GetDefaultNetworkName keep reporting the last
// configuration.
//
// A SetUpPod of a network and interface that the result cache says the
// sandbox already has (or still owes a DEL for) is refused with
// ErrAlreadyAttached before any plugin runs. cri-o would run ADD again, most
// plugins would refuse it, and a rollback would then remove the working
// attachment. Tear a pod down before setting it up again.
//
// # Errors
//
// Every error matches one of these with errors.Is when it belongs to the
// class: ErrNotReady, ErrNoDefaultNetwork, ErrNetworkNotFound,
// ErrInvalidPodNetwork, ErrAlreadyAttached, ErrPluginTimeout (also matches
// context.DeadlineExceeded), ErrPluginNotFound, ErrInvalidPluginOutput,
// ErrPluginOutputTooLarge (also matches ErrInvalidPluginOutput), ErrShutdown. Failures of a network attachment are *OpError, which names the
// operation, pod, sandbox, network and interface; through it, errors.As finds
// the plugin's own *types.Error with its code. IsRetryable(err) reports CNI
// error code 11 ("try again later").
//
// An error also matches what its text says caused it. A readiness error that
// says a plugin binary is missing matches ErrPluginNotFound, whether the
// binary was missing when the configuration loaded or went away later; one
// that says the conf dir cannot be read matches the directory error
// (fs.ErrNotExist when it does not exist). A netns path that does not exist
// is refused with an error matching both ErrInvalidPodNetwork and
// fs.ErrNotExist. WaitReady's error when its context ends is one line and
// matches ctx.Err() and ErrNotReady. A configuration file with a JSON syntax
// error is skipped with a reason that names the line and column.
//
// # Logging
//
// New logs to the logrus.FieldLogger given with WithLogger; without one it
// logs nothing. The cri-o-compatible constructors, InitCNI, InitCNIWithCache
// and InitCNINoInotify, log to logrus's standard logger, as cri-o/ocicni
// does, so a runtime that swaps the import keeps every CNI log line. Log
// entries about a pod carry pod_namespace, pod_name, pod_id, network, ifname
// and plugins. A plugin's stderr is captured and logged with those fields and
// the plugin name, never written to the runtime's stderr.
// //
// # On disk
//
// Everything a teardown, status or GC needs is in libcni's result cache,
// under the cache dir (default /var/lib/cni), one file per attachment:
// results/<network>-<sandboxID>-<ifname>, in libcni's own cniCacheV1
// format. Before a network's ADD, a owed entry in that same format
// (the configuration, arguments and netns the DEL needs, an empty result,
// and the capability key io.github.netplumb.ocicni/pending-del) is written
// durably: temporary file, fsync, rename, directory fsync, mode 0600 in a
// 0700 directory, never through a symlink. A successful ADD replaces it
// with libcni's entry; a DEL that fails leaves it for the next teardown or
// GC. cri-o/ocicni reads these files as ordinary attachments, so upgrades
// and downgrades keep every pod. docs/crash-safety.md in the repository
// describes the format field by field.
//
// # Guarantees
//
// In short: bad input is refused before any plugin runs; a bad file is
// skipped with its reason while its neighbours load; a failed setup leaves
// nothing attached; a failing DEL is retried, never forgotten; a pod is
// torn down by the configuration that set it up; a process killed at any
// instant leaks nothing once a new instance tears down or collects; no
// configuration change is missed and none makes readiness flap; a slow
// plugin stalls no reload and no other pod. docs/guarantees.md lists each
// promise with the test that shows it.
//
// # Traces and metrics
//
// WithTracerProvider and WithMeterProvider take OpenTelemetry providers;
// without them nothing is recorded. Spans nest operation, network and
// plugin exec; metrics carry no pod identity. The instrumentation scope is
// github.com/netplumb/ocicni, and docs/telemetry.md lists every span,
// attribute and instrument.
//
// # Compatibility
//
// Code written against github.com/cri-o/ocicni/pkg/ocicni compiles against
// github.com/netplumb/ocicni/ocicni after changing only the import path:
//
//   - CNIPlugin has exactly cri-o's method set.
//   - InitCNI, InitCNIWithCache and InitCNINoInotify have cri-o's signatures
//     (they are thin wrappers over New).
//   - PodNetwork, NetAttachment, NetResult (with the embedded NetAttachment),
//     RuntimeConfig, PortMapping, IpRange, BandwidthConfig have cri-o's
//     fields; the constants DefaultInterfaceName, CNIPluginName,
//     DefaultConfDir and DefaultBinDir are there. The types live in package
//     types and are re-exported with aliases.
//
// Added beyond cri-o, all backwards compatible:
//
//   - New(opts ...Option) and the With options (configuration, logging,
//     telemetry, timeouts, readiness, concurrency); every one defaults to
//     what cri-o/ocicni does or to a bound it lacks.
//   - RuntimeConfig fields IPs, DNS, DeviceID, InfinibandGUID and Aliases,
//     sent as the ips, dns, deviceID, infinibandGUID and aliases capabilities;
//     MAC is also sent as the mac capability. IP and MAC keep working through
//     CNI_ARGS as in cri-o.
//   - (Plugin).Networks(), (Plugin).WaitReady(ctx), sentinel errors, OpError,
//     IsRetryable, and the validation a fake CNIPlugin needs
//     (ValidatePodNetwork, ValidateSandbox, ValidateGCPods, ValidateAttachment,
//     InterfaceNames).
//
// Where behaviour differs from cri-o, it differs on purpose: no caller data
// is modified, a failed setup is rolled back, teardown keeps going past a
// failing network and runs in reverse attach order, the Kubernetes K8S_POD_*
// arguments can be turned off, no nsenter or ip binary is needed, and the
// library never creates /opt/cni/bin or any other directory.
package ocicni
