// Package pluginexec runs one CNI plugin binary: it finds the binary, runs
// it in a process group of its own under a deadline, captures its stderr
// for the log, retries an exec that hits a binary being replaced, and turns
// every way a plugin can fail into an error the caller can classify with
// the sentinels of package types. It knows nothing of networks or pods.
package pluginexec

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"
)

// Runner is the invoke.Exec handed to libcni. It adds what libcni leaves
// out: a per-exec deadline, errors that name the plugin and say it timed
// out, a check that the output is a CNI document, stderr routed to the
// logger with the operation's fields, a working "text file busy" retry, and
// the killing of the plugin's whole process group when it is cancelled.
// A Runner is immutable and safe for concurrent use.
type Runner struct {
	inner    invoke.Exec // nil means run the binary directly
	timeouts Timeouts
	log      logrus.FieldLogger
	env      envFilter
	tel      Telemetry
	admit    *Admission
	procs    int
}

var _ invoke.Exec = (*Runner)(nil)

// Config says how a Runner runs plugins.
type Config struct {
	// Inner replaces the process runner (tests); nil runs binaries directly.
	Inner invoke.Exec
	// Timeouts bounds every exec whose context has no earlier deadline,
	// by verb and network.
	Timeouts Timeouts
	// Log receives the plugins' stderr and the retry notes.
	Log logrus.FieldLogger
	// EnvKeys, when not nil, limits the environment a plugin receives to
	// PATH, the CNI_* variables and these keys.
	EnvKeys []string
	// Telemetry receives a span and a duration for every exec.
	Telemetry Telemetry
	// GOMAXPROCS, when above 0, is set in every plugin's environment.
	GOMAXPROCS int
	// Admission, when not nil, bounds the execs that run at once; the
	// wait for a slot comes before the exec's span and deadline.
	Admission *Admission
}

// New returns a Runner for cfg.
func New(cfg Config) *Runner {
	log := cfg.Log
	if log == nil {
		log = logrus.New()
	}
	return &Runner{inner: cfg.Inner, timeouts: cfg.Timeouts, log: log, env: newEnvFilter(cfg.EnvKeys), tel: cfg.Telemetry.orNoop(), admit: cfg.Admission, procs: cfg.GOMAXPROCS}
}

// ExecPlugin runs one plugin and returns its stdout. When ctx ends first
// the error matches ctx's error (and ErrPluginTimeout for a deadline), and
// the plugin's process group is gone before it returns. Each exec is a
// span, child of the span ctx carries.
func (r *Runner) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	name := filepath.Base(pluginPath)
	cmd := envValue(environ, "CNI_COMMAND")
	asked := time.Now()
	release, err := r.admit.Acquire(ctx, cmd, niceFor(ctx) > 0)
	if err != nil {
		return nil, fmt.Errorf("plugin %s (%s): waiting for an exec slot: %w", name, cmd, err)
	}
	defer release()
	if waited := time.Since(asked); r.admit != nil && waited > time.Millisecond {
		r.log.WithFields(LogFields(ctx)).WithFields(logrus.Fields{"plugin": name, "command": cmd, "waited": waited}).
			Debug("plugin waited for an exec slot (WithExecLimit)")
	}
	ctx, span := r.tel.startExec(ctx, name, cmd, stdinData, environ)
	out, err := r.exec(ctx, name, cmd, pluginPath, stdinData, environ)
	span.end(err)
	return out, err
}

func (r *Runner) exec(ctx context.Context, name, cmd, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	what := fmt.Sprintf("plugin %s (%s)", name, cmd)
	if d := r.timeouts.forExec(cmd, stdinData); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	log := r.log.WithFields(LogFields(ctx)).WithFields(logrus.Fields{"plugin": name, "command": cmd})
	environ = withTraceContext(ctx, withGOMAXPROCS(r.env.apply(environ), r.procs))

	gate := gateFor(ctx, cmd)
	var out []byte
	var err error
	if r.inner == nil {
		out, err = run(ctx, log, pluginPath, stdinData, environ, launch{gate: gate, nice: niceFor(ctx)})
	} else if err = gate.hold(ctx); err == nil {
		// A replacement runner cannot be handed a held stdin, so the whole
		// exec waits for the gate.
		out, err = r.inner.ExecPlugin(ctx, pluginPath, stdinData, environ)
	}
	if ctx.Err() != nil {
		if err == nil {
			err = errors.New("cancelled")
		}
		return nil, ContextError(ctx, fmt.Errorf("%s: %w", what, err))
	}
	if err != nil {
		var ce *cnitypes.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := checkOutput(cmd, stdinData, out); err != nil {
		return nil, fmt.Errorf("%s %w", what, err)
	}
	return out, nil
}

// FindInPath finds a plugin binary and checks it can be executed.
func (r *Runner) FindInPath(plugin string, paths []string) (string, error) {
	if r.inner != nil {
		p, err := r.inner.FindInPath(plugin, paths)
		if err != nil {
			return "", fmt.Errorf("%w: %w", errPluginNotFound, err)
		}
		return p, nil
	}
	p, _, err := Find(plugin, paths)
	return p, err
}

// Decode parses a VERSION answer.
func (r *Runner) Decode(jsonBytes []byte) (version.PluginInfo, error) {
	if r.inner != nil {
		return r.inner.Decode(jsonBytes)
	}
	var d version.PluginDecoder
	return d.Decode(jsonBytes)
}
