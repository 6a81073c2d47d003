package types

import "context"

// CNIPlugin is the interface a container runtime uses to give pods their
// networks. Its method set is identical to cri-o/ocicni's, so code written
// against that package compiles against this one after changing only the
// import path. Every method is safe for concurrent use.
type CNIPlugin interface {
	// Name returns CNIPluginName.
	Name() string

	// GetDefaultNetworkName returns the name of the current default
	// network, or "" when none is loaded.
	GetDefaultNetworkName() string

	// SetUpPod attaches the pod to its networks. On error every network
	// touched by the call, including the failing one, has been sent a DEL
	// in reverse order, so nothing is left attached.
	SetUpPod(network PodNetwork) ([]NetResult, error)

	// SetUpPodWithContext is SetUpPod bounded by ctx.
	SetUpPodWithContext(ctx context.Context, network PodNetwork) ([]NetResult, error)

	// TearDownPod detaches the pod from its networks in reverse attach
	// order, using the configuration cached at setup time. It keeps going
	// past failures, returns them joined, and succeeds when there is
	// nothing left to remove.
	TearDownPod(network PodNetwork) error

	// TearDownPodWithContext is TearDownPod bounded by ctx.
	TearDownPodWithContext(ctx context.Context, network PodNetwork) error

	// GetPodNetworkStatus reports the pod's attachments and addresses.
	GetPodNetworkStatus(network PodNetwork) ([]NetResult, error)

	// GetPodNetworkStatusWithContext is GetPodNetworkStatus bounded by ctx.
	GetPodNetworkStatusWithContext(ctx context.Context, network PodNetwork) ([]NetResult, error)

	// GC removes every cached attachment whose sandbox is not in validPods
	// and runs the CNI GC verb. Stale sandboxes are torn down under their
	// own sandbox's serialization, so setups and teardowns of other
	// sandboxes go on meanwhile; only while the CNI GC verb runs does GC
	// exclude every setup and teardown, as the CNI spec requires. One GC
	// runs at a time.
	GC(ctx context.Context, validPods []*PodNetwork) error

	// Status returns nil when the default network is loaded, its plugins
	// are present and the CNI STATUS verb reports it ready. It may answer
	// from STATUS asked in the background rather than run a plugin.
	Status() error

	// StatusWithContext is Status bounded by ctx.
	StatusWithContext(ctx context.Context) error

	// Shutdown stops the configuration watcher and every goroutine the
	// plugin started. Every operation called after it returns an error
	// matching ErrShutdown. It may be called more than once.
	Shutdown() error
}
