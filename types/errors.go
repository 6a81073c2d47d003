package types

import (
	"errors"
	"fmt"
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

	// ErrPluginOutputTooLarge means a plugin printed more on stdout than a
	// CNI result may take (4 MiB); what it printed was not kept. It also
	// matches ErrInvalidPluginOutput.
	ErrPluginOutputTooLarge = fmt.Errorf("CNI plugin output too large: %w", ErrInvalidPluginOutput)

	// ErrAlreadyAttached means SetUpPod was asked to attach a network and
	// interface that the result cache says the sandbox already has (or still
	// owes a DEL for). Running ADD again would fail in most plugins, and the
	// rollback would then remove the working attachment; tear down first.
	// A setup identical to one still in flight for the sandbox is not
	// refused but waits for its outcome, and with the library's idempotent
	// setup option a setup identical to the recorded one gets its results.
	ErrAlreadyAttached = errors.New("network already attached to the sandbox")

	// ErrNotAttached means GetPodNetworkStatus found nothing to report
	// for a network it was asked about: the sandbox has no record of the
	// attachment, and the interface is not in the pod's network namespace
	// (or the namespace is gone). With no network named, the question is
	// about the default network on eth0, as in cri-o/ocicni; so a sandbox
	// with nothing attached (one stopped, or torn down by GC) gets this
	// error, never an empty list with a nil error.
	ErrNotAttached = errors.New("network not attached to the sandbox")

	// ErrRuntimeNetNS means a setup named the runtime's own network
	// namespace (/proc/self/ns/net, or any path that leads to it) as the
	// pod's: the plugins would configure, and a rollback tear down, the
	// node's own interfaces. It comes with ErrInvalidPodNetwork.
	ErrRuntimeNetNS = errors.New("the runtime's own network namespace is no pod's")

	// ErrCacheNameTaken means SetUpPod was refused, before any plugin ran,
	// because libcni's cache file for one of the attachments is held by
	// another sandbox's attachment: libcni names the file
	// <network>-<sandbox>-<ifname>, and network names and sandbox IDs may
	// contain '-', so sandbox a-b on network c and sandbox b on network
	// c-a would share c-a-b-eth0. Setting one up would overwrite the
	// other's record. Pick another interface name or sandbox ID.
	ErrCacheNameTaken = errors.New("CNI cache file name held by another sandbox's attachment")

	// ErrShutdown means the plugin was shut down before the call: every
	// pod operation, GC, Status and WaitReady called after Shutdown
	// returns an error matching it.
	ErrShutdown = errors.New("CNI plugin shut down")
)
