package ocicni

import (
	"errors"
	"fmt"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/types"
)

// Sentinel errors, re-exported from package types so that every wing of the
// library can return them and callers need import only this package. Every
// error the library returns that belongs to one of these classes matches it
// with errors.Is, however deeply it is wrapped; see package types for what
// each one means.
var (
	// ErrNotReady: no default network, a missing plugin, or STATUS said no.
	ErrNotReady = types.ErrNotReady
	// ErrNoDefaultNetwork: no valid configuration names the default network.
	ErrNoDefaultNetwork = types.ErrNoDefaultNetwork
	// ErrNetworkNotFound: a PodNetwork named a network that is not loaded.
	ErrNetworkNotFound = types.ErrNetworkNotFound
	// ErrInvalidPodNetwork: the request was refused before any plugin ran.
	ErrInvalidPodNetwork = types.ErrInvalidPodNetwork
	// ErrPluginTimeout: a plugin was killed at its deadline.
	ErrPluginTimeout = types.ErrPluginTimeout
	// ErrPluginNotFound: a plugin binary is missing or not executable.
	ErrPluginNotFound = types.ErrPluginNotFound
	// ErrInvalidPluginOutput: a plugin's output was not a CNI document.
	ErrInvalidPluginOutput = types.ErrInvalidPluginOutput
	// ErrPluginOutputTooLarge: a plugin printed more than 4 MiB on stdout;
	// it also matches ErrInvalidPluginOutput.
	ErrPluginOutputTooLarge = types.ErrPluginOutputTooLarge
	// ErrAlreadyAttached: the sandbox already has (or owes a DEL for) the
	// attachment.
	ErrAlreadyAttached = types.ErrAlreadyAttached
	// ErrNotAttached: GetPodNetworkStatus found neither a record nor an
	// interface for the network asked about (the default one on eth0 when
	// none is named).
	ErrNotAttached = types.ErrNotAttached
	// ErrRuntimeNetNS: a setup named the runtime's own network namespace;
	// it also matches ErrInvalidPodNetwork.
	ErrRuntimeNetNS = types.ErrRuntimeNetNS
	// ErrCacheNameTaken: a setup's cache file name is another sandbox's
	// attachment's (names with '-' can collide); nothing ran.
	ErrCacheNameTaken = types.ErrCacheNameTaken
	// ErrShutdown: the plugin was shut down before the call.
	ErrShutdown = types.ErrShutdown
	// ErrNetworkUnavailable: the default network's STATUS answered code 50.
	ErrNetworkUnavailable = types.ErrNetworkUnavailable
	// ErrLimitedConnectivity: the default network's STATUS answered code
	// 51; running pods may have limited connectivity.
	ErrLimitedConnectivity = types.ErrLimitedConnectivity
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
