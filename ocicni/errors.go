package ocicni

import (
	"context"
	"errors"
	"fmt"

	cnitypes "github.com/containernetworking/cni/pkg/types"
)

// Sentinel errors. Every error the library returns that belongs to one of
// these classes matches it with errors.Is, however deeply it is wrapped.
var (
	// ErrNotReady means the plugin cannot set up pods yet: there is no
	// default network, one of its plugins is missing, or the CNI STATUS
	// verb reported it not ready. Status and SetUpPod return it.
	ErrNotReady = errors.New("CNI network not ready")

	// ErrNoDefaultNetwork means no valid configuration names the default
	// network. It always comes together with ErrNotReady.
	ErrNoDefaultNetwork = errors.New("no default CNI network")

	// ErrNetworkNotFound means a PodNetwork named a network that is not
	// loaded.
	ErrNetworkNotFound = errors.New("CNI network not found")

	// ErrInvalidPodNetwork means the PodNetwork was refused before any
	// plugin ran: a bad sandbox ID, interface name, address, port, netns
	// path or argument value.
	ErrInvalidPodNetwork = errors.New("invalid pod network")

	// ErrPluginTimeout means a plugin was killed because its deadline (the
	// caller's, or the plugin default set with WithPluginTimeout) passed.
	// The error also matches context.DeadlineExceeded.
	ErrPluginTimeout = errors.New("CNI plugin timed out")

	// ErrPluginNotFound means a plugin binary named by a configuration is
	// not in any plugin directory, or is not executable.
	ErrPluginNotFound = errors.New("CNI plugin binary not found")

	// ErrInvalidPluginOutput means a plugin exited but its output was not
	// a CNI result or error: garbage, nothing, or a crash by signal.
	ErrInvalidPluginOutput = errors.New("CNI plugin produced invalid output")

	// ErrAlreadyAttached means SetUpPod was asked to attach a network and
	// interface that the result cache says the sandbox already has (or still
	// owes a DEL for). Running ADD again would fail in most plugins, and the
	// rollback would then remove the working attachment; tear down first.
	ErrAlreadyAttached = errors.New("network already attached to the sandbox")

	// ErrShutdown means the plugin was shut down before the call.
	ErrShutdown = errors.New("CNI plugin shut down")
)

// IsRetryable reports whether err carries a CNI error with code 11 ("try
// again later"), meaning the same call may succeed if repeated later.
func IsRetryable(err error) bool {
	var ce *cnitypes.Error
	return errors.As(err, &ce) && ce.Code == cnitypes.ErrTryAgainLater
}

// OpError is returned by pod operations when a network attachment fails. It
// names the pod, the network and the operation, and unwraps to the inner
// error, so errors.As finds the plugin's *types.Error (with its code) and
// errors.Is finds the sentinels above.
type OpError struct {
	// Op is "add" (setup), "del" (teardown, or the rollback of a failed
	// setup), "status" (GetPodNetworkStatus, CHECK included) or "gc" (a
	// stale attachment GC DELs).
	Op string
	// Pod is "namespace/name" (or the sandbox ID when both are empty).
	Pod string
	// ID is the sandbox ID.
	ID string
	// Network is the network name.
	Network string
	// Ifname is the interface name.
	Ifname string
	// Err is the underlying error.
	Err error
}

// Error names the operation, network, interface, pod and sandbox, then
// the underlying error.
func (e *OpError) Error() string {
	return fmt.Sprintf("%s network %q (ifname %s) for pod %s (sandbox %s): %v", e.Op, e.Network, e.Ifname, e.Pod, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// invalidf builds an ErrInvalidPodNetwork error.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPodNetwork, fmt.Sprintf(format, args...))
}

// ctxErr turns a cancelled context into an error that says what timed out,
// because libcni reports a killed plugin only as "signal: killed".
func ctxErr(ctx context.Context, what string) error {
	switch err := ctx.Err(); {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w: %w", what, ErrPluginTimeout, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
