package ocicni

import (
	"context"
	"io"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

const (
	// DefaultPluginTimeout was the one bound of every plugin exec.
	//
	// Deprecated: the bounds are per verb now; see DefaultTimeouts.
	DefaultPluginTimeout = 2 * time.Minute

	// DefaultCacheDir is libcni's result cache directory.
	DefaultCacheDir = "/var/lib/cni"

	// DefaultPollInterval is how often directories are polled when inotify
	// cannot be had.
	DefaultPollInterval = 2 * time.Second

	// DefaultGCHoldBack is how long GC holds new pod operations back while
	// it waits for those in flight to end before the CNI GC verb.
	DefaultGCHoldBack = time.Second

	// rollbackTimeout bounds the DELs of a failed setup, which run on a
	// context detached from the caller's so that a cancelled caller still
	// gets its half-made attachments removed.
	rollbackTimeout = time.Minute
)

// Option configures a Plugin built by New.
type Option func(*options)

type options struct {
	confDir          string
	binDirs          []string
	cacheDir         string
	defaultNetwork   string
	watch            bool
	pollInterval     time.Duration
	logger           logrus.FieldLogger
	exec             invoke.Exec
	timeouts         Timeouts
	networkTimeouts  map[string]Timeouts
	kubernetesArgs   bool
	envKeys          []string // nil: plugins get the whole environment
	gcWorkers        int      // stale sandboxes GC tears down at once
	gcHoldBack       time.Duration
	parallelNetworks bool
	execLimit        int // plugin execs at once; 0 is no bound
	pluginProcs      int // GOMAXPROCS for plugins; 0 leaves it alone
	tracerProvider   trace.TracerProvider
	meterProvider    metric.MeterProvider
	readiness        readinessOptions
	idempotentSetup  bool
	// setupPause, set by tests alone, is called by a setup between
	// registering in its namespace and writing its records: the window a
	// DEL no record vouches for must not run into (see netnsLocks).
	setupPause func(ctx context.Context, id string)
}

func defaultOptions() options {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	// At panic level no entry is built or formatted, only to be thrown
	// away: the lines a pod logs cost about 75 µs of CPU otherwise.
	quiet.SetLevel(logrus.PanicLevel)
	return options{
		confDir:        DefaultConfDir,
		binDirs:        []string{DefaultBinDir},
		cacheDir:       DefaultCacheDir,
		watch:          true,
		pollInterval:   DefaultPollInterval,
		logger:         quiet,
		timeouts:       DefaultTimeouts(),
		kubernetesArgs: true,
		gcWorkers:      defaultGCWorkers,
		gcHoldBack:     DefaultGCHoldBack,
		tracerProvider: tracenoop.NewTracerProvider(),
		meterProvider:  metricnoop.NewMeterProvider(),
	}
}

// WithConfDir sets the directory of network configuration files (default
// DefaultConfDir). It need not exist yet.
func WithConfDir(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.confDir = dir
		}
	}
}

// WithBinDirs sets the directories searched for plugin binaries, in order
// (default DefaultBinDir). They are never created by the library.
func WithBinDirs(dirs ...string) Option {
	return func(o *options) {
		var kept []string
		for _, d := range dirs {
			if d != "" {
				kept = append(kept, d)
			}
		}
		if len(kept) > 0 {
			o.binDirs = kept
		}
	}
}

// WithCacheDir sets libcni's result cache directory (default
// DefaultCacheDir). Rootless runtimes point it somewhere writable.
func WithCacheDir(dir string) Option {
	return func(o *options) {
		if dir != "" {
			o.cacheDir = dir
		}
	}
}

// WithDefaultNetwork names the default network. Without it, the first valid
// configuration file in byte order of its name is the default.
func WithDefaultNetwork(name string) Option {
	return func(o *options) { o.defaultNetwork = name }
}

// WithWatch turns directory watching on (the default) or off. With it off,
// every operation first checks the directories' listings and file stamps
// and reloads if they changed, so no change is missed either way.
func WithWatch(on bool) Option {
	return func(o *options) { o.watch = on }
}

// WithPollInterval sets how often directories are polled when inotify is
// unavailable (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pollInterval = d
		}
	}
}

// WithLogger sets the logger. Without it, New logs nothing; the InitCNI
// constructors log to logrus's standard logger, as cri-o/ocicni does.
func WithLogger(l logrus.FieldLogger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithExec replaces the process runner used for plugins, mainly for tests.
// The library still applies its deadlines and error wrapping around it.
func WithExec(e invoke.Exec) Option {
	return func(o *options) { o.exec = e }
}

// WithPluginTimeout bounds each plugin exec whose context has no earlier
// deadline to d, whatever its verb; zero or less disables the bound. It
// replaces every bound of DefaultTimeouts; WithTimeouts after it changes
// single verbs, WithNetworkTimeouts single networks.
func WithPluginTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			d = -1
		}
		o.timeouts = Timeouts{Add: d, Del: d, Check: d, Status: d, GC: d, Version: d}
	}
}

// WithKubernetesArgs chooses whether K8S_POD_NAMESPACE, K8S_POD_NAME,
// K8S_POD_INFRA_CONTAINER_ID and K8S_POD_UID are sent in CNI_ARGS (default
// true). Runtimes that are not Kubernetes, such as podman, turn it off.
func WithKubernetesArgs(on bool) Option {
	return func(o *options) { o.kubernetesArgs = on }
}

// WithPluginEnvironment limits the environment every plugin receives to
// PATH, the CNI_* variables and the named keys. Without it a plugin gets
// the runtime's whole environment, as libcni passes it on, which can hand
// credentials, tokens or proxy settings of the runtime to every plugin
// binary in the plugin dirs. With tracing on, TRACEPARENT and TRACESTATE
// (the exec span's W3C trace context) are always passed.
func WithPluginEnvironment(keys ...string) Option {
	return func(o *options) { o.envKeys = append([]string{}, keys...) }
}

// WithParallelNetworks makes SetUpPod run the ADDs of a pod's networks
// concurrently, and teardown, rollback and GC their DELs, instead of one
// after another (the default). Interface names are assigned before any
// plugin runs, results come back in request order, and rollback, the
// write-ahead records and the errors are those of the serial path. Leave
// it off when one network's plugins depend on the work of an earlier
// network's (a second network routed over the first one's interface, say):
// the CNI spec says nothing of concurrent plugin calls in one netns.
func WithParallelNetworks(on bool) Option {
	return func(o *options) { o.parallelNetworks = on }
}

// WithGCHoldBack bounds how long GC holds new setups, teardowns and status
// calls back while it waits for those in flight to end before it sends the
// CNI GC verb, which the spec forbids while an ADD or DEL runs (default
// DefaultGCHoldBack). Past the bound, new operations go ahead and the verb
// waits, still bounded by GC's context, for an instant with none in
// flight; the stale attachments' DELs have run either way. Zero or less
// never holds operations back.
func WithGCHoldBack(d time.Duration) Option {
	return func(o *options) { o.gcHoldBack = d }
}
